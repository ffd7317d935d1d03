//! The QoS 2 publish window against a scripted broker (rumqttc patch 16): a slot is free at
//! PUBREC (the broker frees it when the PUBREL, written at once, arrives), packet ids run to
//! twice the window, and after a reconnect the PUBRELs go before the publishes sent again.

mod common;

use common::*;
use rumqttc::{ConnAck, ConnectReturnCode, Packet, PubComp, PubRec, PubRel};

/// The next PUBLISH: its packet id, payload and DUP flag.
fn expect_publish(client: &mut FakeConnection) -> (u16, String, bool) {
    match client.expect() {
        Packet::Publish(publish) => (
            publish.pkid,
            String::from_utf8_lossy(&publish.payload).into_owned(),
            publish.dup,
        ),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

fn publish_lines(port: u16, extra: &[&str], lines: &[u8]) -> std::process::Output {
    let port = port.to_string();
    let mut args = vec![
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "t",
        "-q",
        "2",
        "-l",
        "--max-inflight",
        "2",
    ];
    args.extend_from_slice(extra);
    run(&args, lines)
}

#[test]
fn a_pubrec_frees_the_slot_before_the_pubcomp() {
    let (port, broker) = fake_broker(|client| {
        client.accept();
        assert_eq!(expect_publish(client), (1, "a".into(), false));
        assert_eq!(expect_publish(client), (2, "b".into(), false));
        // PUBREC 1: the PUBREL, then the next message at once, with no PUBCOMP yet.
        client.send(Packet::PubRec(PubRec::new(1)));
        assert_eq!(client.expect(), Packet::PubRel(PubRel::new(1)));
        assert_eq!(expect_publish(client), (3, "c".into(), false));
        // Two released and one in flight: the window is full until a PUBCOMP.
        client.send(Packet::PubRec(PubRec::new(2)));
        assert_eq!(client.expect(), Packet::PubRel(PubRel::new(2)));
        client.send(Packet::PubComp(PubComp::new(1)));
        // Packet id 4: ids run to twice the window.
        assert_eq!(expect_publish(client), (4, "d".into(), false));
        for pkid in [3, 4] {
            client.send(Packet::PubRec(PubRec::new(pkid)));
            assert_eq!(client.expect(), Packet::PubRel(PubRel::new(pkid)));
        }
        for pkid in [2, 3, 4] {
            client.send(Packet::PubComp(PubComp::new(pkid)));
        }
        assert_eq!(client.expect(), Packet::Disconnect);
    });
    let out = publish_lines(port, &[], b"a\nb\nc\nd\n");
    broker.join().expect("fake broker script");
    assert_code(&out, 0);
}

#[test]
fn after_a_reconnect_the_pubrels_go_before_the_publishes() {
    let (port, broker) = fake_broker_connections(2, |number, client| {
        if number == 0 {
            client.accept();
            assert_eq!(expect_publish(client), (1, "a".into(), false));
            assert_eq!(expect_publish(client), (2, "b".into(), false));
            client.send(Packet::PubRec(PubRec::new(1)));
            assert_eq!(client.expect(), Packet::PubRel(PubRel::new(1)));
            assert_eq!(expect_publish(client), (3, "c".into(), false));
            // The connection drops here, with 1 released, 2 and 3 unacknowledged.
            return;
        }
        let connect = client.expect();
        assert!(matches!(connect, Packet::Connect(_)), "{connect:?}");
        client.send(Packet::ConnAck(ConnAck::new(
            ConnectReturnCode::Success,
            true,
        )));
        // Session kept: the PUBREL first (the broker frees that slot), then 2 and 3 again with
        // DUP.
        assert_eq!(client.expect(), Packet::PubRel(PubRel::new(1)));
        assert_eq!(expect_publish(client), (2, "b".into(), true));
        assert_eq!(expect_publish(client), (3, "c".into(), true));
        client.send(Packet::PubComp(PubComp::new(1)));
        for pkid in [2, 3] {
            client.send(Packet::PubRec(PubRec::new(pkid)));
            assert_eq!(client.expect(), Packet::PubRel(PubRel::new(pkid)));
        }
        for pkid in [2, 3] {
            client.send(Packet::PubComp(PubComp::new(pkid)));
        }
        assert_eq!(client.expect(), Packet::Disconnect);
    });
    let out = publish_lines(
        port,
        &["-c", "-i", "window-test", "--reconnect-delay", "100ms"],
        b"a\nb\nc\n",
    );
    broker.join().expect("fake broker script");
    assert_code(&out, 0);
}
