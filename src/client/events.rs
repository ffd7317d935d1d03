//! What a session tells its command: the events, in order, and what the broker announced in
//! its CONNACK. Plain data, the same for MQTT 3.1.1 and 5.

use super::reason::Reason;
use crate::types::{Qos, Received, default_max_inflight};

/// What happened on the session, in order. More kinds may come: match with a catch-all.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A message arrived (boxed: the event channel holds a slot per event, and most events
    /// are small).
    Message(Box<Received>),
    /// One of our publishes is complete: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP; or the
    /// broker refused it (MQTT 5: a PUBACK, PUBREC or PUBCOMP reason code of 0x80 or more).
    Published(Result<(), Reason>),
    /// A SUBACK: one result per filter, in the order subscribed.
    Subscribed(Vec<Result<Qos, Reason>>),
    /// An UNSUBACK: the first failure among its reason codes, if any (MQTT 5).
    Unsubscribed(Result<(), Reason>),
    /// The connection dropped and came back (see [`Reconnect`]); without a session on the
    /// broker the subscriptions were made again, and unacknowledged publishes are sent again.
    Reconnected { session_present: bool },
    /// The connection failed or the broker ended it (a DISCONNECT), and was not recovered;
    /// the error says why.
    Lost(anyhow::Error),
}

/// What the broker said in its CONNACK.
#[derive(Debug, Clone, Default)]
pub struct ConnectInfo {
    pub session_present: bool,
    /// What an MQTT 5 CONNACK announced; all `None` on MQTT 3.1.1.
    pub announced: Announced,
}

/// The CONNACK properties of MQTT 5 that describe what the broker allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announced {
    pub maximum_qos: Option<u8>,
    pub retain_available: Option<bool>,
    pub maximum_packet_size: Option<u32>,
    pub receive_maximum: Option<u16>,
    pub topic_alias_maximum: Option<u16>,
    pub wildcard_subscription_available: Option<bool>,
    pub subscription_identifiers_available: Option<bool>,
    pub shared_subscription_available: Option<bool>,
    pub server_keep_alive: Option<u16>,
    pub session_expiry_interval: Option<u32>,
    pub assigned_client_identifier: Option<String>,
}

/// One CONNACK property as announced: its JSON key (`check --json`), its name in words (`-d`),
/// and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncedField {
    pub key: &'static str,
    pub words: &'static str,
    pub value: AnnouncedValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnouncedValue {
    Number(u32),
    Flag(bool),
    Text(String),
}

impl std::fmt::Display for AnnouncedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnnouncedValue::Number(number) => write!(f, "{number}"),
            AnnouncedValue::Flag(flag) => write!(f, "{flag}"),
            AnnouncedValue::Text(text) => write!(f, "{text:?}"),
        }
    }
}

impl Announced {
    /// The properties the CONNACK carried, in one order: the one list `-d` and `check` read.
    pub fn fields(&self) -> Vec<AnnouncedField> {
        use AnnouncedValue::{Flag, Number, Text};
        let number = |value: Option<u32>| value.map(Number);
        let all = [
            (
                "maximum_qos",
                "maximum QoS",
                number(self.maximum_qos.map(u32::from)),
            ),
            (
                "retain_available",
                "retain available",
                self.retain_available.map(Flag),
            ),
            (
                "maximum_packet_size",
                "maximum packet size",
                number(self.maximum_packet_size),
            ),
            (
                "receive_maximum",
                "receive maximum",
                number(self.receive_maximum.map(u32::from)),
            ),
            (
                "topic_alias_maximum",
                "topic alias maximum",
                number(self.topic_alias_maximum.map(u32::from)),
            ),
            (
                "wildcard_subscription_available",
                "wildcard subscriptions",
                self.wildcard_subscription_available.map(Flag),
            ),
            (
                "subscription_identifiers_available",
                "subscription identifiers",
                self.subscription_identifiers_available.map(Flag),
            ),
            (
                "shared_subscription_available",
                "shared subscriptions",
                self.shared_subscription_available.map(Flag),
            ),
            (
                "server_keep_alive",
                "server keepalive",
                number(self.server_keep_alive.map(u32::from)),
            ),
            (
                "session_expiry_interval",
                "session expiry",
                number(self.session_expiry_interval),
            ),
            (
                "assigned_client_identifier",
                "assigned client id",
                self.assigned_client_identifier.clone().map(Text),
            ),
        ];
        all.into_iter()
            .filter_map(|(key, words, value)| {
                Some(AnnouncedField {
                    key,
                    words,
                    value: value?,
                })
            })
            .collect()
    }
}

/// Options of the session itself, as opposed to the broker's address and credentials.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Acknowledge incoming QoS 1/2 messages only when the command says so (see [`Session::ack`]).
    pub manual_acks: bool,
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once (at least 1). On MQTT 5 the
    /// broker's Receive Maximum lowers it further.
    pub max_inflight: u16,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            manual_acks: false,
            max_inflight: default_max_inflight(Qos::ExactlyOnce),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connack_property_is_one_field() {
        let announced = Announced {
            maximum_qos: Some(1),
            retain_available: Some(false),
            maximum_packet_size: Some(1000),
            receive_maximum: Some(20),
            topic_alias_maximum: Some(10),
            wildcard_subscription_available: Some(true),
            subscription_identifiers_available: Some(true),
            shared_subscription_available: Some(false),
            server_keep_alive: Some(30),
            session_expiry_interval: Some(60),
            assigned_client_identifier: Some("auto-1".into()),
        };
        let fields = announced.fields();
        assert_eq!(
            fields.len(),
            11,
            "a field of Announced is missing from fields()"
        );
        let last = fields.last().expect("fields");
        assert_eq!(
            (last.key, last.words, last.value.to_string()),
            (
                "assigned_client_identifier",
                "assigned client id",
                "\"auto-1\"".into()
            )
        );
        assert!(Announced::default().fields().is_empty());
    }
}
