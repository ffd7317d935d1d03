//! Nothing lost: 100000 lines through `pub -l` at QoS 1 and 2 (MQTT 3.1.1 and 5) all arrive, in
//! order, and pub
//! exits 0 only after the last acknowledgement. (mosquitto_pub 2.0.11 loses about two thirds of
//! these and still exits 0.)

mod common;

use common::*;

const LINES: usize = 100_000;

fn all_lines_arrive(qos: &str) {
    all_lines_arrive_over(qos, "311");
}

fn all_lines_arrive_over(qos: &str, version: &str) {
    // The broker must not drop messages queued for a slower subscriber (default: 1000).
    let broker = Broker::with_config("allow_anonymous true\nmax_queued_messages 1000000\n");
    let count = LINES.to_string();
    // -W: a lost message shows up as exit 7 with a count instead of a hang.
    let sub = Background::sub(
        &broker,
        &[
            "-t", "seq", "-q", qos, "-C", &count, "-W", "50s", "-V", version,
        ],
    );
    let input: String = (1..=LINES).map(|n| format!("{n}\n")).collect();
    let args = command(
        "pub",
        &broker,
        &["-t", "seq", "-l", "-q", qos, "-V", version],
    );
    let out = run_args(&args, input.as_bytes());
    assert_code(&out, 0);
    let got = sub.finish();
    let log = broker.log();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    assert_eq!(
        got.status.code(),
        Some(0),
        "sub: {}\nbroker log (last lines, newest first):\n{}",
        stderr(&got),
        tail.join("\n")
    );
    assert!(stderr(&out).is_empty(), "pub stderr: {}", stderr(&out));
    let received = stdout(&got);
    let lines: Vec<&str> = received.lines().collect();
    assert_eq!(lines.len(), LINES, "qos {qos}: messages received");
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(
            *line,
            (index + 1).to_string(),
            "qos {qos}: message {index} out of order"
        );
    }
}

#[test]
fn hundred_thousand_lines_at_qos1() {
    all_lines_arrive("1");
}

#[test]
fn hundred_thousand_lines_at_qos2() {
    all_lines_arrive("2");
}

#[test]
fn hundred_thousand_lines_at_qos1_over_mqtt5() {
    all_lines_arrive_over("1", "5");
}

#[test]
fn hundred_thousand_lines_at_qos2_over_mqtt5() {
    all_lines_arrive_over("2", "5");
}
