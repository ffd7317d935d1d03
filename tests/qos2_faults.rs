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
            Packet::PubComp(pubcomp) => assert_eq!(pubcomp, PubComp::new(5)),
            Packet::Disconnect => {}
            other => panic!("expected PUBCOMP or DISCONNECT, got {other:?}"),
        }
        while client.next().is_some() {}
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
