//! What the TLS check reports: a handshake of its own with the session's rustls configuration
//! (rumqttc does not expose its connection), read for the version, the cipher suite and the
//! server's certificate.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use rustls::ClientConnection;
use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;

use crate::settings::ConnectSettings;

/// The negotiated TLS parameters and the server certificate's facts.
#[derive(Debug, Clone)]
pub struct TlsFacts {
    pub version: String,
    pub cipher_suite: String,
    pub alpn: Option<String>,
    pub subject: String,
    pub issuer: String,
    /// RFC 3339.
    pub not_after: String,
    /// Whole days until the certificate expires (negative once expired).
    pub days_left: i64,
}

/// Shakes hands with the broker as the MQTT session did (through its proxy, if any), within
/// `timeout`.
pub async fn inspect(settings: &ConnectSettings, timeout: Duration) -> Result<TlsFacts> {
    let tls = settings.tls.as_ref().context("not a TLS connection")?;
    let name = tls
        .options
        .server_name
        .clone()
        .unwrap_or_else(|| settings.host.clone());
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| anyhow!("'{name}' is not a valid TLS server name"))?;
    let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
    let handshake = async {
        let socket = crate::client::open_stream(settings)
            .await
            .with_context(|| format!("connecting to {}", settings.address()))?;
        let mut stream = connector
            .connect(server_name, socket)
            .await
            .map_err(|err| handshake_error(&err))?;
        let facts = facts(stream.get_ref().1)?;
        let _ = stream.shutdown().await;
        Ok(facts)
    };
    tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| {
            anyhow!(
                "the TLS handshake did not finish within {}",
                humantime::format_duration(timeout)
            )
        })?
}

fn facts(connection: &ClientConnection) -> Result<TlsFacts> {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    };
    let cipher_suite = connection.negotiated_cipher_suite().map_or_else(
        || "unknown".to_string(),
        |suite| format!("{:?}", suite.suite()),
    );
    let alpn = connection
        .alpn_protocol()
        .map(|protocol| String::from_utf8_lossy(protocol).into_owned());
    let leaf = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .context("the server sent no certificate")?;
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|err| anyhow!("cannot read the server's certificate: {err}"))?;
    let not_after = certificate.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let expiry = UNIX_EPOCH + Duration::from_secs(u64::try_from(not_after).unwrap_or(0));
    let facts = TlsFacts {
        version,
        cipher_suite,
        alpn,
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        not_after: humantime::format_rfc3339_seconds(expiry).to_string(),
        days_left: (not_after - now).div_euclid(86_400),
    };
    Ok(facts)
}

fn handshake_error(err: &io::Error) -> anyhow::Error {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => anyhow!("TLS handshake failed: {tls}"),
        None => anyhow!("TLS handshake failed: {err}"),
    }
}
