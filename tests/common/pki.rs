//! Certificates for the TLS tests, made by rcgen at test time.

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use super::Broker;

/// A CA with the certificates the tests need, written as PEM files into a temporary directory.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, pem: String| {
            std::fs::write(dir.path().join(name), pem).expect("write pem");
        };
        let (issuer, ca_pem) = make_ca("mqtt-cli test CA");
        write("ca.pem", ca_pem);
        let (_, other_ca_pem) = make_ca("an unrelated CA");
        write("other-ca.pem", other_ca_pem);

        // `validity`: None for now-valid, or (not before, not after).
        let leaf =
            |names: &[&str], name: &str, validity: Option<(OffsetDateTime, OffsetDateTime)>| {
                let mut params =
                    CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                        .expect("params");
                params.distinguished_name.push(DnType::CommonName, names[0]);
                if let Some((from, until)) = validity {
                    params.not_before = from;
                    params.not_after = until;
                }
                let key = KeyPair::generate().expect("key");
                let cert = params.signed_by(&key, &issuer).expect("sign");
                write(&format!("{name}.pem"), cert.pem());
                write(&format!("{name}.key"), key.serialize_pem());
            };
        leaf(&["localhost", "127.0.0.1"], "server", None);
        let years = |from, until| Some((date_time_ymd(from, 1, 1), date_time_ymd(until, 1, 1)));
        leaf(&["localhost", "127.0.0.1"], "expired", years(2020, 2021));
        leaf(&["localhost", "127.0.0.1"], "future", years(2099, 2100));
        let now = OffsetDateTime::now_utc();
        leaf(
            &["localhost", "127.0.0.1"],
            "expiring",
            Some((
                now - Duration::days(1),
                now + Duration::days(5) + Duration::hours(1),
            )),
        );
        leaf(&["broker.example.com"], "other-name", None);
        leaf(&["localhost"], "localhost-only", None);
        leaf(&["device-1"], "client", None);
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A rustls server configuration presenting `name` (server, expired, other-name).
    pub fn server_config(&self, name: &str) -> Arc<rustls::ServerConfig> {
        let certs = CertificateDer::pem_file_iter(self.path(&format!("{name}.pem")))
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .expect("read certificate");
        let key =
            PrivateKeyDer::from_pem_file(self.path(&format!("{name}.key"))).expect("read key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config");
        Arc::new(config)
    }

    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A mosquitto TLS listener presenting `server` (server, expired, other-name).
    pub fn broker(&self, server: &str, extra: &str) -> Broker {
        super::tls_broker(
            self.path("ca.pem"),
            self.path(&format!("{server}.pem")),
            self.path(&format!("{server}.key")),
            extra,
        )
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

/// What a client offered in its ClientHello: its server name (SNI) and ALPN protocols.
pub type ClientHello = (Option<String>, Vec<String>);

/// A TLS server on a free loopback port that reads one ClientHello and hangs up: the port,
/// and what the client offered.
pub fn client_hello_recorder() -> (u16, std::thread::JoinHandle<ClientHello>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let recorder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut acceptor = rustls::server::Acceptor::default();
        loop {
            acceptor.read_tls(&mut stream).expect("read ClientHello");
            if let Some(accepted) = acceptor.accept().expect("a ClientHello") {
                let hello = accepted.client_hello();
                let alpn = hello
                    .alpn()
                    .map(|protocols| {
                        protocols
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                return (hello.server_name().map(String::from), alpn);
            }
        }
    });
    (port, recorder)
}
