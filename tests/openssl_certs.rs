//! TLS with certificates made the way users make them: by the `openssl` command line, as the
//! mosquitto-tls(7) man page and most tutorials show. `openssl x509 -req` without `-extfile`
//! makes X.509 version 1 certificates, which webpki (and so rustls) does not accept.

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
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        openssl(dir, &["genrsa", "-out", &key, "2048"]);
        let subject = format!("/CN={cn}");
        openssl(
            dir,
            &["req", "-out", &csr, "-key", &key, "-new", "-subj", &subject],
        );
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

#[test]
fn a_version_1_server_certificate_is_explained_and_insecure_gets_past_it() {
    let pki = OpensslPki::new();
    pki.issue("server", "localhost", None);
    let broker = pki.broker("server", "");
    let ca = pki.arg("ca.crt");
    let out = publish_secure(&broker, "localhost", &["--cafile", &ca]);
    assert_code(&out, 4);
    let err = stderr(&out);
    for needle in [
        "X.509 version 1",
        "-extfile",
        "subjectAltName",
        "--insecure",
    ] {
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
