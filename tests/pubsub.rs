//! pub and sub against a real mosquitto: every flag of the foundation issue.

mod common;

use common::*;

#[test]
fn round_trip_at_each_qos() {
    let broker = Broker::start();
    for qos in ["0", "1", "2"] {
        let sub = Background::sub(&broker, &["-t", "rt/#", "-q", qos, "-C", "1", "-v"]);
        let out = run_on(&broker, &["pub", "-t", "rt/x", "-m", "hello", "-q", qos]);
        assert_code(&out, 0);
        let got = sub.finish();
        assert_code(&got, 0);
        assert_eq!(stdout(&got), "rt/x hello\n", "qos {qos}");
    }
}

#[test]
fn repeated_messages_are_sent_in_turn_blink_cycle() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "led", "-C", "4", "-q", "1"]);
    let started = std::time::Instant::now();
    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "led",
            "-m",
            "1",
            "-m",
            "0",
            "--repeat",
            "2",
            "--interval",
            "100ms",
            "-q",
            "1",
        ],
    );
    assert_code(&out, 0);
    // Four messages, three gaps of 100 ms between them.
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(stdout(&sub.finish()), "1\n0\n1\n0\n");
}

#[test]
fn endless_repeat_stops_cleanly_on_ctrl_c() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "led", "-C", "3"]);
    let args = command(
        "pub",
        &broker,
        &[
            "-t",
            "led",
            "-m",
            "1",
            "-m",
            "0",
            "--repeat",
            "0",
            "--interval",
            "50ms",
            "-q",
            "1",
        ],
    );
    let mut publisher = Background::spawn(&args, "received CONNACK");
    let got = sub.finish();
    assert_eq!(stdout(&got), "1\n0\n1\n");
    publisher.wait_for_stderr("received PUBACK");
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("sent DISCONNECT"), "{err}");
    assert!(err.contains("interrupted:"), "{err}");
}

#[test]
fn file_payload_of_one_mebibyte_arrives_intact() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &data).expect("write blob");
    let sub = Background::sub(&broker, &["-t", "blob", "-C", "1", "-q", "1"]);
    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "blob",
            "-f",
            path.to_str().expect("utf-8"),
            "-q",
            "1",
        ],
    );
    assert_code(&out, 0);
    let got = sub.finish();
    assert_code(&got, 0);
    let mut expected = data;
    expected.push(b'\n');
    assert!(
        got.stdout == expected,
        "payload differs ({} bytes received)",
        got.stdout.len()
    );
}

#[test]
fn a_very_long_line_is_one_message() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "long", "-C", "3", "-q", "1"]);
    // 32 MiB without a newline: 512 reads of stdin for one line.
    let long = "y".repeat(32 << 20);
    let input = format!("short\n{long}\nlast");
    let args = command("pub", &broker, &["-t", "long", "-l", "-q", "1"]);
    assert_code(&run_args(&args, input.as_bytes()), 0);
    assert_eq!(stdout(&sub.finish()), format!("short\n{long}\nlast\n"));
}

#[test]
fn stdin_is_one_message_and_lines_are_many() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "in", "-C", "1"]);
    let args = command("pub", &broker, &["-t", "in", "-s"]);
    assert_code(&run_args(&args, b"two\nlines\0with nul"), 0);
    assert_eq!(sub.finish().stdout, b"two\nlines\0with nul\n");

    // -F %p: an empty message is an empty line (the raw format prints nothing for it, as
    // mosquitto_sub does).
    let sub = Background::sub(&broker, &["-t", "in", "-C", "4", "-F", "%p"]);
    let args = command("pub", &broker, &["-t", "in", "-l", "-q", "2"]);
    // CRLF is stripped, an empty line is an empty message, a last line without newline counts.
    assert_code(&run_args(&args, b"a\r\nb\n\nlast"), 0);
    assert_eq!(stdout(&sub.finish()), "a\nb\n\nlast\n");
}

#[test]
fn null_message_is_empty() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "n", "-C", "1", "-v"]);
    assert_code(&run_on(&broker, &["pub", "-t", "n", "-n"]), 0);
    assert_eq!(stdout(&sub.finish()), "n \n");
}

#[test]
fn retained_messages_and_no_retained() {
    let broker = Broker::start();
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "state", "-m", "on", "-r", "-q", "1"],
        ),
        0,
    );
    // A new subscriber gets the retained value.
    let got = run_on(&broker, &["sub", "-t", "state", "-C", "1", "-W", "5s"]);
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "on\n");
    // -R skips it: nothing printed, and -W without -C ends with 0.
    let got = run_on(&broker, &["sub", "-t", "state", "-R", "-W", "300ms"]);
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "");
    // -R still prints live messages.
    let sub = Background::sub(&broker, &["-t", "state", "-R", "-C", "1"]);
    assert_code(&run_on(&broker, &["pub", "-t", "state", "-m", "live"]), 0);
    assert_eq!(stdout(&sub.finish()), "live\n");
}

#[test]
fn persistent_session_keeps_messages_while_away() {
    let broker = Broker::start();
    // -E: subscribe, then leave at once; -c -i: the broker keeps the session.
    let setup = run_on(
        &broker,
        &["sub", "-t", "queue", "-q", "1", "-c", "-i", "keeper", "-E"],
    );
    assert_code(&setup, 0);
    for message in ["m1", "m2", "m3"] {
        assert_code(
            &run_on(&broker, &["pub", "-t", "queue", "-m", message, "-q", "1"]),
            0,
        );
    }
    let got = run_on(
        &broker,
        &[
            "sub", "-t", "queue", "-q", "1", "-c", "-i", "keeper", "-C", "2", "-W", "5s",
        ],
    );
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "m1\nm2\n");
    // The third was not acknowledged by the run that stopped at -C 2: it is still queued.
    let got = run_on(
        &broker,
        &[
            "sub", "-t", "queue", "-q", "1", "-c", "-i", "keeper", "-C", "1", "-W", "5s",
        ],
    );
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "m3\n");
}

#[test]
fn several_filters_and_wildcards() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "a/+", "-t", "b/#", "-C", "3", "-v"]);
    for topic in ["a/1", "c/1", "b/x/y", "a/2/deep", "a/3"] {
        assert_code(&run_on(&broker, &["pub", "-t", topic, "-m", "m"]), 0);
    }
    assert_eq!(stdout(&sub.finish()), "a/1 m\nb/x/y m\na/3 m\n");
}

#[test]
fn url_gives_host_port_credentials_and_topic() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "from/url", "-C", "1"]);
    let url = format!("mqtt://127.0.0.1:{}/from%2Furl", broker.port);
    assert_code(&run(&["pub", "-L", &url, "-m", "via url"], b""), 0);
    assert_eq!(stdout(&sub.finish()), "via url\n");
}

#[test]
fn wildcards_in_a_url_path_are_topic_characters() {
    let broker = Broker::start();
    let base = format!("mqtt://127.0.0.1:{}", broker.port);
    // `#` is not a URL fragment here, nor `+` a space: mosquitto_sub -L reads them so.
    let hash = Background::sub(&broker, &["-L", &format!("{base}/home/#"), "-C", "2", "-v"]);
    let plus = Background::sub(&broker, &["-L", &format!("{base}/+/temp"), "-C", "1", "-v"]);
    let all = Background::sub(&broker, &["-L", &format!("{base}/#"), "-C", "1", "-v"]);
    for topic in ["other/x", "home/temp", "home/b/c"] {
        assert_code(&run_on(&broker, &["pub", "-t", topic, "-m", "m"]), 0);
    }
    assert_eq!(stdout(&hash.finish()), "home/temp m\nhome/b/c m\n");
    assert_eq!(stdout(&plus.finish()), "home/temp m\n");
    assert_eq!(stdout(&all.finish()), "other/x m\n");
}

#[test]
fn environment_supplies_host_and_port() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "env", "-C", "1"]);
    let out = cli()
        .args(["pub", "-t", "env", "-m", "from env"])
        .env("MQTT_HOST", "127.0.0.1")
        .env("MQTT_PORT", broker.port.to_string())
        .output()
        .expect("run");
    assert_code(&out, 0);
    assert_eq!(stdout(&sub.finish()), "from env\n");

    // The environment is the last resort: a -L URL wins over MQTT_HOST/MQTT_PORT, and a stray
    // MQTT_PASSWORD without a user name does not break an anonymous connection.
    let sub = Background::sub(&broker, &["-t", "env", "-C", "1"]);
    let out = cli()
        .args(["pub", "-t", "env", "-m", "url wins"])
        .args(["-L", &format!("mqtt://127.0.0.1:{}", broker.port)])
        .env("MQTT_HOST", "no-such-host.invalid")
        .env("MQTT_PORT", "1")
        .env("MQTT_PASSWORD", "stray")
        .output()
        .expect("run");
    assert_code(&out, 0);
    assert_eq!(stdout(&sub.finish()), "url wins\n");
}

#[test]
fn will_is_published_when_the_client_dies() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "wills", "-C", "1", "-v"]);
    let args = command(
        "pub",
        &broker,
        &[
            "-t",
            "alive",
            "-m",
            "x",
            "--repeat",
            "0",
            "--interval",
            "1s",
            "--will-topic",
            "wills",
            "--will-payload",
            "device gone",
            "--will-qos",
            "1",
        ],
    );
    let publisher = Background::spawn(&args, "received CONNACK");
    publisher.signal("KILL");
    let _ = publisher.finish();
    assert_eq!(stdout(&sub.finish()), "wills device gone\n");
}

#[test]
fn keepalive_pings_the_broker() {
    let broker = Broker::start();
    let mut sub = Background::sub(&broker, &["-t", "k", "-k", "1", "-W", "5s", "-d"]);
    sub.wait_for_stderr("sent PINGREQ");
    sub.wait_for_stderr("received PINGRESP");
}

#[test]
fn client_id_is_sent() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "k", "-i", "my-device-42", "-W", "200ms"]);
    assert_code(&sub.finish(), 0);
    assert!(broker.log().contains("as my-device-42"), "{}", broker.log());
}

#[test]
fn quiet_silences_notices_but_not_errors() {
    let broker = Broker::start();
    let args = command(
        "pub",
        &broker,
        &["-t", "q", "-m", "x", "--repeat", "0", "--interval", "20ms"],
    );
    // Without --quiet, Ctrl+C prints a notice...
    let publisher = Background::spawn(&args, "sent PUBLISH");
    publisher.signal("INT");
    let out = publisher.finish();
    assert_code(&out, 0);
    assert!(stderr(&out).contains("interrupted:"));
    // ...with --quiet, stderr stays empty on success and carries only the error on failure.
    let mut child = cli()
        .args(&args)
        .args(["--quiet", "-i", "quiet-pub"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Connected and publishing: the broker says it.
    broker.wait_for_connection("quiet-pub", 1);
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert!(child.wait().expect("wait").success());
    assert_eq!(err, "");
    let out = run(
        &[
            "pub",
            "--quiet",
            "-h",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
            "-t",
            "q",
            "-m",
            "x",
        ],
        b"",
    );
    assert_code(&out, 3);
    assert!(stderr(&out).starts_with("mqtt-cli: error:"));
}

#[test]
fn broken_pipe_ends_quietly() {
    let broker = Broker::start();
    let args = command("sub", &broker, &["-t", "p", "-q", "1", "-i", "piped"]);
    let mut child = cli()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Nobody reads the subscriber's output any more (as with `sub | head -1`).
    drop(child.stdout.take());
    broker.wait_for_subscription("piped");
    assert_code(
        &run_on(&broker, &["pub", "-t", "p", "-m", "x", "-q", "1"]),
        0,
    );
    let out = wait_output(child, STEP);
    assert_code(&out, 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn ctrl_c_ends_sub_with_disconnect_and_0() {
    let broker = Broker::start();
    let args = command("sub", &broker, &["-t", "x"]);
    let sub = Background::spawn(&args, "received SUBACK");
    sub.signal("INT");
    let out = sub.finish();
    assert_code(&out, 0);
    assert!(stderr(&out).contains("sent DISCONNECT"), "{}", stderr(&out));
}

#[test]
fn retained_will_reaches_later_subscribers() {
    let broker = Broker::start();
    let args = command(
        "pub",
        &broker,
        &[
            "-t",
            "alive",
            "-m",
            "x",
            "--repeat",
            "0",
            "--interval",
            "1s",
            "--will-topic",
            "status/dev1",
            "--will-payload",
            "offline",
            "--will-retain",
        ],
    );
    let publisher = Background::spawn(&args, "received CONNACK");
    publisher.signal("KILL");
    let _ = publisher.finish();
    // Subscribed after the will went out: only a retained will can still arrive.
    let got = run_on(
        &broker,
        &["sub", "-t", "status/#", "-C", "1", "-W", "5s", "-v"],
    );
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "status/dev1 offline\n");
}

#[test]
fn protocol_versions_and_their_aliases() {
    let broker = Broker::start();
    for version in ["311", "3.1.1", "mqttv311", "5", "mqttv5"] {
        let sub = Background::sub(&broker, &["-t", "v", "-C", "1", "-V", version]);
        assert_code(
            &run_on(&broker, &["pub", "-t", "v", "-m", version, "-V", version]),
            0,
        );
        assert_eq!(stdout(&sub.finish()), format!("{version}\n"));
    }
    // Across versions: a 3.1.1 publisher, an MQTT 5 subscriber.
    let sub = Background::sub(&broker, &["-t", "v", "-C", "1", "-V", "5"]);
    assert_code(&run_on(&broker, &["pub", "-t", "v", "-m", "across"]), 0);
    assert_eq!(stdout(&sub.finish()), "across\n");
    let out = run_on(&broker, &["pub", "-t", "v", "-m", "x", "-V", "6"]);
    assert_code(&out, 2);
}

#[test]
fn debug_shows_publish_and_subscribe_fields_both_ways() {
    let broker = Broker::start();
    let sub_args = command(
        "sub",
        &broker,
        &["-t", "dbg/#", "-t", "other", "-q", "1", "-C", "1"],
    );
    let sub = Background::spawn(&sub_args, "received SUBACK");
    let out = run_on(
        &broker,
        &["pub", "-t", "dbg/x", "-m", "hello", "-q", "1", "-r", "-d"],
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains(
            "sent PUBLISH (topic \"dbg/x\", QoS 1, retain 1, DUP 0, packet id 1, 5 bytes)"
        ),
        "{}",
        stderr(&out)
    );
    let got = sub.finish();
    let log = stderr(&got);
    for needle in [
        "sent SUBSCRIBE (packet id 1, \"dbg/#\" QoS 1, \"other\" QoS 1)",
        "received SUBACK (packet id 1, granted QoS 1, granted QoS 1)",
        "received PUBLISH (topic \"dbg/x\", QoS 1, retain 0, DUP 0, packet id 1, 5 bytes)",
    ] {
        assert!(log.contains(needle), "{needle:?} in:\n{log}");
    }
    // Clean up the retained message for the other tests of this broker.
    assert_code(&run_on(&broker, &["pub", "-t", "dbg/x", "-n", "-r"]), 0);
}

#[test]
fn max_inflight_of_one_still_delivers_everything_in_order() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "w", "-q", "2", "-C", "200"]);
    let input: String = (1..=200).map(|n| format!("{n}\n")).collect();
    let args = command(
        "pub",
        &broker,
        &["-t", "w", "-l", "-q", "2", "--max-inflight", "1", "-d"],
    );
    let out = run_args(&args, input.as_bytes());
    assert_code(&out, 0);
    // One in flight at a time: a slot is free at PUBREC, the packet id at PUBCOMP, so ids 1
    // and 2 take turns (twice the window) and there is never a third.
    let log = stderr(&out);
    assert!(log.contains("DUP 0, packet id 2,"), "{log}");
    assert!(
        !log.contains("DUP 0, packet id 3,"),
        "more than one in flight:\n{log}"
    );
    assert_eq!(stdout(&sub.finish()), input);
}

#[test]
fn no_tls_contradicts_a_tls_url() {
    let out = run(
        &[
            "pub",
            "-L",
            "mqtts://broker.example",
            "--no-tls",
            "-t",
            "x",
            "-m",
            "x",
        ],
        b"",
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--no-tls contradicts"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unsubscribe_drops_a_persistent_subscription() {
    let broker = Broker::start();
    let session = ["-c", "-i", "worker-9", "-q", "1"];
    let with_session = |rest: &[&str]| {
        let mut args = vec!["sub"];
        args.extend(session);
        args.extend(rest);
        run_on(&broker, &args)
    };
    assert_code(&with_session(&["-t", "jobs", "-t", "alerts", "-E"]), 0);
    // -U without -t: unsubscribe and leave.
    assert_code(&with_session(&["-U", "jobs"]), 0);
    assert_code(
        &run_on(&broker, &["pub", "-t", "jobs", "-m", "lost", "-q", "1"]),
        0,
    );
    assert_code(
        &run_on(&broker, &["pub", "-t", "alerts", "-m", "kept", "-q", "1"]),
        0,
    );
    // Only the subscription still in the session queued a message.
    let out = with_session(&["-t", "alerts", "-C", "1", "-W", "5s"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "kept\n");
    let out = with_session(&["-t", "alerts", "-W", "300ms"]);
    assert_eq!(stdout(&out), "", "nothing else was queued");
}
