//! QoS 2 receiving against a scripted broker doing what mosquitto 2.0.11 does to a subscriber
//! that fell behind (see vendor/rumqttc/PATCHES.md): an unknown PUBREL, a DUP retransmission,
//! a packet id reused for a new message. Exactly once, and the connection survives.

mod common;

use bytes::Bytes;
use common::*;
use rumqttc::{Packet, PubComp, PubRec, PubRel, Publish, QoS};

fn publish(pkid: u16, payload: &'static str, dup: bool) -> Packet {
    let mut publish = Publish::from_bytes(
        "t",
        QoS::ExactlyOnce,
        Bytes::from_static(payload.as_bytes()),
    );
    publish.pkid = pkid;
    publish.dup = dup;
    Packet::Publish(publish)
}

#[test]
fn odd_but_harmless_broker_behaviour_is_survived_without_duplicates() {
    let (port, broker) = fake_broker(|client| {
        client.accept();
        client.suback_granted();

        // A PUBREL for a packet id the client never saw: answered, not fatal.
        client.send(Packet::PubRel(PubRel::new(77)));
        assert_eq!(client.expect(), Packet::PubComp(PubComp::new(77)));

        // A message, then its retransmission (DUP) before PUBREL: acknowledged twice, shown once.
        client.send(publish(5, "one", false));
        assert_eq!(client.expect(), Packet::PubRec(PubRec::new(5)));
        client.send(publish(5, "one", true));
        assert_eq!(client.expect(), Packet::PubRec(PubRec::new(5)));
        client.send(Packet::PubRel(PubRel::new(5)));
        assert_eq!(client.expect(), Packet::PubComp(PubComp::new(5)));

        // The packet id reused for a new message after PUBCOMP: a new message.
        client.send(publish(5, "two", false));
        assert_eq!(client.expect(), Packet::PubRec(PubRec::new(5)));
        client.send(Packet::PubRel(PubRel::new(5)));
        // The second message is the count (-C 2): the client may say DISCONNECT before it has
        // read this PUBREL, and then the broker drops the transaction with the clean session.
        match client.expect() {
            Packet::PubComp(pubcomp) => {
                assert_eq!(pubcomp, PubComp::new(5));
                client.until_disconnect();
            }
            Packet::Disconnect => {}
            other => panic!("expected PUBCOMP or DISCONNECT, got {other:?}"),
        }
    });
    let out = run(
        &[
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "t",
            "-q",
            "2",
            "-C",
            "2",
            "-W",
            "10s",
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "one\ntwo\n");
    broker.join().expect("fake broker script");
}

/// The same over MQTT 5: the unknown PUBREL is answered with PUBCOMP reason 0x92 (Packet
/// Identifier not found).
#[test]
fn odd_but_harmless_broker_behaviour_is_survived_without_duplicates_over_mqtt5() {
    use rumqttc::v5::mqttbytes::QoS as V5QoS;
    use rumqttc::v5::mqttbytes::v5::{
        PubComp, PubCompReason, PubRel, Publish, SubscribeReasonCode,
    };
    let publish = |pkid: u16, payload: &'static str, dup: bool| {
        let mut publish = Publish::new("t", V5QoS::ExactlyOnce, payload, None);
        publish.pkid = pkid;
        publish.dup = dup;
        V5Packet::Publish(publish)
    };
    let pubrec_of = |packet: V5Packet| match packet {
        V5Packet::PubRec(pubrec) => pubrec.pkid,
        other => panic!("expected PUBREC, got {other:?}"),
    };
    let (port, broker) = fake_broker(move |client| {
        client.accept_v5();
        client.suback_v5(vec![SubscribeReasonCode::Success(V5QoS::ExactlyOnce)]);

        client.send_v5(V5Packet::PubRel(PubRel::new(77, None)));
        match client.expect_v5() {
            V5Packet::PubComp(PubComp { pkid, reason, .. }) => {
                assert_eq!(
                    (pkid, reason),
                    (77, PubCompReason::PacketIdentifierNotFound)
                );
            }
            other => panic!("expected PUBCOMP, got {other:?}"),
        }

        client.send_v5(publish(5, "one", false));
        assert_eq!(pubrec_of(client.expect_v5()), 5);
        client.send_v5(publish(5, "one", true));
        assert_eq!(pubrec_of(client.expect_v5()), 5);
        client.send_v5(V5Packet::PubRel(PubRel::new(5, None)));
        assert!(matches!(
            client.expect_v5(),
            V5Packet::PubComp(PubComp { pkid: 5, .. })
        ));

        client.send_v5(publish(5, "two", false));
        assert_eq!(pubrec_of(client.expect_v5()), 5);
        client.send_v5(V5Packet::PubRel(PubRel::new(5, None)));
        match client.expect_v5() {
            V5Packet::PubComp(PubComp { pkid: 5, .. }) => client.until_disconnect_v5(),
            V5Packet::Disconnect(_) => {}
            other => panic!("expected PUBCOMP or DISCONNECT, got {other:?}"),
        }
    });
    let out = run(
        &[
            "sub",
            "-V",
            "5",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "t",
            "-q",
            "2",
            "-C",
            "2",
            "-W",
            "10s",
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "one\ntwo\n");
    broker.join().expect("fake broker script");
}
