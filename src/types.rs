//! The types every layer speaks: plain data types for messages, QoS, protocol versions and
//! limits. It sits at the bottom of the crate and imports nothing of ours, so that `client`
//! never needs `cli`, `output` never needs `client`, and data flows one way (ARCHITECTURE.md).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use clap::ValueEnum;

/// The largest packet MQTT can describe (remaining length of 268,435,455 bytes).
pub const MAX_PACKET_SIZE: usize = 268_435_455;

/// MQTT protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`), for brokers and gateways that speak nothing newer
    #[value(name = "31", alias = "3.1", alias = "mqttv31", alias = "3")]
    V31,
    /// MQTT 3.1.1
    #[value(name = "311", alias = "3.1.1", alias = "mqttv311", alias = "4")]
    V311,
    /// MQTT 5
    #[value(name = "5", alias = "mqttv5")]
    V5,
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5",
        })
    }
}

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Qos {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl Qos {
    /// The QoS of a level: 0, 1 or 2.
    pub fn from_level(level: u8) -> Option<Qos> {
        match level {
            0 => Some(Qos::AtMostOnce),
            1 => Some(Qos::AtLeastOnce),
            2 => Some(Qos::ExactlyOnce),
            _ => None,
        }
    }
}

impl std::fmt::Display for Qos {
    /// The level, as the command line writes it (`-q 1`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", *self as u8)
    }
}

/// MQTT 5 message properties (all empty on MQTT 3.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// 1: the payload is UTF-8 text; 0: unspecified bytes.
    pub payload_format_indicator: Option<u8>,
    /// Seconds the broker keeps the message for subscribers that are away.
    pub message_expiry_interval: Option<u32>,
    /// A number standing for the topic on this connection.
    pub topic_alias: Option<u16>,
    /// Where an answer should go (request/response).
    pub response_topic: Option<String>,
    /// Ties an answer to its request.
    pub correlation_data: Option<Bytes>,
    /// Key/value pairs, in order; a key may repeat.
    pub user_properties: Vec<(String, String)>,
    /// Identifiers of the subscriptions the message matched (received messages only).
    pub subscription_identifiers: Vec<usize>,
    /// MIME type of the payload.
    pub content_type: Option<String>,
}

impl Properties {
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }
}

/// One application message, the same for every protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5 properties; must stay empty on an MQTT 3.1.1 session.
    pub properties: Properties,
}

impl Message {
    /// A message without properties.
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<Bytes>,
        qos: Qos,
        retain: bool,
    ) -> Self {
        Message {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
            properties: Properties::default(),
        }
    }
}

/// A message received from the broker, with what is needed to acknowledge it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message: Message,
    pub packet_id: u16,
    /// Which connection of the session brought it (0 first, then one more per reconnect):
    /// an acknowledgement goes only to that connection, where its packet id means it.
    pub connection: u64,
    /// The MQTT 5 property identifiers in the order the broker sent them (mosquitto_sub's
    /// `-F %j` keeps that order); empty for MQTT 3.1.1.
    pub property_order: Vec<u8>,
}

/// How a session survives a dropped connection: reconnect after a wait that starts short and
/// doubles up to `max_delay` (with jitter, so many clients do not return at once), until
/// `give_up_after` without a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    pub max_delay: Duration,
    /// `None`: never give up.
    pub give_up_after: Option<Duration>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            max_delay: Duration::from_secs(10),
            give_up_after: Some(Duration::from_secs(60)),
        }
    }
}

/// How to subscribe: the QoS, and MQTT 5's subscription options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeOptions {
    pub qos: Qos,
    /// Do not send us our own publishes (MQTT 5).
    pub no_local: bool,
    /// Keep the retain flag of live messages as published (MQTT 5).
    pub retain_as_published: bool,
    /// 0: send retained messages at subscribe; 1: only for a new subscription; 2: never (MQTT 5).
    pub retain_handling: u8,
    /// A number the broker attaches to the messages this subscription matches (MQTT 5).
    pub subscription_identifier: Option<usize>,
}

impl From<Qos> for SubscribeOptions {
    fn from(qos: Qos) -> Self {
        SubscribeOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: 0,
            subscription_identifier: None,
        }
    }
}

/// The in-flight window for publishing at `qos`. MQTT 3.1.1 cannot negotiate a receive maximum:
/// mosquitto accepts 20 unacknowledged QoS 2 messages by default (`max_inflight_messages`) and
/// drops the connection at the 21st, so QoS 2 stays at 20; QoS 1 is not limited that way, and
/// 100 (AWS IoT Core's limit) keeps the pipe full on a fast link.
pub fn default_max_inflight(qos: Qos) -> u16 {
    match qos {
        Qos::ExactlyOnce => 20,
        _ => 100,
    }
}

/// How JSON output carries the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayloadEncoding {
    /// `payload` when it is valid UTF-8, else `payload_base64`.
    Auto,
    /// Always `payload`; invalid UTF-8 is replaced by U+FFFD.
    Utf8,
    /// Always `payload_hex`.
    Hex,
    /// Always `payload_base64`.
    Base64,
}

/// A password: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it to the broker.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The kinds of proxy `--proxy` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// SOCKS5, the broker's name resolved here.
    Socks5,
    /// SOCKS5, the broker's name resolved by the proxy.
    Socks5h,
    /// HTTP CONNECT.
    Http,
    /// HTTP CONNECT, over TLS to the proxy.
    Https,
}

impl ProxyScheme {
    pub fn name(self) -> &'static str {
        match self {
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
        }
    }
}

/// A proxy to reach the broker through.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// `host:port` as people write it (an IPv6 address in brackets).
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Proxy {
    /// `host:port` as people write it.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
}

impl fmt::Display for Proxy {
    /// The proxy's URL without its password: `socks5://alice@127.0.0.1:1080`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.name())?;
        if let Some(user) = &self.username {
            write!(f, "{user}@")?;
        }
        f.write_str(&self.address())
    }
}

/// How bytes travel to the broker. Chosen from the URL scheme, never guessed by rumqttc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Tls,
    Ws { path: String },
    Wss { path: String },
}

impl fmt::Display for Transport {
    /// The transport's short name, as `check` reports it: tcp, tls, ws or wss.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws { .. } => "ws",
            Transport::Wss { .. } => "wss",
        })
    }
}
