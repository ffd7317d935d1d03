//! `-d`: what goes over the wire, in words, both ways, with what mosquitto's `-d` shows.

use rumqttc::{Outgoing, Sent};
use tracing::debug;

use super::events::Announced;
use super::reason::Reason;
use crate::settings::ConnectSettings;
use crate::types::{ProtocolVersion, Qos};

pub(super) fn trace_connect(settings: &ConnectSettings) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let mut v5 = String::new();
    if settings.protocol == ProtocolVersion::V5 {
        if let Some(expiry) = settings.session_expiry {
            v5.push_str(&format!(", session expiry {expiry}s"));
        }
        if let Some(maximum) = settings.receive_maximum {
            v5.push_str(&format!(", receive maximum {maximum}"));
        }
        if let Some(size) = settings.maximum_packet_size {
            v5.push_str(&format!(", maximum packet size {size}"));
        }
        if !settings.user_properties.is_empty() {
            v5.push_str(&format!(", user properties {:?}", settings.user_properties));
        }
    }
    debug!(
        "sending CONNECT to {}{} (MQTT {}, client id {:?}, keepalive {}s, clean {}, user {}, password {}, will {}{v5})",
        settings.place(),
        match (&settings.route.proxy, settings.route.bind_address) {
            (Some(proxy), _) => format!(" through the proxy {proxy}"),
            (None, Some(address)) => format!(" from {address}"),
            (None, None) => String::new(),
        },
        settings.protocol,
        settings.client_id,
        settings.keepalive.as_secs(),
        settings.clean_session,
        settings.username.as_deref().unwrap_or("none"),
        if settings.password.is_some() {
            "<redacted>"
        } else {
            "none"
        },
        settings
            .will
            .as_ref()
            .map_or("none", |will| will.message.topic.as_str()),
    );
}

/// The CONNACK's limits in words, e.g. ", receive maximum 20, topic alias maximum 10".
pub(super) fn describe_announced(announced: &Announced) -> String {
    announced
        .fields()
        .iter()
        .map(|field| format!(", {} {}", field.words, field.value))
        .collect()
}

/// What `-d` shows of a PUBLISH, of either protocol version.
pub(super) struct PublishTrace {
    pub topic: String,
    pub qos: u8,
    pub retain: bool,
    pub dup: bool,
    pub pkid: u16,
    pub payload_len: usize,
    pub topic_alias: Option<u16>,
}

impl From<&rumqttc::Publish> for PublishTrace {
    fn from(publish: &rumqttc::Publish) -> Self {
        PublishTrace {
            topic: publish.topic.clone(),
            qos: publish.qos as u8,
            retain: publish.retain,
            dup: publish.dup,
            pkid: publish.pkid,
            payload_len: publish.payload.len(),
            topic_alias: None,
        }
    }
}

impl From<&rumqttc::v5::mqttbytes::v5::Publish> for PublishTrace {
    fn from(publish: &rumqttc::v5::mqttbytes::v5::Publish) -> Self {
        PublishTrace {
            topic: String::from_utf8_lossy(&publish.topic).into_owned(),
            qos: publish.qos as u8,
            retain: publish.retain,
            dup: publish.dup,
            pkid: publish.pkid,
            payload_len: publish.payload.len(),
            topic_alias: publish.properties.as_ref().and_then(|p| p.topic_alias),
        }
    }
}

/// A PUBLISH in words, both ways, with what mosquitto's `-d` shows: topic (or the topic alias
/// standing for it), QoS, retain, DUP, packet id and payload size.
pub(super) fn describe_publish(trace: &PublishTrace) -> String {
    let topic = match (trace.topic.as_str(), trace.topic_alias) {
        ("", Some(alias)) => format!("topic alias {alias} alone"),
        (topic, Some(alias)) => format!("topic {topic:?}, setting topic alias {alias}"),
        (topic, None) => format!("topic {topic:?}"),
    };
    format!(
        "PUBLISH ({topic}, QoS {}, retain {}, DUP {}, packet id {}, {} bytes)",
        trace.qos,
        u8::from(trace.retain),
        u8::from(trace.dup),
        trace.pkid,
        trace.payload_len
    )
}

/// A SUBACK's return codes in words: the QoS granted, or why not.
pub(super) fn describe_granted(granted: &[Result<Qos, Reason>]) -> String {
    granted
        .iter()
        .map(|result| match result {
            Ok(qos) => format!("granted QoS {}", *qos as u8),
            Err(reason) => format!("refused: {reason}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A packet received, for `--debug`; `describe` runs only then.
/// `fn trace_event(&Event)` for a protocol version's `Event` (both have `Incoming(Packet)`, told
/// in words by the version's `describe_packet`, and the shared `Outgoing`): `-d`'s view.
macro_rules! trace_events {
    () => {
        fn trace_event(event: &Event) {
            match event {
                Event::Incoming(packet) => super::trace::trace_incoming(|| describe_packet(packet)),
                Event::Outgoing(outgoing) => super::trace::trace_outgoing(outgoing),
            }
        }
    };
}
pub(super) use trace_events;

pub(super) fn trace_incoming(describe: impl FnOnce() -> String) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        debug!("received {}", describe());
    }
}

/// Describes what was sent or received on the wire, for `--debug`. The detail events come just
/// before the bare ones (which then say nothing more), when the state traces packets.
pub(super) fn trace_outgoing(outgoing: &Outgoing) {
    let text = match outgoing {
        Outgoing::Sent(sent) => describe_sent(sent),
        Outgoing::Publish(_) | Outgoing::Subscribe(_) => return,
        Outgoing::Unsubscribe(id) => format!("UNSUBSCRIBE (packet id {id})"),
        Outgoing::PubAck(id) => format!("PUBACK (packet id {id})"),
        Outgoing::PubRec(id) => format!("PUBREC (packet id {id})"),
        Outgoing::PubRel(id) => format!("PUBREL (packet id {id})"),
        Outgoing::PubComp(id) => format!("PUBCOMP (packet id {id})"),
        Outgoing::PingReq => "PINGREQ".to_string(),
        Outgoing::PingResp => "PINGRESP".to_string(),
        Outgoing::Disconnect => "DISCONNECT".to_string(),
        Outgoing::AwaitAck(id) => format!("nothing: waiting for the ack of packet id {id}"),
    };
    debug!("sent {text}");
}

/// A PUBLISH or SUBSCRIBE as sent (reported only while tracing).
fn describe_sent(sent: &Sent) -> String {
    let subscribe = |id: u16, filters: Vec<(&str, u8)>| {
        let filters: Vec<_> = filters
            .iter()
            .map(|(filter, qos)| format!("{filter:?} QoS {qos}"))
            .collect();
        format!("SUBSCRIBE (packet id {id}, {})", filters.join(", "))
    };
    match sent {
        Sent::Publish(publish) => describe_publish(&publish.into()),
        Sent::PublishV5(publish) => describe_publish(&publish.into()),
        Sent::Subscribe(s) => subscribe(
            s.pkid,
            s.filters
                .iter()
                .map(|f| (f.path.as_str(), f.qos as u8))
                .collect(),
        ),
        Sent::SubscribeV5(s) => subscribe(
            s.pkid,
            s.filters
                .iter()
                .map(|f| (f.path.as_str(), f.qos as u8))
                .collect(),
        ),
    }
}
