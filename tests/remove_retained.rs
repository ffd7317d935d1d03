//! `sub --remove-retained`: every retained message under the filter is cleared, our own clears
//! coming back as live messages never end the run (nor are printed), and the clearing is then
//! verified by subscribing again: a run exits 0 only when nothing it was asked to clear is left.
//! Against mosquitto, aedes (which interleaves retained and live messages) and rumqttd, and a
//! scripted broker for the orders and refusals real brokers do not show on demand.

mod common;

use common::foreign::{Foreign, skipped};
use common::*;
use rumqttc::{Packet, PubAck, Publish, QoS, SubAck, SubscribeReasonCode};

/// Publishes five retained messages `r/1`..`r/5` (`v1`..`v5`), each acknowledged.
fn publish_retained(broker: &[String]) {
    for n in 1..=5 {
        let mut args = vec!["pub".to_string()];
        args.extend(broker.iter().cloned());
        args.extend(
            [
                "-t",
                &format!("r/{n}"),
                "-m",
                &format!("v{n}"),
                "-r",
                "-q",
                "1",
            ]
            .map(String::from),
        );
        assert_code(&run_args(&args, b""), 0);
    }
}

fn sub(broker: &[String], rest: &[&str]) -> std::process::Output {
    let mut args = vec!["sub".to_string()];
    args.extend(broker.iter().cloned());
    args.extend(rest.iter().map(|arg| arg.to_string()));
    run_args(&args, b"")
}

/// What every run here asks: clear the retained messages under `r/#`, within 20 s.
const CLEAR: &[&str] = &[
    "-t",
    "r/#",
    "--retained-only",
    "--remove-retained",
    "-W",
    "20",
];

/// Five retained messages cleared, printed once each, and none left.
fn every_retained_message_is_cleared_and_verified(
    broker: &[String],
    name: &str,
    versions: &[&str],
) {
    for &version in versions {
        publish_retained(broker);
        let out = sub(broker, &[&["-V", version, "-v"], CLEAR].concat());
        assert_code(&out, 0);
        let mut printed: Vec<_> = stdout(&out).lines().map(String::from).collect();
        printed.sort();
        assert_eq!(
            printed,
            ["r/1 v1", "r/2 v2", "r/3 v3", "r/4 v4", "r/5 v5"],
            "{name}, MQTT {version}: {}",
            stderr(&out)
        );
        let left = sub(
            broker,
            &["-V", version, "-t", "r/#", "--retained-only", "-v"],
        );
        assert_code(&left, 0);
        assert_eq!(stdout(&left), "", "{name}, MQTT {version}: left retained");
    }
}

#[test]
fn every_retained_message_is_cleared_and_verified_on_mosquitto() {
    let broker = Broker::start();
    every_retained_message_is_cleared_and_verified(&broker.args(), "mosquitto", &["3.1.1", "5"]);
}

#[test]
fn every_retained_message_is_cleared_and_verified_on_aedes() {
    if let Some(reason) = skipped() {
        eprintln!("skipped: {reason}");
        return;
    }
    let broker = Foreign::aedes();
    // aedes 0.51 speaks MQTT 3.1.1 only.
    every_retained_message_is_cleared_and_verified(&broker.args(), broker.name, &["3.1.1"]);
}

#[test]
fn every_retained_message_is_cleared_and_verified_on_rumqttd() {
    if let Some(reason) = skipped() {
        eprintln!("skipped: {reason}");
        return;
    }
    let broker = Foreign::rumqttd();
    every_retained_message_is_cleared_and_verified(&broker.args(), broker.name, &["3.1.1"]);
}

fn retained(topic: &str, payload: &str) -> Packet {
    let mut publish = Publish::new(topic, QoS::AtMostOnce, payload.as_bytes().to_vec());
    publish.retain = true;
    Packet::Publish(publish)
}

/// Answers a clear (an empty retained QoS 1 PUBLISH) with its PUBACK; returns its topic.
fn acknowledge_clear(client: &mut FakeConnection) -> String {
    let Packet::Publish(clear) = client.expect() else {
        panic!("expected the clear");
    };
    assert!(clear.retain && clear.payload.is_empty() && clear.qos == QoS::AtLeastOnce);
    client.send(Packet::PubAck(PubAck::new(clear.pkid)));
    clear.topic
}

/// Our own clear, forwarded back as a live message before the next retained one (as aedes
/// does), neither ends the run nor is printed.
#[test]
fn our_own_clears_never_end_the_run() {
    let (port, broker) = fake_broker(|client| {
        client.accept();
        client.suback_granted();
        for (topic, payload) in [("r/1", "a"), ("r/2", "b")] {
            client.send(retained(topic, payload));
            assert_eq!(acknowledge_clear(client), topic);
            // The broker forwards the clear to us, a matching subscriber: live and empty.
            client.send(Packet::Publish(Publish::new(
                topic,
                QoS::AtMostOnce,
                vec![],
            )));
        }
        // The verifying subscription finds nothing left.
        let Packet::Subscribe(again) = client.expect() else {
            panic!("expected the verifying SUBSCRIBE");
        };
        client.send(Packet::SubAck(SubAck::new(
            again.pkid,
            vec![SubscribeReasonCode::Success(QoS::AtMostOnce)],
        )));
        client.until_disconnect();
    });
    let out = run_on_port(port, &[&["sub", "-v"], CLEAR].concat());
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "r/1 a\nr/2 b\n", "{}", stderr(&out));
    broker.join().expect("fake broker");
}

/// A retained message that is still there after being cleared again and again is named, and
/// the run fails (exit 6): it did not do what it was asked.
#[test]
fn a_retained_message_that_stays_is_named_and_fails_the_run() {
    let (port, broker) = fake_broker(|client| {
        client.accept();
        client.suback_granted();
        client.send(retained("r/1", "a"));
        while let Some(packet) = client.next() {
            match packet {
                Packet::Publish(clear) => client.send(Packet::PubAck(PubAck::new(clear.pkid))),
                Packet::Subscribe(again) => {
                    client.send(Packet::SubAck(SubAck::new(
                        again.pkid,
                        vec![SubscribeReasonCode::Success(QoS::AtMostOnce)],
                    )));
                    // This broker ignores clears: the message is sent again.
                    client.send(retained("r/1", "a"));
                }
                Packet::PingReq => client.send(Packet::PingResp),
                Packet::Disconnect => return,
                _ => {}
            }
        }
    });
    let out = run_on_port(port, &[&["sub"], CLEAR].concat());
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("1 retained message(s) still there after clearing 5 times: 'r/1'"),
        "{}",
        stderr(&out)
    );
    broker.join().expect("fake broker");
}
