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

/// Declares [`Announced`] and its [`Announced::fields`] from one list: each CONNACK property
/// once, with its name in words and the kind of its value (the JSON key is the field's name).
macro_rules! announced {
    ($($field:ident: $ty:ty, $words:literal, $kind:ident;)*) => {
        /// The CONNACK properties of MQTT 5 that describe what the broker allows.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Announced {
            $(pub $field: Option<$ty>,)*
        }

        impl Announced {
            /// The properties the CONNACK carried, in one order: the one list `-d` and `check`
            /// read.
            pub fn fields(&self) -> Vec<AnnouncedField> {
                let mut fields = Vec::new();
                $(if let Some(value) = &self.$field {
                    fields.push(AnnouncedField {
                        key: stringify!($field),
                        words: $words,
                        value: AnnouncedValue::$kind(value.clone().into()),
                    });
                })*
                fields
            }
        }
    };
}

announced! {
    maximum_qos: u8, "maximum QoS", Number;
    retain_available: bool, "retain available", Flag;
    maximum_packet_size: u32, "maximum packet size", Number;
    receive_maximum: u16, "receive maximum", Number;
    topic_alias_maximum: u16, "topic alias maximum", Number;
    wildcard_subscription_available: bool, "wildcard subscriptions", Flag;
    subscription_identifiers_available: bool, "subscription identifiers", Flag;
    shared_subscription_available: bool, "shared subscriptions", Flag;
    server_keep_alive: u16, "server keepalive", Number;
    session_expiry_interval: u32, "session expiry", Number;
    assigned_client_identifier: String, "assigned client id", Text;
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
