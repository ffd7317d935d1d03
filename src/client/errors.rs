//! Translates rumqttc's errors into our failure kinds, in words a user can act on.

use std::io;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError, v5};

use super::reason::Reason;

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
    err: &(dyn std::error::Error + 'static),
    tls_error: Option<&rumqttc::TlsError>,
    settings: &ConnectSettings,
) -> Option<anyhow::Error> {
    let tls = settings.tls.as_ref()?;
    if let Some(rustls_error) = find_rustls_error(err) {
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

/// An error while connecting (before a successful CONNACK), MQTT 3.1.1.
pub(super) fn connect_error(err: ConnectionError, settings: &ConnectSettings) -> anyhow::Error {
    let tls_error = match &err {
        ConnectionError::Tls(inner) => Some(inner),
        _ => None,
    };
    if let Some(tls) = tls_failure(&err, tls_error, settings) {
        return tls;
    }
    match err {
        ConnectionError::ConnectionRefused(code) => failure(
            ErrorKind::Refused,
            format!(
                "the broker refused the connection: {}{}",
                refusal(code),
                credentials_hint(
                    matches!(
                        code,
                        ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
                    ),
                    settings
                )
            ),
        ),
        ConnectionError::NetworkTimeout => failure(ErrorKind::Connect, CONNECT_TIMED_OUT),
        ConnectionError::Io(io) => failure(ErrorKind::Connect, io_reason(&io, settings)),
        ConnectionError::MqttState(StateError::ConnectionAborted)
        | ConnectionError::MqttState(StateError::Io(_)) => {
            failure(ErrorKind::Connect, CLOSED_BEFORE_CONNACK)
        }
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::NotMqtt(bytes))) => {
            not_mqtt(&bytes, settings)
        }
        ConnectionError::Websocket(err) => websocket_failure(&err, settings),
        ConnectionError::MqttState(StateError::Deserialization(err)) => failure(
            ErrorKind::Connect,
            format!("the server's answer is not MQTT ({err}): is this an MQTT port?"),
        ),
        ConnectionError::NotConnAck(packet) => failure(
            ErrorKind::Connect,
            format!("the server answered CONNECT with {packet:?} instead of CONNACK"),
        ),
        other => failure(ErrorKind::Connect, other.to_string()),
    }
}

/// An error while connecting (before a successful CONNACK), MQTT 5: a refusal is named by its
/// reason code.
pub(super) fn connect_error_v5(
    err: v5::ConnectionError,
    settings: &ConnectSettings,
) -> anyhow::Error {
    let tls_error = match &err {
        v5::ConnectionError::Tls(inner) => Some(inner),
        _ => None,
    };
    if let Some(tls) = tls_failure(&err, tls_error, settings) {
        return tls;
    }
    match err {
        v5::ConnectionError::ConnectionRefused(code) => {
            let reason = Reason::new(code.code(), None);
            let hint = match reason.code {
                0x84 => " (try -V 311)",
                0x85 => " (try another -i)",
                0x86 | 0x87 => " (check the user name and password, and the broker's ACL)",
                _ => "",
            };
            failure(
                ErrorKind::Refused,
                format!(
                    "the broker refused the connection: {reason}{hint}{}",
                    credentials_hint(matches!(reason.code, 0x86 | 0x87), settings)
                ),
            )
        }
        v5::ConnectionError::Timeout(_) => failure(ErrorKind::Connect, CONNECT_TIMED_OUT),
        v5::ConnectionError::Io(io) => failure(ErrorKind::Connect, io_reason(&io, settings)),
        v5::ConnectionError::MqttState(v5::StateError::ConnectionAborted)
        | v5::ConnectionError::MqttState(v5::StateError::Io(_)) => {
            failure(ErrorKind::Connect, CLOSED_BEFORE_CONNACK)
        }
        v5::ConnectionError::MqttState(v5::StateError::Deserialization(
            v5::mqttbytes::Error::NotMqtt(bytes),
        )) => not_mqtt(&bytes, settings),
        v5::ConnectionError::Websocket(err) => websocket_failure(&err, settings),
        v5::ConnectionError::MqttState(v5::StateError::Deserialization(err)) => failure(
            ErrorKind::Connect,
            format!("the server's answer is not MQTT 5 ({err}): is this an MQTT port?"),
        ),
        v5::ConnectionError::NotConnAck(packet) => failure(
            ErrorKind::Connect,
            format!("the server answered CONNECT with {packet:?} instead of CONNACK"),
        ),
        other => failure(ErrorKind::Connect, other.to_string()),
    }
}

/// An error after an MQTT 5 session was established: a broker's DISCONNECT and the limits it
/// announced are rejections (exit 6), the rest a lost connection.
pub(super) fn lost_error_v5(err: v5::ConnectionError) -> anyhow::Error {
    let reason = match err {
        v5::ConnectionError::MqttState(v5::StateError::ServerDisconnect {
            reason_code,
            reason_string,
        }) => {
            let reason = Reason::new(reason_code.code(), reason_string);
            let reason = if reason.code == 0 {
                // 0x00 in a DISCONNECT is "Normal disconnection", not "Success".
                reason
                    .to_string()
                    .replacen("Success", "Normal disconnection", 1)
            } else {
                reason.to_string()
            };
            return failure(
                ErrorKind::Rejected,
                format!("the broker ended the connection with DISCONNECT: {reason}"),
            );
        }
        v5::ConnectionError::MqttState(
            v5::StateError::OutgoingPacketTooLarge { pkt_size, max }
            | v5::StateError::Deserialization(
                rumqttc::v5::mqttbytes::Error::OutgoingPacketTooLarge { pkt_size, max },
            ),
        ) => {
            return failure(
                ErrorKind::Rejected,
                format!(
                    "a {pkt_size}-byte packet is over the broker's maximum packet size of {max} bytes (from its CONNACK)"
                ),
            );
        }
        v5::ConnectionError::MqttState(v5::StateError::InvalidAlias { alias, max }) => {
            return failure(
                ErrorKind::Rejected,
                format!(
                    "topic alias {alias} is over the broker's topic alias maximum of {max} (from its CONNACK)"
                ),
            );
        }
        v5::ConnectionError::MqttState(v5::StateError::ConnectionAborted) => {
            "the broker closed the connection".to_string()
        }
        v5::ConnectionError::Io(io)
        | v5::ConnectionError::MqttState(v5::StateError::Deserialization(
            rumqttc::v5::mqttbytes::Error::Io(io),
        )) => io.to_string(),
        v5::ConnectionError::MqttState(v5::StateError::AwaitPingResp) => {
            "the broker stopped answering (no PINGRESP)".to_string()
        }
        v5::ConnectionError::Timeout(_) => CONNECT_TIMED_OUT.to_string(),
        other => other.to_string(),
    };
    failure(ErrorKind::Lost, format!("connection lost: {reason}"))
}

/// Whether reconnecting may help (MQTT 3.1.1): the network or the broker went away, as opposed
/// to the broker saying no, a certificate that will not verify, or our own mistake.
pub(super) fn recoverable(err: &ConnectionError) -> bool {
    if find_rustls_error(err).is_some() {
        return false;
    }
    match err {
        ConnectionError::Io(_)
        | ConnectionError::NetworkTimeout
        | ConnectionError::FlushTimeout
        | ConnectionError::Tls(_)
        | ConnectionError::MqttState(
            StateError::Io(_)
            | StateError::ConnectionAborted
            | StateError::AwaitPingResp
            | StateError::Deserialization(rumqttc::Error::Io(_)),
        ) => true,
        ConnectionError::ConnectionRefused(code) => *code == ConnectReturnCode::ServiceUnavailable,
        _ => false,
    }
}

/// Whether reconnecting may help (MQTT 5): as for 3.1.1, and a DISCONNECT that says the broker
/// is going away or busy (not one that says another client took the session over).
pub(super) fn recoverable_v5(err: &v5::ConnectionError) -> bool {
    use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode as Code, DisconnectReasonCode as Why};
    if find_rustls_error(err).is_some() {
        return false;
    }
    match err {
        v5::ConnectionError::Io(_)
        | v5::ConnectionError::Timeout(_)
        | v5::ConnectionError::Tls(_)
        | v5::ConnectionError::MqttState(
            v5::StateError::Io(_)
            | v5::StateError::ConnectionAborted
            | v5::StateError::AwaitPingResp
            // A reset or broken pipe, reading or writing (the v5 codec wraps socket errors so).
            | v5::StateError::Deserialization(v5::mqttbytes::Error::Io(_)),
        ) => true,
        v5::ConnectionError::MqttState(v5::StateError::ServerDisconnect {
            reason_code, ..
        }) => {
            matches!(
                reason_code,
                Why::ServerShuttingDown
                    | Why::ServerBusy
                    | Why::KeepAliveTimeout
                    | Why::AdministrativeAction
            )
        }
        v5::ConnectionError::ConnectionRefused(code) => {
            matches!(
                code,
                Code::ServerUnavailable | Code::ServerBusy | Code::ServiceUnavailable
            )
        }
        _ => false,
    }
}

/// An error after an MQTT 3.1.1 session was established.
pub(super) fn lost_error(err: ConnectionError) -> anyhow::Error {
    let reason = match &err {
        ConnectionError::MqttState(StateError::ConnectionAborted) => {
            "the broker closed the connection".to_string()
        }
        ConnectionError::Io(io) => io.to_string(),
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            "the broker stopped answering (no PINGRESP)".to_string()
        }
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(io))) => {
            io.to_string()
        }
        ConnectionError::NetworkTimeout => CONNECT_TIMED_OUT.to_string(),
        other => other.to_string(),
    };
    failure(ErrorKind::Lost, format!("connection lost: {reason}"))
}

/// What a newcomer with no broker is told (README: quick start).
pub const START_A_BROKER: &str = "Start one (Debian/Ubuntu: sudo apt install mosquitto; macOS: brew install mosquitto && brew services start mosquitto; Docker: docker run -p 1883:1883 eclipse-mosquitto mosquitto -c /mosquitto-no-auth.conf), or point elsewhere with -h HOST, -L URL or --profile NAME";

fn io_reason(io: &io::Error, settings: &ConnectSettings) -> String {
    // A proxy, -A or --unix failure, already in words.
    if let Some(unreachable) = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<crate::proxy::Unreachable>())
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

fn refusal(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "success",
        ConnectReturnCode::RefusedProtocolVersion => {
            "unacceptable protocol version (try the other -V)"
        }
        ConnectReturnCode::BadClientId => "client identifier rejected (try another -i)",
        ConnectReturnCode::ServiceUnavailable => "server unavailable",
        ConnectReturnCode::BadUserNamePassword => {
            "bad user name or password (check the user name and password)"
        }
        ConnectReturnCode::NotAuthorized => {
            "not authorised (check the user name and password, and the broker's ACL)"
        }
    }
}

/// `Ok` when the error that ended a connection after our DISCONNECT is the broker's orderly
/// close (end of stream); else why not, in words (a reset).
pub(super) fn closed_in_order(err: &ConnectionError) -> Result<(), String> {
    match err {
        ConnectionError::MqttState(StateError::ConnectionAborted) => Ok(()),
        ConnectionError::Io(io)
        | ConnectionError::MqttState(
            StateError::Io(io) | StateError::Deserialization(rumqttc::Error::Io(io)),
        ) => io_close(io),
        other => Err(other.to_string()),
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

/// [`closed_in_order`] for MQTT 5.
pub(super) fn closed_in_order_v5(err: &v5::ConnectionError) -> Result<(), String> {
    match err {
        v5::ConnectionError::MqttState(v5::StateError::ConnectionAborted) => Ok(()),
        v5::ConnectionError::Io(io)
        | v5::ConnectionError::MqttState(
            v5::StateError::Io(io) | v5::StateError::Deserialization(v5::mqttbytes::Error::Io(io)),
        ) => io_close(io),
        other => Err(other.to_string()),
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
        let v4 = lost_error(ConnectionError::NetworkTimeout).to_string();
        let v5 = lost_error_v5(v5::ConnectionError::Timeout(elapsed)).to_string();
        assert_eq!(v4, v5);
        assert_eq!(
            v4,
            "connection lost: timed out waiting for the broker (--connect-timeout)"
        );
    }
}
