//! Translates rumqttc's errors into our failure kinds, in words a user can act on.

use std::io;

use crate::error::{ErrorKind, failure};
use crate::settings::{ConnectSettings, Transport};

/// The rustls error somewhere inside `err`, if any (io::Error hides it behind `get_ref`).
fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(err);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        current = match error
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

/// A TLS failure in words, if `err` is one: rustls's verdict, or the server hanging up during
/// the handshake.
fn tls_failure(
    rustls_error: Option<&rustls::Error>,
    tls_error: Option<&rumqttc::TlsError>,
    settings: &ConnectSettings,
) -> Option<anyhow::Error> {
    let tls = settings.tls.as_ref()?;
    if let Some(rustls_error) = rustls_error {
        return Some(failure(
            ErrorKind::Tls,
            crate::tls::explain(rustls_error, &tls.options, &settings.host),
        ));
    }
    let inner = tls_error?;
    let closed = matches!(inner, rumqttc::TlsError::Io(io) if matches!(
        io.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    ));
    // A client connecting by IP address sends no server name (RFC 6066), and SNI routers and
    // serverless brokers hang up on a handshake without one.
    let no_sni =
        tls.options.server_name.is_none() && settings.host.parse::<std::net::IpAddr>().is_ok();
    Some(if closed && no_sni {
        failure(
            ErrorKind::Tls,
            format!(
                "the server closed the connection during the TLS handshake, and no server name \
                 (SNI) was sent because {} is an IP address: the broker may need one; connect \
                 by its host name, or give it with --tls-server-name NAME. Or is this a TLS \
                 port? (plain MQTT is usually 1883, TLS 8883)",
                settings.host
            ),
        )
    } else if closed {
        failure(
            ErrorKind::Tls,
            "the server closed the connection during the TLS handshake: is this a TLS \
             port? (plain MQTT is usually 1883, TLS 8883)",
        )
    } else {
        failure(ErrorKind::Tls, format!("TLS failed: {inner}"))
    })
}

/// rumqttc's own connect timeout, worded the same for both protocol versions (its v4 error says
/// "Network timeout", its v5 one "deadline has elapsed").
const CONNECT_TIMED_OUT: &str = "timed out waiting for the broker (--connect-timeout)";

const CLOSED_BEFORE_CONNACK: &str = "the server closed the connection before answering CONNECT \
     (is this an MQTT port? does the broker accept this protocol version and client id?)";

/// A server whose first bytes are not a CONNACK: say what it sent, and what it probably is.
fn not_mqtt(bytes: &[u8], settings: &ConnectSettings) -> anyhow::Error {
    let speaks_tls = matches!(bytes, [0x15 | 0x16, 0x03, ..]);
    let hint = if speaks_tls && settings.tls.is_none() {
        ": is this an MQTT port? It speaks TLS: try --tls (or mqtts://)"
    } else {
        ": is this an MQTT port?"
    };
    failure(
        ErrorKind::Connect,
        format!(
            "not an MQTT server (it sent {}){hint}",
            describe_bytes(bytes)
        ),
    )
}

/// What a server's first bytes look like, in words: an HTTP status line, an SSH banner, a TLS
/// record, a packet of another kind, text, or hex.
fn describe_bytes(bytes: &[u8]) -> String {
    let first_line = |bytes: &[u8]| {
        let line = bytes
            .split(|&b| b == b'\r' || b == b'\n')
            .next()
            .unwrap_or(bytes);
        String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned()
    };
    let printable = |bytes: &[u8]| {
        bytes
            .iter()
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    };
    match bytes {
        [0x15, 0x03, ..] => "a TLS alert".to_string(),
        [0x16, 0x03, ..] => "a TLS handshake record, such as a ServerHello".to_string(),
        _ if bytes.starts_with(b"HTTP/") => format!("an HTTP reply: '{}'", first_line(bytes)),
        _ if bytes.starts_with(b"SSH-") => format!("an SSH banner: '{}'", first_line(bytes)),
        _ if printable(&bytes[..bytes.len().min(32)]) => {
            format!("text: '{}'", first_line(bytes))
        }
        [first, ..] if packet_name(*first).is_some() => format!(
            "an MQTT {} packet before any CONNACK",
            packet_name(*first).unwrap_or_default()
        ),
        _ => {
            let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let more = if bytes.len() > 16 { " ..." } else { "" };
            format!("the bytes {}{more}", shown.join(" "))
        }
    }
}

/// The packet a server may send whose fixed header starts with `first`.
fn packet_name(first: u8) -> Option<&'static str> {
    Some(match first {
        0x30..=0x3f => "PUBLISH",
        0x40 => "PUBACK",
        0x50 => "PUBREC",
        0x62 => "PUBREL",
        0x70 => "PUBCOMP",
        0x90 => "SUBACK",
        0xb0 => "UNSUBACK",
        0xd0 => "PINGRESP",
        0xe0 => "DISCONNECT",
        0xf0 => "AUTH",
        _ => return None,
    })
}

/// A WebSocket upgrade that failed: the server is not a WebSocket endpoint at that path.
/// (tungstenite's error is read by its words, so that its type need not be a dependency.)
fn websocket_failure(err: &dyn std::fmt::Display, settings: &ConnectSettings) -> anyhow::Error {
    let url = settings.websocket_url().unwrap_or_default();
    let text = err.to_string();
    let what = match text.strip_prefix("HTTP error: ") {
        Some(status) => {
            format!("the server refused the WebSocket upgrade at {url} with HTTP {status}")
        }
        None => format!("the server did not answer the WebSocket upgrade at {url} ({text})"),
    };
    failure(
        ErrorKind::Connect,
        format!(
            "{what}: is this the broker's WebSocket port, and its path (--ws-path, default /mqtt)?"
        ),
    )
}

/// What ended a connection or kept it from being made, the same for both protocol versions:
/// `v4.rs` and `v5.rs` say which of these their rumqttc error is (their `broken`); the words,
/// the exit codes and whether to reconnect are decided here, once.
#[derive(Debug)]
pub(super) enum Failure {
    /// The broker's CONNACK said no: its reason in words, whether the reason is about the
    /// credentials, and whether trying again later may help (server unavailable or busy).
    Refused {
        words: String,
        about_credentials: bool,
        retry: bool,
    },
    /// The TLS handshake failed (rustls's own verdict is in [`Broken::rustls`]).
    Tls(rumqttc::TlsError),
    /// rumqttc's own connect timeout.
    Timeout,
    /// A write that did not finish in time (MQTT 3.1.1).
    FlushTimeout,
    /// The socket failed: connecting, reading or writing.
    Io(io::Error),
    /// The stream failed under the protocol's state machine (before a CONNACK: the server
    /// hung up).
    StateIo(io::Error),
    /// The stream failed while a packet was being read.
    CodecIo(io::Error),
    /// The broker closed the connection.
    Aborted,
    /// No PINGRESP in time.
    NoPingResp,
    /// The server's first bytes are not MQTT.
    NotMqtt(Vec<u8>),
    /// A packet that does not parse: what was wrong, and the protocol expected.
    Malformed {
        what: String,
        protocol: &'static str,
    },
    /// The WebSocket upgrade failed (tungstenite's words).
    Websocket(String),
    /// The server answered CONNECT with another packet.
    NotConnAck(String),
    /// The broker said no after the session began (MQTT 5: its DISCONNECT, a limit of its
    /// CONNACK), and whether reconnecting may help.
    Rejected { words: String, retry: bool },
    /// Anything else: rumqttc's own words.
    Other,
}

/// A rumqttc error of either protocol version, as [`Failure`]: with rustls's error if one is
/// inside, and rumqttc's own words.
#[derive(Debug)]
pub(super) struct Broken {
    pub failure: Failure,
    pub rustls: Option<rustls::Error>,
    pub text: String,
}

impl Broken {
    /// `err`, which `failure` says the meaning of; its words and rustls error are kept.
    pub(super) fn from_error<E: std::error::Error + 'static>(
        err: E,
        failure: impl FnOnce(E) -> Failure,
    ) -> Broken {
        let rustls = find_rustls_error(&err).cloned();
        let text = err.to_string();
        Broken {
            failure: failure(err),
            rustls,
            text,
        }
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An error while connecting (before a successful CONNACK).
pub(super) fn connect_error(broken: Broken, settings: &ConnectSettings) -> anyhow::Error {
    let tls_error = match &broken.failure {
        Failure::Tls(inner) => Some(inner),
        _ => None,
    };
    if let Some(tls) = tls_failure(broken.rustls.as_ref(), tls_error, settings) {
        return tls;
    }
    match broken.failure {
        Failure::Refused {
            words,
            about_credentials,
            ..
        } => failure(
            ErrorKind::Refused,
            format!(
                "the broker refused the connection: {words}{}",
                credentials_hint(about_credentials, settings)
            ),
        ),
        Failure::Timeout => failure(ErrorKind::Connect, CONNECT_TIMED_OUT),
        Failure::Io(io) => failure(ErrorKind::Connect, io_reason(&io, settings)),
        Failure::Aborted | Failure::StateIo(_)
            if settings.protocol == crate::types::ProtocolVersion::V31 =>
        {
            failure(
                ErrorKind::Connect,
                "the server closed the connection after our MQTT 3.1 CONNECT: a broker that \
                 does not speak 3.1 does that (try -V 311)",
            )
        }
        // A TLS listener resets a plain connection once it reads our CONNECT.
        Failure::StateIo(io) | Failure::CodecIo(io)
            if io.kind() == io::ErrorKind::ConnectionReset && settings.tls.is_none() =>
        {
            failure(
                ErrorKind::Connect,
                "the server reset the connection on our CONNECT: a TLS port does that to plain \
                 MQTT (try --tls, or mqtts://), as does a broker refusing the protocol version \
                 or client id",
            )
        }
        Failure::Aborted | Failure::StateIo(_) | Failure::CodecIo(_) => {
            failure(ErrorKind::Connect, CLOSED_BEFORE_CONNACK)
        }
        Failure::NotMqtt(bytes) => not_mqtt(&bytes, settings),
        Failure::Websocket(text) => websocket_failure(&text, settings),
        Failure::Malformed { what, protocol } => failure(
            ErrorKind::Connect,
            format!("the server's answer is not {protocol} ({what}): is this an MQTT port?"),
        ),
        Failure::NotConnAck(packet) => failure(
            ErrorKind::Connect,
            format!("the server answered CONNECT with {packet} instead of CONNACK"),
        ),
        _ => failure(ErrorKind::Connect, broken.text),
    }
}

/// An error after a session was established: the broker's DISCONNECT and the limits it
/// announced are rejections (exit 6), the rest a lost connection.
pub(super) fn lost_error(broken: Broken) -> anyhow::Error {
    let reason = match broken.failure {
        Failure::Rejected { words, .. } => return failure(ErrorKind::Rejected, words),
        Failure::Aborted => "the broker closed the connection".to_string(),
        Failure::Io(io) | Failure::CodecIo(io) => io.to_string(),
        Failure::NoPingResp => "the broker stopped answering (no PINGRESP)".to_string(),
        Failure::Timeout => CONNECT_TIMED_OUT.to_string(),
        _ => broken.text,
    };
    failure(ErrorKind::Lost, format!("connection lost: {reason}"))
}

/// Whether reconnecting may help: the network or the broker went away, or the broker says it
/// is busy or going away, as opposed to the broker saying no, a certificate that will not
/// verify, or our own mistake.
pub(super) fn recoverable(broken: &Broken) -> bool {
    if broken.rustls.is_some() {
        return false;
    }
    match &broken.failure {
        Failure::Io(_)
        | Failure::Timeout
        | Failure::FlushTimeout
        | Failure::Tls(_)
        | Failure::StateIo(_)
        | Failure::Aborted
        | Failure::NoPingResp
        | Failure::CodecIo(_) => true,
        Failure::Refused { retry, .. } | Failure::Rejected { retry, .. } => *retry,
        _ => false,
    }
}

/// What a newcomer with no broker is told (README: quick start).
pub const START_A_BROKER: &str = "Start one (Debian/Ubuntu: sudo apt install mosquitto; macOS: brew install mosquitto && brew services start mosquitto; Docker: docker run -p 1883:1883 eclipse-mosquitto mosquitto -c /mosquitto-no-auth.conf), or point elsewhere with -h HOST, -L URL or --profile NAME";

fn io_reason(io: &io::Error, settings: &ConnectSettings) -> String {
    // A proxy, -A or --unix failure, already in words.
    if let Some(unreachable) = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<crate::proxy_handshake::Unreachable>())
    {
        return unreachable.to_string();
    }
    let address = settings.address();
    match io.kind() {
        io::ErrorKind::ConnectionRefused
            if settings.host == "localhost"
                && settings.port == 1883
                && settings.transport == Transport::Tcp =>
        {
            format!(
                "connection refused: no broker is listening on {address} (the default). {START_A_BROKER}"
            )
        }
        io::ErrorKind::ConnectionRefused => {
            format!("connection refused: is a broker listening on {address}?")
        }
        io::ErrorKind::TimedOut => format!("timed out connecting to {address}"),
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            format!("{address} is unreachable: {io}")
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof => {
            "the server closed the connection before answering CONNECT (is this an MQTT port?)"
                .to_string()
        }
        _ if io.to_string().contains("lookup address") => {
            format!("cannot resolve host name '{}'", settings.host)
        }
        _ => io.to_string(),
    }
}

/// For a refusal of the credentials: what was sent, when it explains it (a user name with no
/// password, or none at all).
fn credentials_hint(about_credentials: bool, settings: &ConnectSettings) -> &'static str {
    match (about_credentials, &settings.username, &settings.password) {
        (true, Some(_), None) => {
            "; no password was given (-P, --password-file, MQTT_PASSWORD, or a profile's password_*)"
        }
        (true, None, None) => "; no user name or password was given (-u and -P)",
        _ => "",
    }
}

/// `Ok` when the error that ended a connection after our DISCONNECT is the broker's orderly
/// close (end of stream); else why not, in words (a reset).
pub(super) fn closed_in_order(broken: &Broken) -> Result<(), String> {
    match &broken.failure {
        Failure::Aborted => Ok(()),
        Failure::Io(io) | Failure::StateIo(io) | Failure::CodecIo(io) => io_close(io),
        _ => Err(broken.text.clone()),
    }
}

fn io_close(io: &io::Error) -> Result<(), String> {
    match io.kind() {
        io::ErrorKind::UnexpectedEof => Ok(()),
        io::ErrorKind::ConnectionReset => {
            Err("the broker reset the connection instead of closing it after DISCONNECT".into())
        }
        _ => Err(format!("the connection failed after DISCONNECT: {io}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_on_the_default_address_says_how_to_start_a_broker() {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let default = ConnectSettings::tcp("localhost", 1883);
        let reason = io_reason(&refused(), &default);
        assert!(reason.contains("no broker is listening on localhost:1883 (the default)"));
        assert!(reason.contains("sudo apt install mosquitto"), "{reason}");
        assert!(
            reason.contains("-h HOST, -L URL or --profile NAME"),
            "{reason}"
        );
        // Elsewhere, the plain question.
        let other = ConnectSettings::tcp("localhost", 1884);
        assert_eq!(
            io_reason(&refused(), &other),
            "connection refused: is a broker listening on localhost:1884?"
        );
    }

    #[tokio::test]
    async fn timeouts_read_the_same_on_both_protocol_versions() {
        let elapsed = tokio::time::timeout(std::time::Duration::ZERO, std::future::pending::<()>())
            .await
            .expect_err("times out");
        let v4 = lost_error(super::super::v4::broken(
            rumqttc::ConnectionError::NetworkTimeout,
        ));
        let v5 = lost_error(super::super::v5::broken(
            rumqttc::v5::ConnectionError::Timeout(elapsed),
        ));
        let (v4, v5) = (v4.to_string(), v5.to_string());
        assert_eq!(v4, v5);
        assert_eq!(
            v4,
            "connection lost: timed out waiting for the broker (--connect-timeout)"
        );
    }
}
