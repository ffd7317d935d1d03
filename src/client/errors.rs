//! Translates rumqttc's errors into our failure kinds, in words a user can act on.

use std::io;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};

use crate::error::{ErrorKind, failure};
use crate::settings::ConnectSettings;

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

/// An error while connecting (before a successful CONNACK).
pub(super) fn connect_error(err: ConnectionError, settings: &ConnectSettings) -> anyhow::Error {
    if let Some(tls) = &settings.tls {
        if let Some(rustls_error) = find_rustls_error(&err) {
            return failure(
                ErrorKind::Tls,
                crate::tls::explain(rustls_error, &tls.options, &settings.host),
            );
        }
        if let ConnectionError::Tls(inner) = &err {
            let closed = matches!(inner, rumqttc::TlsError::Io(io) if matches!(
                io.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
            ));
            if closed {
                return failure(
                    ErrorKind::Tls,
                    "the server closed the connection during the TLS handshake: is this a TLS \
                     port? (plain MQTT is usually 1883, TLS 8883)",
                );
            }
            return failure(ErrorKind::Tls, format!("TLS failed: {inner}"));
        }
    }
    match err {
        ConnectionError::ConnectionRefused(code) => failure(
            ErrorKind::Refused,
            format!("the broker refused the connection: {}", refusal(code)),
        ),
        ConnectionError::NetworkTimeout => failure(
            ErrorKind::Connect,
            "timed out waiting for the broker (--connect-timeout)",
        ),
        ConnectionError::Io(io) => failure(ErrorKind::Connect, io_reason(&io, settings)),
        ConnectionError::MqttState(StateError::ConnectionAborted)
        | ConnectionError::MqttState(StateError::Io(_)) => failure(
            ErrorKind::Connect,
            "the server closed the connection before answering CONNECT \
             (is this an MQTT port? does the broker accept this protocol version and client id?)",
        ),
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

/// An error after the session was established.
pub(super) fn lost_error(err: ConnectionError) -> anyhow::Error {
    let reason = match &err {
        ConnectionError::MqttState(StateError::ConnectionAborted) => {
            "the broker closed the connection".to_string()
        }
        ConnectionError::Io(io) => io.to_string(),
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            "the broker stopped answering (no PINGRESP)".to_string()
        }
        other => other.to_string(),
    };
    failure(ErrorKind::Lost, format!("connection lost: {reason}"))
}

fn io_reason(io: &io::Error, settings: &ConnectSettings) -> String {
    let address = settings.address();
    match io.kind() {
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

fn refusal(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "success",
        ConnectReturnCode::RefusedProtocolVersion => {
            "unacceptable protocol version (try the other -V)"
        }
        ConnectReturnCode::BadClientId => "client identifier rejected (try another -i)",
        ConnectReturnCode::ServiceUnavailable => "server unavailable",
        ConnectReturnCode::BadUserNamePassword => "bad user name or password",
        ConnectReturnCode::NotAuthorized => "not authorised",
    }
}
