//! `mqtt-cli check`: every check passes on a healthy broker and leaves nothing behind; each
//! fails visibly (exit 8, with its reason) on a broker configured to break it.

mod common;

use common::pki::Pki;
use common::*;
use serde_json::Value;

fn report(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|err| {
        panic!(
            "--json is not one JSON object ({err}): {}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// The check named `name` in a report: (status, reason).
fn check<'a>(report: &'a Value, name: &str) -> (&'a str, &'a str) {
    let entry = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|entry| entry["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"));
    (
        entry["status"].as_str().expect("status"),
        entry["reason"].as_str().expect("reason"),
    )
}

#[test]
fn every_check_passes_on_a_healthy_broker_and_nothing_is_left_behind() {
    let broker = Broker::with_config("allow_anonymous true\nsys_interval 1\n");
    for version in ["311", "5"] {
        let out = run_on(
            &broker,
            &[
                "check",
                "-V",
                version,
                "--json",
                "--topic-prefix",
                "ci/check",
            ],
        );
        assert_code(&out, 0);
        let report = report(&out);
        assert_eq!(report["passed"], true, "{report}");
        assert_eq!(report["topic_prefix"], "ci/check");
        assert_eq!(report["transport"], "tcp");
        assert_eq!(
            report["protocol"],
            if version == "5" { "5" } else { "3.1.1" }
        );
        let names: Vec<&str> = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|entry| entry["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            [
                "connect",
                "tls",
                "qos0",
                "qos1",
                "qos2",
                "retained",
                "will",
                "wildcards",
                "large-payload"
            ]
        );
        assert_eq!(check(&report, "tls").0, "skip");
        for name in &names[2..] {
            assert_eq!(check(&report, name).0, "pass", "{name}: {report}");
        }
        let qos2 = &report["checks"][4]["details"];
        assert_eq!(qos2["received"], 10);
        assert!(qos2["latency_ms"]["p95"].as_f64().is_some(), "{qos2}");
        assert_eq!(report["summary"]["failed"], 0);
        // The table goes to stderr.
        assert!(stderr(&out).contains("PASS  qos1"), "{}", stderr(&out));
        if version == "5" {
            assert_eq!(
                report["checks"][0]["details"]["announced"]["receive_maximum"],
                20
            );
        }
    }
    // No retained message and no persistent session left behind.
    let out = run_on(&broker, &["sub", "-t", "ci/#", "--retained-only", "-v"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "");
    let out = run_on(
        &broker,
        &[
            "sub",
            "-t",
            "$SYS/broker/clients/disconnected",
            "-C",
            "1",
            "-W",
            "5s",
        ],
    );
    // A session left behind counts 1 or more. mosquitto 2.0.11 sometimes reports -1 here (seen
    // once in 15 runs): a miscount of its own, not a session left behind.
    let disconnected: i64 = stdout(&out).trim().parse().expect("a count");
    assert!(
        disconnected <= 0,
        "persistent sessions left: {disconnected}"
    );
}

fn broken_broker() -> Broker {
    Broker::with_files(|dir| {
        let acl = dir.join("acl");
        std::fs::write(&acl, "topic readwrite ci/#\n").expect("write acl");
        format!(
            "allow_anonymous true\nretain_available false\nmax_packet_size 10000\nmax_qos 1\nacl_file {}\n",
            acl.display()
        )
    })
}

#[test]
fn each_check_fails_visibly_on_a_broker_that_breaks_it() {
    let broker = broken_broker();
    // Allowed prefix: only what the configuration breaks fails.
    let out = run_on(
        &broker,
        &[
            "check",
            "-V",
            "5",
            "--json",
            "--topic-prefix",
            "ci/x",
            "-W",
            "10s",
        ],
    );
    assert_code(&out, 8);
    let got = report(&out);
    assert_eq!(got["passed"], false);
    for name in ["connect", "qos0", "qos1", "will", "wildcards"] {
        assert_eq!(check(&got, name).0, "pass", "{name}: {got}");
    }
    let (status, reason) = check(&got, "qos2");
    assert_eq!(status, "fail");
    assert!(reason.contains("maximum QoS is 1"), "{reason}");
    let (status, reason) = check(&got, "retained");
    assert_eq!(status, "fail");
    assert!(
        reason.contains("does not keep retained messages"),
        "{reason}"
    );
    let (status, reason) = check(&got, "large-payload");
    assert_eq!(status, "fail");
    assert!(
        reason.contains("over the broker's maximum packet size of 10000"),
        "{reason}"
    );
    assert!(
        stderr(&out).contains("check failed: qos2, retained, large-payload"),
        "{}",
        stderr(&out)
    );

    // MQTT 3.1.1 has no CONNACK announcements: the broker's refusals show up instead.
    let out = run_on(
        &broker,
        &["check", "--json", "--topic-prefix", "ci/y", "-W", "10s"],
    );
    assert_code(&out, 8);
    let got = report(&out);
    let (status, reason) = check(&got, "qos2");
    assert_eq!(status, "fail");
    assert!(reason.contains("granted QoS 1 for a QoS 2"), "{reason}");
    assert_eq!(check(&got, "retained").0, "fail");
    let (status, reason) = check(&got, "large-payload");
    assert_eq!(status, "fail");
    assert!(reason.contains("maximum packet size?"), "{reason}");

    // A prefix the ACL denies: messages go nowhere (QoS 0) or are refused (MQTT 5, QoS 1).
    let out = run_on(
        &broker,
        &[
            "check",
            "-V",
            "5",
            "--json",
            "--only",
            "qos0,qos1,wildcards",
            "-W",
            "1s",
        ],
    );
    assert_code(&out, 8);
    let got = report(&out);
    let (status, reason) = check(&got, "qos0");
    assert_eq!(status, "fail");
    assert!(reason.contains("received 0 of 10"), "{reason}");
    let (status, reason) = check(&got, "qos1");
    assert_eq!(status, "fail");
    assert!(
        reason.contains("Not authorized (reason code 135)"),
        "{reason}"
    );
    assert_eq!(check(&got, "wildcards").0, "fail");
}

#[test]
fn only_and_skip_choose_checks() {
    let broker = Broker::start();
    let out = run_on(&broker, &["check", "--json", "--only", "qos1,will"]);
    assert_code(&out, 0);
    let got = report(&out);
    let names: Vec<&str> = got["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|entry| entry["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["qos1", "will"]);

    let out = run_on(
        &broker,
        &[
            "check",
            "--json",
            "--skip",
            "large-payload",
            "--skip",
            "tls",
            "--count",
            "200",
        ],
    );
    assert_code(&out, 0);
    let got = report(&out);
    assert_eq!(got["checks"].as_array().expect("checks").len(), 7);
    assert_eq!(got["checks"][1]["details"]["received"], 200);

    for args in [
        &["check", "--only", "nonsense"][..],
        &["check", "--payload-size", "3GiB"],
        &["check", "--count", "0"],
        &["check", "-c", "-i", "x"],
    ] {
        assert_code(&run_on(&broker, args), 2);
    }
}

#[test]
fn tls_facts_and_an_expiring_certificate() {
    let pki = Pki::new();
    let broker = pki.broker("expiring", "");
    let ca = pki.arg("ca.pem");
    let out = run_on(
        &broker,
        &["check", "--cafile", &ca, "--json", "--only", "tls,qos1"],
    );
    assert_code(&out, 0);
    let got = report(&out);
    assert_eq!(got["transport"], "tls");
    let tls = &got["checks"][0]["details"];
    assert!(
        tls["version"] == "TLS 1.3" || tls["version"] == "TLS 1.2",
        "{tls}"
    );
    assert!(
        tls["subject"]
            .as_str()
            .expect("subject")
            .contains("localhost"),
        "{tls}"
    );
    assert!(
        tls["issuer"]
            .as_str()
            .expect("issuer")
            .contains("mqtt-cli test CA"),
        "{tls}"
    );
    assert_eq!(tls["days_left"], 5, "{tls}");

    let out = run_on(
        &broker,
        &[
            "check",
            "--cafile",
            &ca,
            "--json",
            "--only",
            "tls",
            "--cert-expiry-warn",
            "30",
        ],
    );
    assert_code(&out, 8);
    let got = report(&out);
    let (status, reason) = check(&got, "tls");
    assert_eq!(status, "fail");
    assert!(
        reason.contains("expires in 5 days, fewer than --cert-expiry-warn 30"),
        "{reason}"
    );
}

#[test]
fn without_a_connection_the_connect_exit_code_and_a_report() {
    let port = free_port().to_string();
    let out = run(&["check", "-h", "127.0.0.1", "-p", &port, "--json"], b"");
    assert_code(&out, 3);
    let got = report(&out);
    let (status, reason) = check(&got, "connect");
    assert_eq!(status, "fail");
    assert!(reason.contains("connection refused"), "{reason}");
    assert_eq!(check(&got, "qos1"), ("skip", "not connected"));
}

/// rumqttc patch 15: what we read is acknowledged at once when we have nothing to send, so a
/// broker that leaves Nagle's algorithm on (mosquitto's default) is not held by our delayed
/// ACK (40 ms on Linux). Without it, every QoS round trip measured 41-46 ms and a TLS CONNACK
/// (held behind the TLS 1.3 session tickets) about 44 ms; a bound of 20 ms is far from both.
/// A loaded machine makes some runs slow (a TLS CONNACK took 31 ms while two test suites
/// shared 2 cores), a delayed ACK makes every run slow: the best of up to ten runs is judged.
#[test]
fn latency_is_the_brokers_not_our_delayed_acks() {
    let value = |report: &Value, name: &str, field: &str| {
        let checks = report["checks"].as_array().expect("checks");
        let found = checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"));
        found["details"]
            .pointer(field)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("no {field} in {found}"))
    };
    // The runs' reports until one has every measure under 20 ms; at most ten.
    let best_of_ten = |args: &[&str], broker: &Broker, measures: &[(&str, &str)]| {
        let mut reports = Vec::new();
        for _ in 0..10 {
            let out = run_on(broker, args);
            assert_code(&out, 0);
            let got = report(&out);
            let fast = measures
                .iter()
                .all(|(name, field)| value(&got, name, field) < 20.0);
            reports.push(got);
            if fast {
                return;
            }
        }
        panic!("no run under 20 ms in ten: a delayed ACK? {reports:?}");
    };
    let broker = Broker::start();
    best_of_ten(
        &["check", "--json", "--only", "qos0,qos1,qos2"],
        &broker,
        &[
            ("qos0", "/latency_ms/p50"),
            ("qos1", "/latency_ms/p50"),
            ("qos2", "/latency_ms/p50"),
        ],
    );
    // Over TLS the CONNACK waits behind the session tickets: one handshake is one sample.
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let ca = pki.arg("ca.pem");
    best_of_ten(
        &["check", "--cafile", &ca, "--json", "--only", "connect,qos1"],
        &broker,
        &[("connect", "/connack_ms"), ("qos1", "/latency_ms/p50")],
    );
}
