//! `-V 31`: MQTT 3.1 (protocol name `MQIsdp`, level 3), for brokers and gateways that speak
//! nothing newer. mosquitto speaks it (its log says `p1` for 3.1, `p2` for 3.1.1); a broker
//! that does not refuses the connection, and we say so.

mod common;

use common::*;

#[test]
fn a_round_trip_over_mqtt_3_1_at_every_qos() {
    let broker = Broker::start();
    for qos in ["0", "1", "2"] {
        let id = format!("sub-31-q{qos}");
        let sub = Background::sub(
            &broker,
            &[
                "-t", "old/+", "-V", "31", "-C", "1", "-i", &id, "-q", qos, "-v",
            ],
        );
        let published = run_on(
            &broker,
            &[
                "pub", "-t", "old/led", "-m", "1", "-q", qos, "-V", "mqttv31", "-i", "pub-31",
            ],
        );
        assert_code(&published, 0);
        let out = sub.finish();
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "old/led 1\n");
    }
    let traced = run_on(&broker, &["pub", "-t", "x", "-m", "1", "-V", "31", "-d"]);
    assert_code(&traced, 0);
    let trace = stderr(&traced);
    assert!(
        trace.contains("(MQTT 3.1, client id")
            && trace.contains("MQTT 3.1 has no session present flag"),
        "{trace}"
    );
    // mosquitto's own account of the protocol each client spoke: p1 is MQTT 3.1.
    let log = broker.log();
    for id in ["sub-31-q0", "sub-31-q2", "pub-31"] {
        assert!(
            log.contains(&format!("as {id} (p1,")),
            "{id} did not connect with MQTT 3.1:\n{log}"
        );
    }
    let newer = run_on(&broker, &["pub", "-t", "x", "-m", "1", "-i", "pub-311"]);
    assert_code(&newer, 0);
    assert!(broker.log().contains("as pub-311 (p2,"), "{}", broker.log());
}

#[test]
fn a_client_id_over_23_characters_is_refused_before_connecting() {
    let out = run(
        &[
            "pub",
            "-p",
            "9",
            "-t",
            "a",
            "-m",
            "1",
            "-V",
            "31",
            "-i",
            "a-client-id-of-24-chars!",
        ],
        b"",
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(
            "MQTT 3.1 allows client ids of 1 to 23 characters; 'a-client-id-of-24-chars!' has 24"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_broker_that_does_not_speak_3_1_refuses_it_in_words() {
    if let Some(reason) = common::foreign::skipped() {
        eprintln!("skipped: {reason}");
        return;
    }
    let broker = common::foreign::Foreign::rumqttd();
    let out = run(
        &[
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port.to_string(),
            "-t",
            "a",
            "-m",
            "1",
            "-V",
            "31",
        ],
        b"",
    );
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("closed the connection after our MQTT 3.1 CONNECT: a broker that does not speak 3.1 does that (try -V 311)"),
        "{}",
        stderr(&out)
    );
}
