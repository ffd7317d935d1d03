//! TLS against mosquitto TLS listeners, with certificates made by rcgen for each test run.

mod common;

use common::pki::Pki;
use common::*;

#[track_caller]
fn assert_tls_failure(out: &std::process::Output, needle: &str) {
    assert_code(out, 4);
    assert!(
        stderr(out).contains(needle),
        "expected {needle:?} in:\n{}",
        stderr(out)
    );
}

#[test]
fn round_trip_with_cafile_by_name_and_by_ip() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let ca = pki.arg("ca.pem");
    for host in ["localhost", "127.0.0.1"] {
        let port = broker.port.to_string();
        let mut sub = Background::spawn(
            &[
                "sub", "-h", host, "-p", &port, "--cafile", &ca, "-t", "secure", "-C", "1",
            ]
            .map(String::from),
            "received SUBACK",
        );
        sub.wait_for_stderr("received SUBACK");
        assert_code(&publish_secure(&broker, host, &["--cafile", &ca]), 0);
        let got = sub.finish();
        assert_code(&got, 0);
        assert_eq!(stdout(&got), "hello\n", "via {host}");
    }
}

#[test]
fn tls_server_name_checks_another_name_than_the_host() {
    let pki = Pki::new();
    let broker = pki.broker("other-name", "");
    let ca = pki.arg("ca.pem");
    // By IP, the certificate (broker.example.com only) does not match...
    let out = publish_secure(&broker, "127.0.0.1", &["--cafile", &ca]);
    assert_tls_failure(
        &out,
        "not valid for the name '127.0.0.1': it names broker.example.com",
    );
    // ...unless we say which name to check.
    let out = publish_secure(
        &broker,
        "127.0.0.1",
        &["--cafile", &ca, "--tls-server-name", "broker.example.com"],
    );
    assert_code(&out, 0);
}

#[test]
fn the_mozilla_roots_do_not_trust_a_private_ca() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let out = publish_secure(&broker, "localhost", &["--tls"]);
    assert_tls_failure(
        &out,
        "not signed by a trusted CA (trusted: the Mozilla root certificates)",
    );
    let out = publish_secure(
        &broker,
        "localhost",
        &["--cafile", &pki.arg("other-ca.pem")],
    );
    assert_tls_failure(&out, "other-ca.pem");
}

#[test]
fn expired_certificate_names_the_date_and_insecure_connects_with_a_warning() {
    let pki = Pki::new();
    let broker = pki.broker("expired", "");
    let out = publish_secure(&broker, "localhost", &["--cafile", &pki.arg("ca.pem")]);
    assert_tls_failure(&out, "expired on 2021-01-01");
    let out = publish_secure(&broker, "localhost", &["--insecure"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("--insecure: the server's certificate is not verified"));
    let out = publish_secure(&broker, "localhost", &["--insecure", "--quiet"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("not verified"),
        "--quiet must not hide the warning"
    );
}

#[test]
fn not_yet_valid_certificate_names_the_date() {
    let pki = Pki::new();
    let broker = pki.broker("future", "");
    let out = publish_secure(&broker, "localhost", &["--cafile", &pki.arg("ca.pem")]);
    assert_tls_failure(&out, "not valid until 2099-01-01");
}

#[test]
fn mutual_tls_with_and_without_a_client_certificate() {
    let pki = Pki::new();
    let broker = pki.broker("server", "require_certificate true\n");
    let ca = pki.arg("ca.pem");
    let out = publish_secure(
        &broker,
        "localhost",
        &[
            "--cafile",
            &ca,
            "--cert",
            &pki.arg("client.pem"),
            "--key",
            &pki.arg("client.key"),
        ],
    );
    assert_code(&out, 0);
    let out = publish_secure(&broker, "localhost", &["--cafile", &ca]);
    assert_tls_failure(&out, "requires a client certificate");
}

#[test]
fn tls13_only_broker() {
    let pki = Pki::new();
    let broker = pki.broker("server", "tls_version tlsv1.3\n");
    let ca = pki.arg("ca.pem");
    assert_code(
        &publish_secure(
            &broker,
            "localhost",
            &["--cafile", &ca, "--tls-version", "1.3"],
        ),
        0,
    );
    assert_code(&publish_secure(&broker, "localhost", &["--cafile", &ca]), 0);
}

#[test]
fn tls_client_against_a_plaintext_port() {
    let broker = Broker::start();
    let out = publish_secure(&broker, "127.0.0.1", &["--tls"]);
    assert_tls_failure(&out, "is this a TLS port?");
}

/// The other way round: plain MQTT to a TLS port, which resets the connection on the CONNECT.
#[test]
fn plain_client_against_a_tls_port() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let out = publish_secure(&broker, "127.0.0.1", &[]);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("a TLS port does that to plain MQTT (try --tls, or mqtts://)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn mqtts_url_and_port_8883_turn_tls_on() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let url = format!("mqtts://localhost:{}/secure", broker.port);
    let out = run(
        &["pub", "-L", &url, "--cafile", &pki.arg("ca.pem"), "-m", "x"],
        b"",
    );
    assert_code(&out, 0);
    // Without a CA the default trust (Mozilla roots) rejects the test CA: proof TLS was on.
    let out = run(&["pub", "-L", &url, "-m", "x"], b"");
    assert_tls_failure(&out, "not signed by a trusted CA");
}

#[test]
fn bad_pem_files_are_bad_input() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let garbage = garbage.display().to_string();
    for (flags, needle) in [
        (
            vec!["--cafile", "/nonexistent/ca.pem"],
            "/nonexistent/ca.pem",
        ),
        (vec!["--cafile", garbage.as_str()], "no PEM certificate"),
        (
            vec!["--cert", garbage.as_str(), "--key", garbage.as_str()],
            "garbage.pem",
        ),
        (
            vec![
                "--cert",
                &pki.arg("client.pem"),
                "--key",
                &pki.arg("server.key"),
            ],
            "does not go with",
        ),
        (vec!["--capath", "/nonexistent"], "--capath"),
        (vec!["--tls-server-name", "bad name!"], "--tls-server-name"),
    ] {
        let mut args = vec!["pub", "-h", "127.0.0.1", "-p", "9", "-t", "x", "-m", "x"];
        args.extend(flags.iter().copied());
        let out = run(&args, b"");
        assert_code(&out, 2);
        assert!(stderr(&out).contains(needle), "{flags:?}: {}", stderr(&out));
    }
}

#[test]
fn name_mismatch_lists_dns_and_ip_names() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let out = publish_secure(
        &broker,
        "127.0.0.1",
        &[
            "--cafile",
            &pki.arg("ca.pem"),
            "--tls-server-name",
            "wrong.example",
        ],
    );
    assert_tls_failure(
        &out,
        "not valid for the name 'wrong.example': it names localhost, 127.0.0.1",
    );
}

/// Accepts one TLS connection, records the SNI and ALPN protocols the client offered, hangs up.
fn client_hello(host: &str, flags: &[&str]) -> (Option<String>, Vec<String>) {
    let (port, recorder) = common::pki::client_hello_recorder();
    let port = port.to_string();
    let mut args = vec![
        "pub", "-h", host, "-p", &port, "--tls", "-t", "x", "-m", "x",
    ];
    args.extend(flags);
    let out = run(&args, b"");
    assert_code(&out, 4);
    recorder.join().expect("recorder")
}

#[test]
fn sni_is_the_host_name_or_the_tls_server_name() {
    let sni_of = |host: &str, flags: &[&str]| client_hello(host, flags).0;
    assert_eq!(sni_of("localhost", &[]).as_deref(), Some("localhost"));
    assert_eq!(
        sni_of("127.0.0.1", &["--tls-server-name", "broker.example.com"]).as_deref(),
        Some("broker.example.com")
    );
    // An IP address is never sent as SNI (RFC 6066).
    assert_eq!(sni_of("127.0.0.1", &[]), None);
    // Over wss:// too, whatever the URL's host.
    assert_eq!(
        sni_of(
            "127.0.0.1",
            &[
                "-L",
                "wss://127.0.0.1/mqtt",
                "--tls-server-name",
                "broker.example.com"
            ]
        )
        .as_deref(),
        Some("broker.example.com")
    );
    assert_eq!(
        sni_of("localhost", &["-L", "wss://localhost/mqtt"]).as_deref(),
        Some("localhost")
    );
}

/// A server that reads the ClientHello and hangs up, as an SNI router does without a name.
fn hangs_up_after_client_hello(host: &str) -> std::process::Output {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut hello = [0u8; 512];
        let _ = std::io::Read::read(&mut stream, &mut hello);
    });
    let out = run(
        &[
            "pub", "-h", host, "-p", &port, "--tls", "-t", "x", "-m", "x",
        ],
        b"",
    );
    server.join().expect("server");
    out
}

#[test]
fn a_handshake_closed_without_sni_says_no_server_name_was_sent() {
    let out = hangs_up_after_client_hello("127.0.0.1");
    assert_tls_failure(
        &out,
        "no server name (SNI) was sent because 127.0.0.1 is an IP address",
    );
    assert!(
        stderr(&out).contains("--tls-server-name NAME"),
        "{}",
        stderr(&out)
    );
    // By name, SNI was sent: that is not the reason.
    let out = hangs_up_after_client_hello("localhost");
    assert_tls_failure(&out, "is this a TLS port?");
    assert!(!stderr(&out).contains("SNI"), "{}", stderr(&out));
}

#[test]
fn alpn_protocols_are_offered() {
    let (_, alpn) = client_hello("localhost", &["--alpn", "x-amzn-mqtt-ca", "--alpn", "mqtt"]);
    assert_eq!(alpn, vec!["x-amzn-mqtt-ca".to_string(), "mqtt".to_string()]);
    assert_eq!(client_hello("localhost", &[]).1, Vec::<String>::new());
}

#[test]
fn tls_server_name_lets_an_ip_connection_check_a_localhost_certificate() {
    let pki = Pki::new();
    let broker = pki.broker("localhost-only", "");
    let ca = pki.arg("ca.pem");
    assert_tls_failure(
        &publish_secure(&broker, "127.0.0.1", &["--cafile", &ca]),
        "it names localhost",
    );
    assert_code(
        &publish_secure(
            &broker,
            "127.0.0.1",
            &["--cafile", &ca, "--tls-server-name", "localhost"],
        ),
        0,
    );
}

#[test]
fn capath_native_roots_and_insecure_against_a_foreign_ca() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    // --capath: every .pem in the directory.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(pki.path("ca.pem"), dir.path().join("ca.pem")).expect("copy");
    std::fs::copy(pki.path("other-ca.pem"), dir.path().join("other.pem")).expect("copy");
    assert_code(
        &publish_secure(
            &broker,
            "localhost",
            &["--capath", dir.path().to_str().expect("utf-8")],
        ),
        0,
    );
    // --native-roots reads the system store; SSL_CERT_FILE points it at our CA.
    let port = broker.port.to_string();
    let native_roots_with = |store: &str| {
        cli()
            .args([
                "pub",
                "-h",
                "localhost",
                "-p",
                &port,
                "--native-roots",
                "-t",
                "x",
                "-m",
                "x",
            ])
            .env("SSL_CERT_FILE", pki.path(store))
            .output()
            .expect("run")
    };
    assert_code(&native_roots_with("ca.pem"), 0);
    let out = native_roots_with("other-ca.pem");
    assert_tls_failure(&out, "trusted: the system's root certificates");
    // --insecure connects whatever the CA, and says so.
    let out = publish_secure(&broker, "localhost", &["--insecure"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("not verified"));
}

#[test]
fn sslkeylogfile_records_session_keys() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let dir = tempfile::tempdir().expect("tempdir");
    let keylog = dir.path().join("keys.log");
    let port = broker.port.to_string();
    let out = cli()
        .args([
            "pub",
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            &pki.arg("ca.pem"),
            "-t",
            "x",
            "-m",
            "x",
        ])
        .env("SSLKEYLOGFILE", &keylog)
        .output()
        .expect("run");
    assert_code(&out, 0);
    let log = std::fs::read_to_string(&keylog).expect("key log written");
    assert!(log.contains("CLIENT_") || log.contains("SERVER_"), "{log}");
}
