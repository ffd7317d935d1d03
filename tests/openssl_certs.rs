//! TLS with certificates made the way users make them: by the `openssl` command line, as the
//! mosquitto-tls(7) man page and most tutorials show. `openssl x509 -req` without `-extfile`
//! makes X.509 version 1 certificates, which webpki (and so rustls) does not accept: ours
//! verifies them itself (src/tls/v1.rs), compared here with `openssl verify` on each decision.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Runs openssl in `dir`; panics with its stderr if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (install the openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `NAME.key` and a request for CN=`cn` with it: the names of the request and of the
/// certificate to make from it.
fn key_and_request(dir: &Path, name: &str, cn: &str) -> (String, String) {
    let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
    openssl(dir, &["genrsa", "-out", &key, "2048"]);
    let subject = format!("/CN={cn}");
    openssl(
        dir,
        &["req", "-out", &csr, "-key", &key, "-new", "-subj", &subject],
    );
    (csr, format!("{name}.crt"))
}

/// A CA, and certificates signed by it the mosquitto-tls(7) way.
struct OpensslPki {
    dir: tempfile::TempDir,
}

impl OpensslPki {
    fn new() -> OpensslPki {
        let dir = tempfile::tempdir().expect("tempdir");
        openssl(
            dir.path(),
            &[
                "req",
                "-new",
                "-x509",
                "-days",
                "365",
                "-extensions",
                "v3_ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-nodes",
                "-subj",
                "/CN=openssl test CA",
            ],
        );
        OpensslPki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// `NAME.key` and `NAME.crt` with subject CN=`cn`; `extensions` (an `-extfile`'s lines)
    /// make it version 3, none leaves it version 1.
    fn issue(&self, name: &str, cn: &str, extensions: Option<&str>) {
        let dir = self.dir.path();
        let (csr, crt) = key_and_request(dir, name, cn);
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "365",
        ];
        let ext = format!("{name}.ext");
        if let Some(lines) = extensions {
            std::fs::write(dir.join(&ext), lines).expect("write extfile");
            args.extend(["-extfile", &ext]);
        }
        openssl(dir, &args);
        let text = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in", &crt])
            .current_dir(dir)
            .output()
            .expect("openssl");
        let version = if extensions.is_some() { 3 } else { 1 };
        assert!(
            String::from_utf8_lossy(&text.stdout).contains(&format!("Version: {version} ")),
            "openssl made {crt} in another version than {version}"
        );
    }

    /// mosquitto's TLS listener presenting `server`, plus `extra` configuration.
    fn broker(&self, server: &str, extra: &str) -> Broker {
        tls_broker(
            self.path("ca.crt"),
            self.path(&format!("{server}.crt")),
            self.path(&format!("{server}.key")),
            extra,
        )
    }
}

const SERVER_V3: &str = "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";

#[test]
fn a_version_1_client_certificate_connects() {
    let pki = OpensslPki::new();
    pki.issue("server", "localhost", Some(SERVER_V3));
    pki.issue("client", "device-1", None);
    let broker = pki.broker("server", "require_certificate true\n");
    let (ca, cert, key) = (
        pki.arg("ca.crt"),
        pki.arg("client.crt"),
        pki.arg("client.key"),
    );
    let out = publish_secure(
        &broker,
        "localhost",
        &["--cafile", &ca, "--cert", &cert, "--key", &key],
    );
    assert_code(&out, 0);

    // The key of another certificate is still refused before connecting, in words.
    let out = publish_secure(
        &broker,
        "localhost",
        &[
            "--cafile",
            &ca,
            "--cert",
            &cert,
            "--key",
            &pki.arg("server.key"),
        ],
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("does not go with the certificate")
            && stderr(&out).contains("their public keys differ"),
        "{}",
        stderr(&out)
    );
}

/// `openssl ca` (which makes version 1 certificates when no extensions are named) with dates of
/// our choice: `NAME.crt` for CN=`cn`, signed by `issuer` (`ca`, or another name issued so).
fn issue_v1(pki: &OpensslPki, name: &str, cn: &str, issuer: &str, dates: (&str, &str)) {
    let dir = pki.dir.path();
    if !dir.join("ca.cnf").exists() {
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = here\n[here]\ndir = .\ndatabase = index.txt\n\
             new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n\
             unique_subject = no\n[any]\ncommonName = supplied\n",
        )
        .expect("write ca.cnf");
        std::fs::write(dir.join("index.txt"), "").expect("index");
        std::fs::write(dir.join("serial"), "1000\n").expect("serial");
    }
    let (csr, crt) = key_and_request(dir, name, cn);
    let (issuer_crt, issuer_key) = (format!("{issuer}.crt"), format!("{issuer}.key"));
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            &issuer_crt,
            "-keyfile",
            &issuer_key,
            "-in",
            &csr,
            "-out",
            &crt,
            "-notext",
            "-startdate",
            dates.0,
            "-enddate",
            dates.1,
        ],
    );
}

/// Whether `openssl verify` accepts `cert` for `host` under `cafile` (with `untrusted`
/// intermediates).
fn openssl_accepts(
    pki: &OpensslPki,
    cafile: &str,
    untrusted: Option<&str>,
    cert: &str,
    host: &str,
) -> bool {
    let mut command = Command::new("openssl");
    command.current_dir(pki.dir.path());
    command.args(["verify", "-CAfile", cafile, "-verify_hostname", host]);
    if let Some(untrusted) = untrusted {
        command.args(["-untrusted", untrusted]);
    }
    command
        .arg(cert)
        .output()
        .expect("openssl verify")
        .status
        .success()
}

/// X.509 version 1 server certificates (mosquitto-tls(7)'s recipe) are accepted with full
/// verification: every decision here is the one `openssl verify -verify_hostname` makes on the
/// same files, and a version 1 certificate is accepted in no case a version 3 one would not be.
#[test]
fn version_1_server_certificates_are_verified_as_openssl_verifies_them() {
    let pki = OpensslPki::new();
    let (long_ago, yesterday, next_year, later) = (
        "20200101000000Z",
        "20210101000000Z",
        "20990101000000Z",
        "20991231000000Z",
    );
    let now_on = ("20240101000000Z", "20380101000000Z");
    issue_v1(&pki, "good", "localhost", "ca", now_on);
    issue_v1(&pki, "expired", "localhost", "ca", (long_ago, yesterday));
    issue_v1(&pki, "early", "localhost", "ca", (next_year, later));
    issue_v1(&pki, "inter", "v1 intermediate CA", "ca", now_on);
    issue_v1(&pki, "under", "localhost", "inter", now_on);
    // The chain a broker presents for the intermediate's certificate.
    let chain = [pki.path("under.crt"), pki.path("inter.crt")]
        .map(|path| std::fs::read_to_string(path).expect("read"))
        .concat();
    std::fs::write(pki.path("under-chain.crt"), chain).expect("write chain");
    std::fs::copy(pki.path("under.key"), pki.path("under-chain.key")).expect("copy key");
    // A signature byte changed.
    openssl(
        pki.dir.path(),
        &[
            "x509", "-in", "good.crt", "-outform", "der", "-out", "good.der",
        ],
    );
    let mut der = std::fs::read(pki.path("good.der")).expect("read der");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    std::fs::write(pki.path("tampered.der"), der).expect("write");
    openssl(
        pki.dir.path(),
        &[
            "x509",
            "-inform",
            "der",
            "-in",
            "tampered.der",
            "-out",
            "tampered.crt",
        ],
    );
    std::fs::copy(pki.path("good.key"), pki.path("tampered.key")).expect("copy key");
    // Another CA of its own.
    let other = OpensslPki::new();
    std::fs::copy(other.path("ca.crt"), pki.path("other-ca.crt")).expect("copy");

    // Row, certificate served, CA given, intermediates for openssl, the name checked, and
    // what our refusal says.
    let rows = [
        ("good chain", "good", "ca.crt", None, "localhost", ""),
        (
            "wrong CA",
            "good",
            "other-ca.crt",
            None,
            "localhost",
            "valid signature of the CA",
        ),
        (
            "expired",
            "expired",
            "ca.crt",
            None,
            "localhost",
            "expired on Jan  1 00:00:00 2021",
        ),
        (
            "not yet valid",
            "early",
            "ca.crt",
            None,
            "localhost",
            "not valid until Jan  1 00:00:00 2099",
        ),
        (
            "wrong CN",
            "good",
            "ca.crt",
            None,
            "other.example",
            "its CN is 'localhost'",
        ),
        (
            "tampered signature",
            "tampered",
            "ca.crt",
            None,
            "localhost",
            "valid signature of the CA",
        ),
        (
            "v1 intermediate",
            "under-chain",
            "ca.crt",
            Some("inter.crt"),
            "localhost",
            "its issuer: CN=v1 intermediate CA",
        ),
    ];
    let mut table = Vec::new();
    for (row, served, cafile, untrusted, host, says) in rows {
        let certificate = if served == "under-chain" {
            "under.crt".to_string()
        } else {
            format!("{served}.crt")
        };
        let openssl_ok = openssl_accepts(&pki, cafile, untrusted, &certificate, host);
        let broker = pki.broker(served, "");
        let out = publish_secure(
            &broker,
            "localhost",
            &[
                "--cafile",
                &pki.arg(cafile),
                "--tls-server-name",
                host,
                "-d",
            ],
        );
        let ours_ok = out.status.code() == Some(0);
        if !ours_ok {
            assert_code(&out, 4);
        }
        let err = stderr(&out);
        if row == "good chain" {
            assert!(
                err.contains("is X.509 version 1 (no extensions): verified"),
                "{err}"
            );
        } else {
            assert!(err.contains(says), "{row}: {says:?} in:\n{err}");
        }
        table.push(format!(
            "{row:20} openssl {openssl_ok:5} ours {ours_ok:5} {}",
            err.lines().last().unwrap_or_default()
        ));
        assert_eq!(
            ours_ok, openssl_ok,
            "{row}: ours and openssl disagree:\n{err}"
        );
    }
    eprintln!("{}", table.join("\n"));
    let accepted: Vec<&String> = table
        .iter()
        .filter(|line| line.contains("ours true"))
        .collect();
    assert_eq!(
        accepted.len(),
        1,
        "only the good chain passes:\n{}",
        table.join("\n")
    );
}

/// Without a CA of the user's own, a version 1 certificate is refused and explained; --insecure
/// gets past it, saying so.
#[test]
fn a_version_1_server_certificate_without_its_ca_is_explained_and_insecure_gets_past_it() {
    let pki = OpensslPki::new();
    pki.issue("server", "localhost", None);
    let broker = pki.broker("server", "");
    let out = publish_secure(&broker, "localhost", &["--tls"]);
    assert_code(&out, 4);
    let err = stderr(&out);
    for needle in ["X.509 version 1", "--cafile", "-extfile", "subjectAltName"] {
        assert!(err.contains(needle), "{needle:?} in:\n{err}");
    }
    assert!(!err.contains("OtherError"), "{err}");

    let out = publish_secure(&broker, "localhost", &["--insecure"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("warning: --insecure"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_certificate_with_only_a_common_name_is_explained() {
    let pki = OpensslPki::new();
    pki.issue("server", "localhost", Some("basicConstraints=CA:FALSE\n"));
    let broker = pki.broker("server", "");
    let out = publish_secure(&broker, "localhost", &["--cafile", &pki.arg("ca.crt")]);
    assert_code(&out, 4);
    let err = stderr(&out);
    assert!(
        err.contains("has no subjectAltName (only CN=localhost, which TLS clients no longer use)")
            && err.contains("subjectAltName=DNS:localhost"),
        "{err}"
    );
    assert!(!err.contains("it names nothing"), "{err}");
}
