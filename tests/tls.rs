//! TLS against mosquitto TLS listeners, with certificates made by rcgen for each test run.

mod common;

use std::path::PathBuf;

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};

/// A CA with the certificates the tests need, written as PEM files into a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, pem: String| {
            std::fs::write(dir.path().join(name), pem).expect("write pem");
        };
        let (issuer, ca_pem) = make_ca("mqtt-cli test CA");
        write("ca.pem", ca_pem);
        let (_, other_ca_pem) = make_ca("an unrelated CA");
        write("other-ca.pem", other_ca_pem);

        let leaf = |names: &[&str], name: &str, expired: bool| {
            let mut params =
                CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                    .expect("params");
            params.distinguished_name.push(DnType::CommonName, names[0]);
            if expired {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(2021, 1, 1);
            }
            let key = KeyPair::generate().expect("key");
            let cert = params.signed_by(&key, &issuer).expect("sign");
            write(&format!("{name}.pem"), cert.pem());
            write(&format!("{name}.key"), key.serialize_pem());
        };
        leaf(&["localhost", "127.0.0.1"], "server", false);
        leaf(&["localhost", "127.0.0.1"], "expired", true);
        leaf(&["broker.example.com"], "other-name", false);
        leaf(&["device-1"], "client", false);
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A mosquitto TLS listener presenting `server` (server, expired, other-name).
    fn broker(&self, server: &str, extra: &str) -> Broker {
        let (ca, cert, key) = (
            self.path("ca.pem"),
            self.path(&format!("{server}.pem")),
            self.path(&format!("{server}.key")),
        );
        let extra = extra.to_string();
        Broker::with_files(move |_| {
            format!(
                "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n{extra}",
                ca.display(),
                cert.display(),
                key.display()
            )
        })
    }
}

fn make_ca(name: &str) -> (Issuer<'static, KeyPair>, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-sign");
    (Issuer::new(params, key), cert.pem())
}

/// `pub` one message over TLS to `host` with extra flags; returns the output.
fn publish(broker: &Broker, host: &str, flags: &[&str]) -> std::process::Output {
    let port = broker.port.to_string();
    let mut args = vec![
        "pub", "-h", host, "-p", &port, "-t", "secure", "-m", "hello", "-q", "1",
    ];
    args.extend(flags);
    run(&args, b"")
}

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
        assert_code(&publish(&broker, host, &["--cafile", &ca]), 0);
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
    let out = publish(&broker, "127.0.0.1", &["--cafile", &ca]);
    assert_tls_failure(
        &out,
        "not valid for the name '127.0.0.1': it names broker.example.com",
    );
    // ...unless we say which name to check.
    let out = publish(
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
    let out = publish(&broker, "localhost", &["--tls"]);
    assert_tls_failure(
        &out,
        "not signed by a trusted CA (trusted: the Mozilla root certificates)",
    );
    let out = publish(
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
    let out = publish(&broker, "localhost", &["--cafile", &pki.arg("ca.pem")]);
    assert_tls_failure(&out, "expired on 2021-01-01");
    let out = publish(&broker, "localhost", &["--insecure"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("--insecure: the server's certificate is not verified"));
    let out = publish(&broker, "localhost", &["--insecure", "--quiet"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("not verified"),
        "--quiet must not hide the warning"
    );
}

#[test]
fn mutual_tls_with_and_without_a_client_certificate() {
    let pki = Pki::new();
    let broker = pki.broker("server", "require_certificate true\n");
    let ca = pki.arg("ca.pem");
    let out = publish(
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
    let out = publish(&broker, "localhost", &["--cafile", &ca]);
    assert_tls_failure(&out, "requires a client certificate");
}

#[test]
fn tls13_only_broker() {
    let pki = Pki::new();
    let broker = pki.broker("server", "tls_version tlsv1.3\n");
    let ca = pki.arg("ca.pem");
    assert_code(
        &publish(
            &broker,
            "localhost",
            &["--cafile", &ca, "--tls-version", "1.3"],
        ),
        0,
    );
    assert_code(&publish(&broker, "localhost", &["--cafile", &ca]), 0);
}

#[test]
fn tls_client_against_a_plaintext_port() {
    let broker = Broker::start();
    let out = publish(&broker, "127.0.0.1", &["--tls"]);
    assert_tls_failure(&out, "is this a TLS port?");
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
    let out = publish(
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
