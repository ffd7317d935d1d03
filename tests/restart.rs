//! Broker restarts in the middle of a run: the real mosquitto is stopped (SIGTERM, so it saves
//! its persistent state) and started again on the same port. `sub` and `pub` reconnect, and
//! nothing is lost. Also a connection reset (RST) by a scripted broker.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// How many times each number 1..=total appears in `text` (one per line).
fn tally(text: &str, total: usize) -> BTreeMap<usize, usize> {
    let mut seen = BTreeMap::new();
    for line in text.lines() {
        let n: usize = line.parse().unwrap_or_else(|_| panic!("odd line {line:?}"));
        assert!((1..=total).contains(&n), "unexpected {n}");
        *seen.entry(n).or_insert(0) += 1;
    }
    seen
}

/// Publishes 1..=total with `pub -l` (stdin written at a steady pace from a thread), restarting
/// the broker halfway through; returns pub's output.
fn publish_lines_across_a_restart(
    broker: &mut Broker,
    total: usize,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["-t", "seq", "-l"];
    args.extend(extra);
    let mut child = cli()
        .args(command("pub", broker, &args))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pub");
    let mut stdin = child.stdin.take().expect("stdin");
    let (halfway, reached) = std::sync::mpsc::channel();
    let writer = thread::spawn(move || {
        let chunks = (1..=total).collect::<Vec<_>>();
        let chunks: Vec<_> = chunks.chunks(500).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            let text: String = chunk.iter().map(|n| format!("{n}\n")).collect();
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
            if index == chunks.len() / 2 {
                let _ = halfway.send(());
            }
            // A steady pace, so that the restart falls in the middle of the run.
            thread::sleep(Duration::from_millis(25));
        }
    });
    // Half of the lines are in pub's hands: restart the broker under it.
    reached.recv().expect("the writer reached halfway");
    broker.restart();
    writer.join().expect("writer");
    wait_output(child, Duration::from_secs(60))
}

/// Everything a persistent subscriber `id` has queued, drained until it stays quiet (5 s: a
/// broker that just restarted and loaded its store took more than 1 s to send the SUBACK on a
/// loaded machine).
fn drain(broker: &Broker, id: &str, qos: &str) -> String {
    let out = run_on(
        broker,
        &["sub", "-t", "seq", "-q", qos, "-c", "-i", id, "-W", "5s"],
    );
    assert_code(&out, 0);
    stdout(&out)
}

#[test]
fn pub_lines_at_qos1_arrive_at_least_once_across_a_restart() {
    let mut broker = Broker::persistent("max_queued_messages 1000000\n");
    let total = 20_000;
    // A persistent subscriber: the broker queues for it while it is away.
    assert_code(
        &run_on(
            &broker,
            &["sub", "-t", "seq", "-q", "1", "-c", "-i", "s1", "-E"],
        ),
        0,
    );
    let sub = Background::sub(&broker, &["-t", "seq", "-q", "1", "-c", "-i", "s1"]);
    // A clean session for pub: after the restart the broker has no session for it, so what
    // was not acknowledged is sent again as new messages.
    let out = publish_lines_across_a_restart(&mut broker, total, &["-q", "1"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("reconnecting"), "{}", stderr(&out));
    sub.signal("TERM");
    let mut received = stdout(&sub.finish());
    received.push_str(&drain(&broker, "s1", "1"));
    let seen = tally(&received, total);
    assert_eq!(seen.len(), total, "lines missing at QoS 1");
}

#[test]
fn pub_lines_at_qos2_arrive_exactly_once_when_the_broker_keeps_the_session() {
    let mut broker = Broker::persistent("max_queued_messages 1000000\nlog_type debug\n");
    let total = 20_000;
    assert_code(
        &run_on(
            &broker,
            &["sub", "-t", "seq", "-q", "2", "-c", "-i", "s2", "-E"],
        ),
        0,
    );
    // The subscriber's session stays offline during the run, so that only the publisher's side
    // crosses the restart.
    let out = publish_lines_across_a_restart(&mut broker, total, &["-q", "2", "-c", "-i", "p2"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("reconnecting"), "{}", stderr(&out));
    let count = total.to_string();
    let queued = run_on(
        &broker,
        &[
            "sub", "-t", "seq", "-q", "2", "-c", "-i", "s2", "-C", &count, "-W", "60s",
        ],
    );
    assert_code(&queued, 0);
    // Whatever is still queued after `total` messages is a duplicate.
    let mut received = stdout(&queued);
    received.push_str(&drain(&broker, "s2", "2"));
    let seen = tally(&received, total);
    assert_eq!(seen.len(), total, "lines missing at QoS 2");
    let twice: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
    // Each message went out once as new (DUP 0); a retransmission after the restart carries
    // DUP and its packet id, so the broker can tell it from a new message (its debug log).
    let log = broker.log();
    let new = log.matches("Received PUBLISH from p2 (d0, q2").count();
    let again = log.matches("Received PUBLISH from p2 (d1, q2").count();
    assert!(
        new <= total && new + again >= total,
        "new {new}, again {again}"
    );
    assert!(
        twice.is_empty(),
        "delivered more than once: {} lines",
        twice.len()
    );
    // Leave no session behind.
    assert_code(&run_on(&broker, &["sub", "-t", "seq", "-i", "p2", "-E"]), 0);
}

#[test]
fn a_persistent_sub_gets_what_was_published_while_the_broker_restarted() {
    for (qos, extra) in [("1", &["-c"][..]), ("2", &["-V", "5", "-x", "60"])] {
        let mut broker = Broker::persistent("");
        let mut args = vec![
            "-t", "seq", "-q", qos, "-i", "watcher", "-C", "30", "-W", "30s",
        ];
        args.extend(extra);
        let sub = Background::sub(&broker, &args);
        let publish = |broker: &Broker, from: usize| {
            let lines: String = (from..from + 10).map(|n| format!("{n}\n")).collect();
            let out = run_args(
                &command("pub", broker, &["-t", "seq", "-l", "-q", qos]),
                lines.as_bytes(),
            );
            assert_code(&out, 0);
        };
        publish(&broker, 1);
        broker.restart();
        // Published before the subscriber is back: queued in its session.
        publish(&broker, 11);
        // ...and after: the watcher has connected a second time (the broker's log goes on
        // across the restart).
        broker.wait_for_connection("watcher", 2);
        publish(&broker, 21);
        let got = sub.finish();
        assert_code(&got, 0);
        let seen = tally(&stdout(&got), 30);
        assert_eq!(seen.len(), 30, "QoS {qos}: {}", stdout(&got));
        assert!(
            stderr(&got)
                .lines()
                .any(|line| line.starts_with("mqtt-cli: connection lost")
                    && line.ends_with("; reconnecting")),
            "one notice per drop, as the README shows it: {}",
            stderr(&got)
        );
    }
}

#[test]
fn a_clean_sub_subscribes_again_after_the_broker_lost_its_session() {
    let mut broker = Broker::persistent("");
    let mut sub = Background::spawn(
        &command("sub", &broker, &["-t", "again", "-C", "1", "-W", "20s"]),
        "received SUBACK",
    );
    broker.restart();
    // The subscription is back once a second SUBACK arrived.
    sub.wait_for_stderr("reconnected after");
    let started = Instant::now();
    loop {
        assert_code(&run_on(&broker, &["pub", "-t", "again", "-m", "back"]), 0);
        if !sub.is_running() || started.elapsed() > Duration::from_secs(10) {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    let got = sub.finish();
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "back\n");
}

#[test]
fn no_reconnect_makes_a_drop_fatal() {
    let mut broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "x", "--no-reconnect"]);
    broker.stop();
    let got = sub.finish();
    assert_code(&got, 8);
    assert!(stderr(&got).contains("connection lost"), "{}", stderr(&got));
}

#[test]
fn pub_gives_up_after_the_reconnect_timeout_and_says_how_many_were_acknowledged() {
    let mut broker = Broker::start();
    let mut publisher = Background::spawn(
        &command(
            "pub",
            &broker,
            &[
                "-t",
                "x",
                "-m",
                "tick",
                "-q",
                "1",
                "--repeat",
                "0",
                "--interval",
                "50ms",
                "--reconnect-timeout",
                "1s",
            ],
        ),
        "received PUBACK",
    );
    broker.stop();
    publisher.wait_for_stderr("reconnecting");
    let started = Instant::now();
    let got = publisher.finish();
    assert_code(&got, 8);
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = stderr(&got);
    assert!(
        text.contains("could not reconnect within 1s") && text.contains("acknowledged before"),
        "{text}"
    );
}

#[test]
fn a_connection_reset_is_reconnected_from_on_mqtt_3_1_1() {
    use rumqttc::{Packet, Publish, QoS};
    // The MQTT 3.1.1 twin of mqtt5::a_connection_reset_is_a_lost_connection_to_recover_from: the
    // first connection is closed with our PUBACK unread, so the kernel resets it (RST).
    let (port, broker) = fake_broker_connections(2, |number, client| {
        client.accept();
        client.suback_granted();
        let mut publish = Publish::new("t", QoS::AtLeastOnce, ["first", "second"][number]);
        publish.pkid = 1;
        client.send(Packet::Publish(publish));
        if number == 0 {
            // The PUBACK arrives and stays unread: closing now sends RST.
            client.wait_for_unread();
        } else {
            assert!(matches!(client.expect(), Packet::PubAck(_)));
            let _ = client.next();
        }
    });
    let out = run_on_port(port, &["sub", "-t", "t", "-q", "1", "-C", "2", "-W", "20s"]);
    // Before joining: a client that gave up never makes the second connection.
    assert!(stderr(&out).contains("reconnecting"), "{}", stderr(&out));
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "first\nsecond\n");
    broker.join().expect("fake broker");
}

/// MQTT 5 topic aliases belong to one network connection: after a reconnect the first publish
/// carries its topic again, else the broker gets an alias it never saw.
#[test]
fn a_topic_alias_is_set_up_again_after_a_reconnect() {
    let mut broker = Broker::start();
    let args = command(
        "pub",
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "alias/t",
            "-m",
            "x",
            "--topic-alias",
            "1",
            "--repeat",
            "0",
            "--interval",
            "50ms",
            "-q",
            "1",
        ],
    );
    let mut publisher = Background::spawn(&args, "topic alias 1 alone");
    broker.restart();
    publisher.wait_for_stderr("reconnecting");
    // Messages published on the new connection reach a subscriber by their topic.
    let sub = Background::sub(
        &broker,
        &["-V", "5", "-t", "alias/t", "-C", "3", "-W", "10s"],
    );
    let got = sub.finish();
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "x\nx\nx\n");
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 0);
    let log = stderr(&out);
    assert!(
        log.matches("setting topic alias 1").count() >= 2,
        "the alias was not set up again:\n{log}"
    );
}

/// A QoS 0 message counts as taken only once the broker showed, on the same connection, that it
/// read past it. One whose write failed with its connection (the broker reset it mid-message, as
/// rumqttd does past its maximum packet size) is lost, however well the reconnect goes: exit 8,
/// not 0.
#[test]
fn a_qos0_message_lost_with_its_connection_is_counted_not_forgotten() {
    for version in ["3.1.1", "5"] {
        let v5 = version == "5";
        let (port, broker) = fake_broker_connections(2, move |number, client| {
            if v5 {
                client.accept_v5();
            } else {
                client.accept();
            }
            if number == 0 {
                // The PUBLISH has begun to arrive: closing with it unread resets the
                // connection while the client is still writing (the payload is larger than
                // the sockets' buffers).
                client.wait_for_unread();
            } else if v5 {
                client.until_disconnect_v5();
            } else {
                client.until_disconnect();
            }
        });
        let dir = tempfile::tempdir().expect("temporary directory");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 48 << 20]).expect("write the payload");
        let big = big.to_str().expect("path");
        let out = run_on_port(port, &["pub", "-V", version, "-t", "t", "-f", big]);
        assert!(stderr(&out).contains("reconnecting"), "{}", stderr(&out));
        assert_code(&out, 8);
        assert!(
            stderr(&out).contains("1 QoS 0 message(s) may not have arrived"),
            "MQTT {version}: {}",
            stderr(&out)
        );
        broker.join().expect("fake broker");
    }
}

/// The same against a real broker: rumqttd resets a connection whose packet is over its
/// maximum (1 MB here) while the client is still writing it. A 2 MB QoS 0 message is never
/// reported sent (it was, in 3 of 7 runs under load), on either protocol version.
#[test]
fn a_qos0_message_over_rumqttds_limit_is_never_reported_sent() {
    if let Some(reason) = common::foreign::skipped() {
        eprintln!("skipped: {reason}");
        return;
    }
    let broker = common::foreign::Foreign::rumqttd();
    let dir = tempfile::tempdir().expect("temporary directory");
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 2_000_000]).expect("write the payload");
    let big = big.to_str().expect("path");
    let v5_port = broker.v5_port.expect("rumqttd's MQTT 5 port");
    for (version, port) in [("3.1.1", broker.port), ("5", v5_port)] {
        let out = run_on_port(port, &["pub", "-V", version, "-t", "t", "-f", big]);
        assert_code(&out, 8);
        assert!(
            stderr(&out).contains("1 QoS 0 message(s) may not have arrived"),
            "MQTT {version}: {}",
            stderr(&out)
        );
    }
}
