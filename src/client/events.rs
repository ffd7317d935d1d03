//! What a session tells its command: the events, in order, and what the broker announced in
//! its CONNACK. Plain data, the same for MQTT 3.1.1 and 5.

use super::reason::Reason;
use crate::vocabulary::{Qos, Received, default_max_inflight};

/// What happened on the session, in order. More kinds may come: match with a catch-all.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A message arrived.
    Message(Received),
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
