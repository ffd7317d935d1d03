//! MQTT 5 (`-V 5`): properties both ways, subscription and session options, and reason codes
//! that are never swallowed. Against a real mosquitto, and a scripted broker for what mosquitto
//! 2.0.11 will not do on demand (a DISCONNECT with a reason) or for what only the wire shows
//! (CONNECT properties, subscription option bits).

mod common;

use std::time::{Duration, Instant};

use common::*;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnectReturnCode, Disconnect, DisconnectProperties, DisconnectReasonCode, Publish,
    RetainForwardRule, SubscribeReasonCode,
};
use serde_json::{Value, json};

/// Runs `subcommand -V 5` against the scripted broker on `port`.
fn run_v5_on(port: u16, subcommand: &str, rest: &[&str]) -> std::process::Output {
    let mut args = vec![subcommand, "-V", "5"];
    args.extend_from_slice(rest);
    run_on_port(port, &args)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[test]
fn publish_properties_reach_the_subscriber_in_json_and_templates() {
    let broker = Broker::start();
    let json_sub = Background::sub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "props/#",
            "-C",
            "1",
            "--json",
            "--subscription-id",
            "7",
        ],
    );
    let template_sub = Background::sub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "props/#",
            "-C",
            "1",
            "-F",
            "%t|%C|%D|%E|%F|%R|%S|%P|%A|%p",
        ],
    );
    let out = run_on(
        &broker,
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "props/a",
            "-m",
            "hello",
            "-q",
            "1",
            "--content-type",
            "text/plain",
            "--user-property",
            "site=lab",
            "--user-property",
            "site=roof",
            "--message-expiry",
            "60",
            "--response-topic",
            "props/answer",
            "--correlation-data",
            "req-42",
            "--payload-format",
            "utf8",
        ],
    );
    assert_code(&out, 0);

    let got = json_lines(&stdout(&json_sub.finish()));
    assert_eq!(got.len(), 1);
    let properties = &got[0]["properties"];
    assert_eq!(properties["content_type"], "text/plain");
    assert_eq!(properties["correlation_data"], "req-42");
    assert_eq!(properties["payload_format_indicator"], 1);
    assert_eq!(properties["response_topic"], "props/answer");
    assert_eq!(properties["subscription_identifiers"], json!([7]));
    assert_eq!(
        properties["user_properties"],
        json!([{"key": "site", "value": "lab"}, {"key": "site", "value": "roof"}])
    );
    // The broker forwards what is left of the expiry interval.
    let expiry = properties["message_expiry_interval"]
        .as_u64()
        .expect("expiry");
    assert!((55..=60).contains(&expiry), "{expiry}");
    assert_eq!(got[0]["payload"], "hello");

    let line = stdout(&template_sub.finish());
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields[..4], ["props/a", "text/plain", "req-42", fields[3]]);
    assert!(fields[3] == "60" || fields[3] == "59", "{line}");
    assert_eq!(
        fields[4..],
        ["1", "props/answer", "", "site:lab site:roof", "", "hello"]
    );
}

#[test]
fn binary_correlation_data_and_no_properties_on_plain_messages() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-V", "5", "-t", "c/#", "-C", "2", "--json"]);
    assert_code(
        &run_on(
            &broker,
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "c/bin",
                "-m",
                "x",
                "--correlation-data",
                "hex:00ff10",
            ],
        ),
        0,
    );
    assert_code(
        &run_on(&broker, &["pub", "-V", "5", "-t", "c/plain", "-m", "y"]),
        0,
    );
    let got = json_lines(&stdout(&sub.finish()));
    assert_eq!(got[0]["properties"]["correlation_data_base64"], "AP8Q");
    assert!(got[1].get("properties").is_none(), "{}", got[1]);
}

#[test]
fn topic_alias_sends_the_topic_once_then_the_alias_alone() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-V", "5", "-t", "alias/#", "-C", "3", "-v"]);
    let out = run_on(
        &broker,
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "alias/t",
            "-m",
            "a",
            "-m",
            "b",
            "-m",
            "c",
            "--topic-alias",
            "1",
            "-q",
            "1",
            "-d",
        ],
    );
    assert_code(&out, 0);
    let log = stderr(&out);
    assert_eq!(log.matches("setting topic alias 1").count(), 1, "{log}");
    assert_eq!(log.matches("topic alias 1 alone").count(), 2, "{log}");
    assert_eq!(stdout(&sub.finish()), "alias/t a\nalias/t b\nalias/t c\n");

    // mosquitto announces a topic alias maximum of 10.
    let out = run_on(
        &broker,
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "alias/t",
            "-m",
            "x",
            "--topic-alias",
            "11",
        ],
    );
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("topic alias maximum of 10"),
        "{}",
        stderr(&out)
    );
}

fn acl_broker() -> Broker {
    Broker::with_files(|dir| {
        let acl = dir.join("acl");
        std::fs::write(&acl, "topic readwrite allowed/#\n").expect("write acl");
        format!("allow_anonymous true\nacl_file {}\n", acl.display())
    })
}

#[test]
fn a_publish_the_acl_denies_exits_6_naming_the_reason() {
    let broker = acl_broker();
    for qos in ["1", "2"] {
        let out = run_on(
            &broker,
            &["pub", "-V", "5", "-t", "denied/x", "-m", "x", "-q", qos],
        );
        assert_code(&out, 6);
        assert!(
            stderr(&out).contains("Not authorized (reason code 135)"),
            "QoS {qos}: {}",
            stderr(&out)
        );
    }
    // Lines stop at the first refusal.
    let out = run_args(
        &command(
            "pub",
            &broker,
            &["-V", "5", "-t", "denied/x", "-q", "1", "-l"],
        ),
        b"1\n2\n3\n",
    );
    assert_code(&out, 6);
    // Allowed topics still work, at every QoS.
    for qos in ["0", "1", "2"] {
        assert_code(
            &run_on(
                &broker,
                &["pub", "-V", "5", "-t", "allowed/x", "-m", "x", "-q", qos],
            ),
            0,
        );
    }
    // MQTT 3.1.1 has no way to say no: mosquitto acknowledges and drops the message.
    assert_code(
        &run_on(&broker, &["pub", "-t", "denied/x", "-m", "x", "-q", "1"]),
        0,
    );
}

#[test]
fn connack_refusals_exit_5_with_the_reason_name() {
    let broker = Broker::with_password("alice", "s3cret");
    let out = run_on(
        &broker,
        &[
            "pub", "-V", "5", "-t", "x", "-m", "x", "-u", "alice", "-P", "wrong",
        ],
    );
    assert_code(&out, 5);
    assert!(
        stderr(&out).contains("Not authorized (reason code 135)"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("wrong"), "{}", stderr(&out));
    let out = run_on(
        &broker,
        &[
            "pub", "-V", "5", "-t", "x", "-m", "x", "-u", "alice", "-P", "s3cret",
        ],
    );
    assert_code(&out, 0);
}

#[test]
fn connack_reason_codes_from_a_scripted_broker() {
    for (code, name) in [
        (
            ConnectReturnCode::BadUserNamePassword,
            "Bad User Name or Password (reason code 134)",
        ),
        (ConnectReturnCode::Banned, "Banned (reason code 138)"),
        (
            ConnectReturnCode::ServerBusy,
            "Server busy (reason code 137)",
        ),
    ] {
        let (port, broker) = fake_broker(move |client| {
            assert!(matches!(client.expect_v5(), V5Packet::Connect(..)));
            client.send_v5(V5Packet::ConnAck(ConnAck {
                session_present: false,
                code,
                properties: None,
            }));
        });
        let out = run_v5_on(port, "sub", &["-t", "x"]);
        broker.join().expect("fake broker");
        assert_code(&out, 5);
        assert!(stderr(&out).contains(name), "{}", stderr(&out));
    }
}

#[test]
fn a_server_disconnect_prints_its_reason_and_exits_6() {
    let (port, broker) = fake_broker(|client| {
        client.accept_v5();
        client.suback_v5(vec![SubscribeReasonCode::Success(QoS::AtMostOnce)]);
        client.send_v5(V5Packet::Disconnect(Disconnect {
            reason_code: DisconnectReasonCode::SessionTakenOver,
            properties: Some(DisconnectProperties {
                session_expiry_interval: None,
                reason_string: Some("another client connected as dev1".into()),
                user_properties: Vec::new(),
                server_reference: None,
            }),
        }));
    });
    let out = run_v5_on(port, "sub", &["-t", "x"]);
    broker.join().expect("fake broker");
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains(
            "DISCONNECT: Session taken over (reason code 142): another client connected as dev1"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bare_server_disconnect_is_a_normal_disconnection() {
    // Reason code 0x00 with no properties may be sent as the two bytes e0 00.
    let (port, broker) = fake_broker(|client| {
        client.accept_v5();
        let V5Packet::Publish(publish) = client.expect_v5() else {
            panic!("expected PUBLISH");
        };
        assert_eq!(publish.payload, "x");
        client.send_raw(&[0xe0, 0x00]);
    });
    let out = run_v5_on(port, "pub", &["-t", "x", "-m", "x", "-q", "1"]);
    broker.join().expect("fake broker");
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("DISCONNECT: Normal disconnection (reason code 0)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn connect_properties_and_subscription_options_go_on_the_wire() {
    let (port, broker) = fake_broker(|client| {
        let V5Packet::Connect(connect, will, _) = client.accept_v5() else {
            panic!("expected CONNECT");
        };
        assert!(!connect.clean_start, "-x above 0 resumes the session");
        let properties = connect.properties.expect("CONNECT properties");
        assert_eq!(properties.session_expiry_interval, Some(3600));
        assert_eq!(properties.receive_maximum, Some(5));
        assert_eq!(properties.max_packet_size, Some(4096));
        assert_eq!(properties.user_properties, [("rig".into(), "7".into())]);
        let will = will.expect("a will");
        let will_properties = will.properties.expect("will properties");
        assert_eq!(will_properties.delay_interval, Some(30));
        assert_eq!(will_properties.content_type.as_deref(), Some("text/plain"));
        assert_eq!(will_properties.message_expiry_interval, Some(120));
        assert_eq!(will_properties.payload_format_indicator, Some(1));
        assert_eq!(will_properties.user_properties, [("k".into(), "v".into())]);
        assert_eq!(will_properties.response_topic.as_deref(), Some("w/answer"));
        assert_eq!(
            will_properties.correlation_data.as_deref(),
            Some(&b"\x01\x02"[..])
        );
        let subscribe = client.suback_v5(vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]);
        let filter = &subscribe.filters[0];
        assert!(filter.nolocal);
        assert!(filter.preserve_retain);
        assert_eq!(filter.retain_forward_rule, RetainForwardRule::Never);
        assert_eq!(filter.qos, QoS::AtLeastOnce);
        assert_eq!(subscribe.properties.expect("properties").id, Some(9));
        assert!(matches!(client.expect_v5(), V5Packet::Disconnect(_)));
    });
    let out = run_v5_on(
        port,
        "sub",
        &[
            "-t",
            "x",
            "-q",
            "1",
            "-E",
            "-i",
            "rig7",
            "-x",
            "1h",
            "--receive-maximum",
            "5",
            "--maximum-packet-size",
            "4096",
            "--connect-user-property",
            "rig=7",
            "--no-local",
            "--retain-as-published",
            "--retain-handling",
            "2",
            "--subscription-id",
            "9",
            "--will-topic",
            "w",
            "--will-payload",
            "gone",
            "--will-delay",
            "30s",
            "--will-content-type",
            "text/plain",
            "--will-message-expiry",
            "2m",
            "--will-payload-format",
            "utf8",
            "--will-user-property",
            "k=v",
            "--will-response-topic",
            "w/answer",
            "--will-correlation-data",
            "hex:0102",
        ],
    );
    broker.join().expect("fake broker");
    assert_code(&out, 0);
}

#[test]
fn a_connection_reset_is_a_lost_connection_to_recover_from() {
    // A broker that goes away with our PUBACK still unread resets the connection (RST, not
    // FIN). rumqttc's MQTT 5 client reports that as a codec I/O error; it used to end `sub`.
    let (port, broker) = fake_broker_connections(2, |number, client| {
        client.accept_v5();
        client.suback_v5(vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]);
        let mut publish = Publish::new("t", QoS::AtLeastOnce, ["first", "second"][number], None);
        publish.pkid = 1;
        client.send_v5(V5Packet::Publish(publish));
        if number == 0 {
            // The PUBACK arrives and stays unread: closing now sends RST.
            client.wait_for_unread();
        } else {
            assert!(matches!(client.expect_v5(), V5Packet::PubAck(_)));
            let _ = client.next_v5();
        }
    });
    let out = run_v5_on(port, "sub", &["-t", "t", "-q", "1", "-C", "2", "-W", "20s"]);
    // Before joining: a client that gave up never makes the second connection.
    assert!(stderr(&out).contains("reconnecting"), "{}", stderr(&out));
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "first\nsecond\n");
    broker.join().expect("fake broker");
}

#[test]
fn a_refused_v5_subscription_names_the_reason() {
    let (port, broker) = fake_broker(|client| {
        client.accept_v5();
        client.suback_v5(vec![
            SubscribeReasonCode::Success(QoS::AtMostOnce),
            SubscribeReasonCode::WildcardSubscriptionsNotSupported,
        ]);
        let _ = client.next_v5();
    });
    let out = run_v5_on(port, "sub", &["-t", "a", "-t", "b/#"]);
    broker.join().expect("fake broker");
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("'b/#': Wildcard Subscriptions not supported (reason code 162)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_local_suppresses_our_own_messages() {
    // sub --remove-retained publishes on its own connection: with --no-local the broker does
    // not echo the clearing message back; without, it does (and the retain flag is off).
    let broker = Broker::start();
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "nl/t", "-m", "kept", "-r", "-q", "1"],
        ),
        0,
    );
    let out = run_on(
        &broker,
        &[
            "sub",
            "-V",
            "5",
            "-t",
            "nl/#",
            "--remove-retained",
            "--no-local",
            "-W",
            "1s",
            "-v",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "nl/t kept\n");

    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "nl/t", "-m", "kept", "-r", "-q", "1"],
        ),
        0,
    );
    let out = run_on(
        &broker,
        &[
            "sub",
            "-V",
            "5",
            "-t",
            "nl/#",
            "--remove-retained",
            "-W",
            "1s",
            "-F",
            "%t [%p] %r",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "nl/t [kept] 1\nnl/t [] 0\n");
}

#[test]
fn retain_as_published_and_retain_handling() {
    let broker = Broker::start();
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "rh/t", "-m", "old", "-r", "-q", "1"],
        ),
        0,
    );
    // 2 (mosquitto 2.1's "never"): no retained messages at subscribe time; the first message
    // seen is the live one.
    // --retain-as-published keeps its retain flag, which live messages otherwise lose.
    let never = Background::sub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "rh/#",
            "-C",
            "1",
            "-F",
            "%p %r",
            "--retain-handling",
            "never",
            "--retain-as-published",
        ],
    );
    let plain = Background::sub(
        &broker,
        &["-V", "5", "-t", "rh/#", "-C", "2", "-F", "%p %r"],
    );
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "rh/t", "-m", "new", "-r", "-q", "1"],
        ),
        0,
    );
    assert_eq!(stdout(&never.finish()), "new 1\n");
    assert_eq!(stdout(&plain.finish()), "old 1\nnew 0\n");

    // 1 (2.1's "new"): retained messages only for a subscription the session did not have yet.
    let args = [
        "-V",
        "5",
        "-t",
        "rh/#",
        "-i",
        "rh-1",
        "-x",
        "60",
        "--retain-handling",
        "new",
        "-W",
        "1s",
    ];
    let first = run_on(
        &broker,
        &["sub"].iter().chain(&args).copied().collect::<Vec<_>>(),
    );
    assert_eq!(stdout(&first), "new\n");
    let second = run_on(
        &broker,
        &["sub"].iter().chain(&args).copied().collect::<Vec<_>>(),
    );
    assert_eq!(stdout(&second), "");
    // Clean up the session.
    assert_code(
        &run_on(
            &broker,
            &["sub", "-V", "5", "-i", "rh-1", "-t", "rh/#", "-E"],
        ),
        0,
    );
}

#[test]
fn session_expiry_keeps_messages_for_a_returning_subscriber() {
    let broker = Broker::start();
    let id = [
        "-V", "5", "-i", "away-1", "-x", "60", "-q", "1", "-t", "away/#",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut all = vec!["sub"];
        all.extend(id);
        all.extend(extra);
        all
    };
    assert_code(&run_on(&broker, &with(&["-E"])), 0);
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "away/x", "-m", "while away", "-q", "1"],
        ),
        0,
    );
    let out = run_on(&broker, &with(&["-C", "1", "-W", "5s"]));
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "while away\n");

    // Without -x (expiry 0) the session ends with the connection.
    assert_code(
        &run_on(
            &broker,
            &[
                "sub", "-V", "5", "-i", "away-2", "-q", "1", "-t", "away/#", "-E",
            ],
        ),
        0,
    );
    assert_code(
        &run_on(&broker, &["pub", "-t", "away/x", "-m", "lost", "-q", "1"]),
        0,
    );
    let out = run_on(
        &broker,
        &[
            "sub", "-V", "5", "-i", "away-2", "-q", "1", "-t", "away/#", "-W", "500ms",
        ],
    );
    assert_eq!(stdout(&out), "");

    // A persistent session needs a client id to be found again.
    let out = run_on(&broker, &["sub", "-V", "5", "-x", "60", "-t", "away/#"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("needs --id"), "{}", stderr(&out));
}

#[test]
fn maximum_packet_size_makes_the_broker_skip_larger_messages() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "size/#",
            "-C",
            "1",
            "--maximum-packet-size",
            "200",
        ],
    );
    let big = "x".repeat(1000);
    assert_code(&run_on(&broker, &["pub", "-t", "size/t", "-m", &big]), 0);
    assert_code(&run_on(&broker, &["pub", "-t", "size/t", "-m", "small"]), 0);
    assert_eq!(stdout(&sub.finish()), "small\n");
}

#[test]
fn a_delayed_will_arrives_after_its_delay_with_its_properties() {
    let broker = Broker::start();
    let watcher = Background::sub(&broker, &["-V", "5", "-t", "wills/#", "-C", "1", "--json"]);
    let mut doomed = Background::spawn(
        &command(
            "sub",
            &broker,
            &[
                "-V",
                "5",
                "-t",
                "alive",
                "-i",
                "doomed",
                "-x",
                "10",
                "--will-topic",
                "wills/doomed",
                "--will-payload",
                "gone",
                "--will-delay",
                "1s",
                "--will-content-type",
                "text/plain",
                "--will-user-property",
                "cause=crash",
            ],
        ),
        "received SUBACK",
    );
    assert!(doomed.is_running());
    let killed = Instant::now();
    doomed.signal("KILL");
    let got = json_lines(&stdout(&watcher.finish()));
    let waited = killed.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert_eq!(got[0]["payload"], "gone");
    assert_eq!(got[0]["properties"]["content_type"], "text/plain");
    assert_eq!(
        got[0]["properties"]["user_properties"],
        json!([{"key": "cause", "value": "crash"}])
    );
    // Clean up the session the will belonged to.
    assert_code(
        &run_on(
            &broker,
            &["sub", "-V", "5", "-i", "doomed", "-t", "alive", "-E"],
        ),
        0,
    );
}

#[test]
fn mqtt5_options_on_mqtt_311_are_refused_before_connecting() {
    for args in [
        &["pub", "-t", "x", "-m", "x", "--content-type", "a/b"][..],
        &["pub", "-t", "x", "-m", "x", "--user-property", "a=b"],
        &["pub", "-t", "x", "-m", "x", "--topic-alias", "1"],
        &["sub", "-t", "x", "--no-local"],
        &["sub", "-t", "x", "--receive-maximum", "3"],
    ] {
        let out = run(args, b"");
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("add -V 5"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    for (args, needle) in [
        (
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "x",
                "-m",
                "x",
                "--user-property",
                "novalue",
            ][..],
            "KEY=VALUE",
        ),
        (
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "x",
                "-m",
                "x",
                "--correlation-data",
                "hex:0g",
            ],
            "not hex",
        ),
        (
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "x",
                "-m",
                "x",
                "--message-expiry",
                "1.5s",
            ],
            "whole number",
        ),
        (
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "x",
                "-m",
                "x",
                "--response-topic",
                "a/#",
            ],
            "response-topic",
        ),
        (
            &["pub", "-V", "5", "-t", "x", "-m", "x", "--topic-alias", "0"],
            "topic-alias",
        ),
        (
            &["sub", "-V", "5", "-t", "x", "--retain-handling", "3"],
            "retain-handling",
        ),
    ] {
        let out = run(args, b"");
        assert_code(&out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // --payload-format utf8 and a payload that is not UTF-8.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bin");
    std::fs::write(&file, b"\xff\xfe").expect("write");
    let out = run(
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "x",
            "-f",
            file.to_str().expect("utf-8"),
            "--payload-format",
            "utf8",
        ],
        b"",
    );
    assert_code(&out, 2);
    assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
}

#[test]
fn replay_carries_properties_and_needs_mqtt5_for_them() {
    let broker = Broker::start();
    let record = Background::sub(
        &broker,
        &["-V", "5", "-t", "rp/#", "-q", "1", "-C", "2", "--json"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bin");
    std::fs::write(&file, b"\x00\xff\x00 binary").expect("write");
    assert_code(
        &run_on(
            &broker,
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "rp/a",
                "-f",
                file.to_str().expect("utf-8"),
                "-q",
                "1",
                "--content-type",
                "application/octet-stream",
                "--user-property",
                "n=1",
                "--correlation-data",
                "hex:ff00",
                "--response-topic",
                "rp/answer",
            ],
        ),
        0,
    );
    assert_code(
        &run_on(
            &broker,
            &["pub", "-V", "5", "-t", "rp/b", "-m", "plain", "-q", "1"],
        ),
        0,
    );
    let first = stdout(&record.finish());
    let capture = dir.path().join("capture.jsonl");
    std::fs::write(&capture, &first).expect("write capture");
    let capture = capture.to_str().expect("utf-8");

    let again = Background::sub(
        &broker,
        &["-V", "5", "-t", "rp/#", "-q", "1", "-C", "2", "--json"],
    );
    assert_code(
        &run_on(&broker, &["pub", "-V", "5", "--replay", capture]),
        0,
    );
    let second = stdout(&again.finish());
    let strip = |text: &str| -> Vec<Value> {
        json_lines(text)
            .into_iter()
            .map(|mut value| {
                value.as_object_mut().expect("object").remove("timestamp");
                value
            })
            .collect()
    };
    assert_eq!(strip(&first), strip(&second));
    assert_eq!(
        strip(&first)[0]["properties"]["correlation_data_base64"],
        "/wA="
    );

    let out = run_on(&broker, &["pub", "--replay", capture]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("replay it with -V 5"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn payload_format_utf8_refuses_a_line_that_is_not_utf8() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-V", "5", "-t", "pf", "-C", "1", "-F", "%F %p"]);
    let out = run_args(
        &command(
            "pub",
            &broker,
            &[
                "-V",
                "5",
                "-t",
                "pf",
                "-l",
                "-q",
                "1",
                "--payload-format",
                "utf8",
            ],
        ),
        b"fine\n\xff\xfe\nnever sent\n",
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("line 2 of standard input is not UTF-8"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&sub.finish()), "1 fine\n");
}
