//! A reader that stops reading must not stop the MQTT session: keepalives go on, the broker
//! holds QoS 1 messages (its in-flight window), and everything arrives once the reader reads.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn a_reader_that_stops_for_10_s_loses_nothing_and_the_connection_stays_up() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let payload = dir.path().join("payload");
    // 600 x 10 KB: far more than the pipe (64 KiB) and the output queue (1 MiB) hold.
    std::fs::write(&payload, vec![b'x'; 10_000]).expect("write payload");
    let count = 600;

    let args = command(
        "sub",
        &broker,
        &[
            "-t",
            "big",
            "-q",
            "1",
            "-k",
            "2",
            "-C",
            &count.to_string(),
            "-i",
            "slow-reader",
        ],
    );
    let mut sub = cli()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sub");
    broker.wait_for_subscription("slow-reader");
    let published = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "big",
            "-q",
            "1",
            "-f",
            &payload.display().to_string(),
            "--repeat",
            &count.to_string(),
        ],
    );
    assert_code(&published, 0);

    // The reader pauses (a paused `less`): five keepalive periods, 3 1/3 times the broker's
    // 1.5 x keepalive limit.
    std::thread::sleep(Duration::from_secs(10));
    let mut stdout = sub.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        stdout.read_to_end(&mut all).expect("read");
        all
    });
    let out = wait_output(sub, STEP);
    let printed = reader.join().expect("reader");
    assert_code(&out, 0);
    let lines: Vec<&[u8]> = printed
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), count, "messages printed");
    assert!(lines.iter().all(|line| line.len() == 10_000));
    let err = stderr(&out);
    assert!(
        !err.contains("reconnecting") && !err.contains("lost"),
        "the connection dropped:\n{err}"
    );
    let log = broker.log();
    assert!(
        !log.contains("slow-reader has exceeded timeout"),
        "the broker timed the subscriber out:\n{log}"
    );
}

/// A subscriber that prints more slowly than it reads (here `-F %J`, drained from a queue the
/// broker sends all at once: mosquitto does not hold queued messages to its in-flight window)
/// acknowledges as it goes. The event loop once read up to 1024 packets for every 64 requests
/// it wrote, so the acknowledgements of a 20,000-message drain waited in our memory, up to
/// 18,000 of them (memory grew with the queue: 16 MiB for 200,000). Now what is received and
/// not yet acknowledged stays within the session's queues (events 1024, requests 256).
fn a_drain_acknowledges_as_it_goes(version: &str) {
    let broker = Broker::with_config("allow_anonymous true\nmax_queued_messages 100000\n");
    let count = 20_000;
    let session = [
        "sub", "-t", "drain", "-q", "1", "-c", "-i", "drainer", "-V", version,
    ];
    let mut subscribe = session.to_vec();
    subscribe.push("-E");
    assert_code(&run_on(&broker, &subscribe), 0);
    let lines: String = (0..count).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    let queued = run_args(
        &command("pub", &broker, &["-t", "drain", "-q", "1", "-l"]),
        lines.as_bytes(),
    );
    assert_code(&queued, 0);

    let mut drain = session.to_vec();
    let wanted = count.to_string();
    drain.extend(["-C", &wanted, "-F", "%J", "-d"]);
    let out = run_on(&broker, &drain);
    assert_code(&out, 0);
    assert_eq!(stdout(&out).lines().count(), count, "messages printed");
    let (mut received, mut acknowledged, mut most) = (0usize, 0usize, 0usize);
    for line in stderr(&out).lines() {
        if line.contains("received PUBLISH") {
            received += 1;
        } else if line.contains("sent PUBACK") {
            acknowledged += 1;
        }
        most = most.max(received - acknowledged.min(received));
    }
    assert_eq!((received, acknowledged), (count, count));
    assert!(
        most < 2000,
        "{most} messages were received and not yet acknowledged at once"
    );
}

#[test]
fn a_drain_over_mqtt_3_1_1_acknowledges_as_it_goes() {
    a_drain_acknowledges_as_it_goes("mqttv311");
}

#[test]
fn a_drain_over_mqtt_5_acknowledges_as_it_goes() {
    a_drain_acknowledges_as_it_goes("mqttv5");
}
