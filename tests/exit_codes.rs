//! Every documented exit code, provoked for real.

mod common;

use std::thread;

use common::*;
use rumqttc::{Packet, SubAck, SubscribeReasonCode};

#[test]
fn refused_port_is_3() {
    let out = run(
        &[
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
            "-t",
            "x",
            "-m",
            "x",
        ],
        b"",
    );
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("connection refused"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_host_is_3() {
    let out = run(&["sub", "-h", "no-such-host.invalid", "-t", "x"], b"");
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("cannot resolve host name 'no-such-host.invalid'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn credentials_good_and_bad() {
    let broker = Broker::with_password("alice", "s3cret-pw");
    // Anonymous: refused (5).
    let out = run_on(&broker, &["pub", "-t", "x", "-m", "x"]);
    assert_code(&out, 5);
    assert!(
        stderr(&out)
            .contains("not authorised (check the user name and password, and the broker's ACL)"),
        "{}",
        stderr(&out)
    );
    // Wrong password: refused (5), and the password is not echoed.
    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "x",
            "-m",
            "x",
            "-u",
            "alice",
            "-P",
            "wrong-pw-123",
        ],
    );
    assert_code(&out, 5);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("wrong-pw-123"));
    assert!(!stderr(&out).contains("no password was given"));
    // A user name alone: what was missing is said, on both protocol versions.
    for version in ["3.1.1", "5"] {
        let out = run_on(
            &broker,
            &["pub", "-V", version, "-t", "x", "-m", "x", "-u", "alice"],
        );
        assert_code(&out, 5);
        assert!(
            stderr(&out).contains("; no password was given (-P, --password-file, MQTT_PASSWORD"),
            "{}",
            stderr(&out)
        );
    }
    // Right password three ways: -P, MQTT_PASSWORD, --password-file.
    assert_code(
        &run_on(
            &broker,
            &[
                "pub",
                "-t",
                "x",
                "-m",
                "x",
                "-u",
                "alice",
                "-P",
                "s3cret-pw",
            ],
        ),
        0,
    );
    let args = command("pub", &broker, &["-t", "x", "-m", "x", "-u", "alice", "-d"]);
    let out = cli()
        .args(&args)
        .env("MQTT_PASSWORD", "s3cret-pw")
        .output()
        .expect("run");
    assert_code(&out, 0);
    assert!(
        !stderr(&out).contains("s3cret-pw"),
        "password in debug output"
    );
    assert!(
        stderr(&out).contains("password <redacted>"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "s3cret-pw\n").expect("write");
    let with_password_file = |path: &std::path::Path| {
        let path = path.to_str().expect("utf-8");
        run_on(
            &broker,
            &[
                "pub",
                "-t",
                "x",
                "-m",
                "x",
                "-u",
                "alice",
                "--password-file",
                path,
            ],
        )
    };
    assert_code(&with_password_file(&file), 0);
    // URL credentials.
    let url = format!("mqtt://alice:s3cret-pw@127.0.0.1:{}", broker.port);
    assert_code(&run(&["pub", "-L", &url, "-t", "x", "-m", "x"], b""), 0);
    // A password file that is a directory: bad input (2), named.
    let out = with_password_file(dir.path());
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("password file") && stderr(&out).contains("is not a regular file"),
        "{}",
        stderr(&out)
    );
}

/// A scripted broker that refuses every subscription whose filter starts with "denied".
fn fake_broker_refusing_subscriptions() -> (u16, thread::JoinHandle<()>) {
    fake_broker(|client| {
        client.accept();
        let Packet::Subscribe(subscribe) = client.expect() else {
            panic!("expected SUBSCRIBE")
        };
        let codes = subscribe
            .filters
            .iter()
            .map(|filter| {
                if filter.path.starts_with("denied") {
                    SubscribeReasonCode::Failure
                } else {
                    SubscribeReasonCode::Success(filter.qos)
                }
            })
            .collect();
        client.send(Packet::SubAck(SubAck::new(subscribe.pkid, codes)));
        client.until_disconnect();
    })
}

#[test]
fn suback_failure_is_6_and_names_the_filter() {
    let (port, broker) = fake_broker_refusing_subscriptions();
    let out = run(
        &[
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "fine/#",
            "-t",
            "denied/secret",
        ],
        b"",
    );
    assert_code(&out, 6);
    assert!(
        stderr(&out)
            .contains("refused the subscription to 'denied/secret': Failure (return code 0x80)"),
        "{}",
        stderr(&out)
    );
    // MQTT 3.1.1 has return codes, not MQTT 5's reason codes.
    assert!(
        !stderr(&out).contains("Unspecified error"),
        "{}",
        stderr(&out)
    );
    broker.join().expect("fake broker");
}

#[test]
fn count_not_reached_in_time_is_7() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "slow", "-C", "3", "-W", "1s"]);
    assert_code(
        &run_on(&broker, &["pub", "-t", "slow", "-m", "only one"]),
        0,
    );
    let out = sub.finish();
    assert_code(&out, 7);
    assert_eq!(stdout(&out), "only one\n");
    assert!(stderr(&out).contains("received 1 of 3"), "{}", stderr(&out));
}

#[test]
fn connection_lost_is_8() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "x", "--reconnect-timeout", "1s"]);
    drop(broker);
    let out = sub.finish();
    assert_code(&out, 8);
    assert!(
        stderr(&out).contains("connection lost")
            && stderr(&out).contains("could not reconnect within 1s"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn port_zero_is_2() {
    let out = run(&["pub", "-p", "0", "-t", "a", "-m", "x"], b"");
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("0 is not in 1..=65535"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_documents_exit_codes_and_password_safety() {
    for command in [&["--help"][..], &["pub", "--help"], &["sub", "--help"]] {
        let out = run(command, b"");
        assert_code(&out, 0);
        let help = stdout(&out);
        assert!(help.contains("Exit codes:"), "{command:?}");
        assert!(
            help.contains("MQTT_PASSWORD or --password-file"),
            "{command:?}"
        );
    }
}

/// A scripted broker that accepts the connection and publishes but never acknowledges them.
fn fake_broker_never_acking() -> (u16, thread::JoinHandle<()>) {
    fake_broker(|client| {
        client.accept();
        client.until_disconnect();
    })
}

/// `pub` of a message every 50 ms at QoS 1, until interrupted.
fn endless_qos1_publisher(port: u16) -> Vec<String> {
    let port = port.to_string();
    [
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "x",
        "-m",
        "x",
        "-q",
        "1",
    ]
    .into_iter()
    .chain(["--repeat", "0", "--interval", "50ms"])
    .map(String::from)
    .collect()
}

#[test]
fn ctrl_c_waits_for_owed_acks_and_a_second_one_exits_130() {
    let (port, broker) = fake_broker_never_acking();
    let args = endless_qos1_publisher(port);
    let mut publisher = Background::spawn(&args, "sent PUBLISH");
    publisher.signal("INT");
    // Still waiting for the PUBACKs it is owed: it says so, and does not leave.
    publisher.wait_for_stderr("interrupted: waiting up to 10s for the acknowledgements owed");
    assert!(
        publisher.is_running(),
        "the first Ctrl+C must wait for owed acknowledgements"
    );
    // ...until a second Ctrl+C.
    let started = std::time::Instant::now();
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 130);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert!(
        stderr(&out).contains("interrupted twice"),
        "{}",
        stderr(&out)
    );
    drop(broker);
}

#[test]
fn owed_acks_are_awaited_ten_seconds_after_ctrl_c_then_exit_7() {
    let (port, broker) = fake_broker_never_acking();
    let args = endless_qos1_publisher(port);
    let publisher = Background::spawn(&args, "sent PUBLISH");
    let started = std::time::Instant::now();
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 7);
    assert!(started.elapsed() >= std::time::Duration::from_secs(10));
    assert!(
        stderr(&out).contains("the rest were not within 10s"),
        "{}",
        stderr(&out)
    );
    drop(broker);
}

/// A broker that takes UNSUBSCRIBE (or SUBSCRIBE) and never acknowledges it.
fn fake_broker_without_acks() -> (u16, std::thread::JoinHandle<()>) {
    fake_broker(|client| {
        client.accept();
        client.until_disconnect();
    })
}

#[test]
fn an_owed_unsuback_or_suback_is_bounded_and_named() {
    let run_against = |args: &'static [&'static str]| {
        std::thread::spawn(move || {
            let (port, broker) = fake_broker_without_acks();
            let out = run_on_port(port, args);
            broker.join().expect("fake broker");
            out
        })
    };
    // With -W, within it; without, within the default 10 s (it used to wait for ever).
    let with_deadline = run_against(&["sub", "-c", "-i", "gone", "-U", "old/#", "-W", "2s"]);
    let without = run_against(&["sub", "-c", "-i", "gone", "-U", "old/#"]);
    let suback = run_against(&["sub", "-t", "new/#", "-W", "2s"]);
    for (out, needle) in [
        (with_deadline, "no UNSUBACK for 'old/#' (-U) within 2s"),
        (without, "no UNSUBACK for 'old/#' (-U) within 10s"),
        (suback, "no SUBACK for 'new/#' within 2s"),
    ] {
        let out = out.join().expect("run");
        assert_code(&out, 7);
        assert!(
            stderr(&out).contains(needle),
            "{needle:?} in:\n{}",
            stderr(&out)
        );
    }
}

/// QoS 0 has no acknowledgement: what pub says of its messages is what it knows (written, and
/// read by the broker as its close confirms), never "acknowledged".
#[test]
fn qos0_is_said_written_never_acknowledged() {
    let broker = Broker::start();
    let args = command(
        "pub",
        &broker,
        &[
            "-t",
            "x",
            "-m",
            "x",
            "-q",
            "0",
            "--repeat",
            "0",
            "--interval",
            "50ms",
        ],
    );
    let publisher = Background::spawn(&args, "sent PUBLISH");
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 0);
    let text = stderr(&out);
    assert!(
        text.contains("message(s) published (QoS 0: written, and read by the broker"),
        "{text}"
    );
    assert!(!text.contains("acknowledge"), "{text}");
}
