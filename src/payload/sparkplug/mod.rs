//! Sparkplug B (specification 3.0): every message type decoded, and for each edge node the
//! BIRTH certificates' metric names, aliases and data types kept for the session, so that DATA
//! and CMD metrics, which carry aliases only, print with their names and typed values.
//!
//! Observed on the way, on stderr and as `"sparkplug"` in `--json`: `seq` gaps, DATA before any
//! BIRTH (names unknown: `--rebirth` asks the edge node for one), a DEATH whose `bdSeq` is or is
//! not its BIRTH's, and host applications' STATE. State is per edge node, never per message.

use std::collections::{HashMap, HashSet};

use prost::Message as _;

use super::value::Value;

mod encode;
mod metric;
mod topic;
mod wire;

pub use encode::Publisher;
pub use metric::type_name;
pub use topic::{NAMESPACE, Topic};

/// Whether a topic is in Sparkplug's namespace (`auto` decodes these as Sparkplug).
pub fn is_sparkplug_topic(topic: &str) -> bool {
    topic
        .strip_prefix(NAMESPACE)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// An `NCMD` asking an edge node for its BIRTH again (`Node Control/Rebirth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebirth {
    pub group: String,
    pub edge: String,
}

impl Rebirth {
    pub fn topic(&self) -> String {
        format!("{NAMESPACE}/{}/NCMD/{}", self.group, self.edge)
    }

    /// The NCMD's payload: the metric `Node Control/Rebirth`, Boolean true.
    pub fn payload(&self, now_ms: u64) -> Vec<u8> {
        wire::Payload {
            timestamp: Some(now_ms),
            metrics: vec![wire::Metric {
                name: Some("Node Control/Rebirth".into()),
                timestamp: Some(now_ms),
                datatype: Some(metric::BOOLEAN),
                value: Some(wire::MetricValue::Boolean(true)),
                ..Default::default()
            }],
            ..Default::default()
        }
        .encode_to_vec()
    }
}

/// What is known of one edge node in this session.
#[derive(Debug, Default)]
struct Node {
    /// An NBIRTH was seen (and no NDEATH since).
    born: bool,
    /// The NBIRTH's `bdSeq` metric.
    bd_seq: Option<u64>,
    /// The last `seq` the node sent.
    seq: Option<u64>,
    /// Names and data types by alias, from the NBIRTH and the DBIRTHs (aliases are unique
    /// across an edge node and its devices).
    aliases: HashMap<u64, metric::Known>,
    /// Names and data types by name (a DATA metric may carry its name and no data type).
    types: HashMap<String, metric::Known>,
    /// "No BIRTH seen" was said.
    warned: bool,
    /// Aliases reported unknown.
    unknown: HashSet<u64>,
    /// What the BIRTH said of each metric of the message being read (kept for its buffer).
    known: Vec<Option<metric::Known>>,
}

/// The edge nodes seen, and the rebirths to ask for.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Edge nodes by group, then by name (looked up without allocating).
    nodes: HashMap<String, HashMap<String, Node>>,
    /// The payload being read, its buffers kept from one message to the next.
    scratch: wire::Payload,
    rebirths: Vec<Rebirth>,
}

impl Sessions {
    /// Decodes one message: its payload as a value, and what was observed (`"sparkplug"`).
    pub fn decode(
        &mut self,
        topic: &str,
        payload: &[u8],
    ) -> Result<(Value, Option<Value>), String> {
        match Topic::parse(topic)? {
            Topic::State { host } => {
                let state = super::json::decode(payload)
                    .map_err(|why| format!("a STATE payload is JSON: {why}"))?;
                let online = state.get("online").cloned().unwrap_or(Value::Null);
                let notes = Value::Map(vec![
                    ("type".into(), Value::text("STATE")),
                    ("host".into(), Value::text(host.to_string())),
                    ("online".into(), online),
                ]);
                Ok((state, Some(notes)))
            }
            Topic::Edge {
                group,
                kind,
                edge,
                device,
            } => {
                // Read into the same buffers each time: a DATA message allocates nothing here
                // once the first has sized them.
                self.scratch.clear();
                self.scratch.merge(payload).map_err(|err| {
                    let why = err.to_string();
                    why.strip_prefix("failed to decode Protobuf message: ")
                        .map(str::to_string)
                        .unwrap_or(why)
                })?;
                if !self
                    .nodes
                    .get(group)
                    .is_some_and(|edges| edges.contains_key(edge))
                {
                    let edges = self.nodes.entry(group.to_string()).or_default();
                    edges.insert(edge.to_string(), Node::default());
                }
                let node = self
                    .nodes
                    .get_mut(group)
                    .and_then(|edges| edges.get_mut(edge))
                    .expect("the edge node was just added");
                let place = Place {
                    topic,
                    group,
                    kind,
                    edge,
                    device,
                };
                let (value, notes, rebirth) = node.message(&place, &self.scratch);
                if rebirth {
                    self.rebirths.push(Rebirth {
                        group: group.to_string(),
                        edge: edge.to_string(),
                    });
                }
                Ok((value, Some(notes)))
            }
        }
    }

    pub fn take_rebirths(&mut self) -> Vec<Rebirth> {
        std::mem::take(&mut self.rebirths)
    }
}

/// Where a message came from.
struct Place<'a> {
    topic: &'a str,
    group: &'a str,
    kind: &'a str,
    edge: &'a str,
    device: Option<&'a str>,
}

impl Place<'_> {
    fn node(&self) -> String {
        format!("{NAMESPACE}/{}/{}", self.group, self.edge)
    }
}

impl Node {
    /// Takes in one message of this edge node (or one of its devices): the value to print, the
    /// notes, and whether to ask for a rebirth.
    fn message(&mut self, place: &Place, payload: &wire::Payload) -> (Value, Value, bool) {
        let mut notes = vec![("type".into(), kind_name(place.kind))];
        let mut rebirth = false;
        match place.kind {
            "NBIRTH" => {
                self.aliases.clear();
                self.types.clear();
                self.unknown.clear();
                self.born = true;
                self.warned = false;
                self.bd_seq = bd_seq(payload);
                self.learn(&payload.metrics);
                if let Some(bd_seq) = self.bd_seq {
                    notes.push(("bdSeq".into(), Value::UInt(bd_seq)));
                }
            }
            "DBIRTH" => self.learn(&payload.metrics),
            "NDEATH" => {
                let death = bd_seq(payload);
                let matches = death.is_some() && death == self.bd_seq;
                if let Some(death) = death {
                    notes.push(("bdSeq".into(), Value::UInt(death)));
                }
                notes.push(("bdSeq_matches_birth".into(), Value::Bool(matches)));
                match (death, self.bd_seq) {
                    (Some(death), Some(birth)) if death != birth => tracing::warn!(
                        "{}: NDEATH with bdSeq {death}, but its BIRTH had {birth}: the DEATH \
                         of an earlier session",
                        place.node()
                    ),
                    (_, None) => tracing::warn!(
                        "{}: NDEATH, and no BIRTH seen to match its bdSeq against",
                        place.node()
                    ),
                    _ => {}
                }
                self.born = false;
                self.seq = None;
            }
            _ => {}
        }
        let data = matches!(place.kind, "NDATA" | "DDATA" | "NCMD" | "DCMD" | "DDEATH");
        if data && !self.born && !self.warned {
            self.warned = true;
            rebirth = place.kind != "NCMD" && place.kind != "DCMD";
            tracing::warn!(
                "no BIRTH seen for {}: names unknown; --rebirth asks for it",
                place.node()
            );
        }
        if data && !self.born {
            notes.push(("birth_seen".into(), Value::Bool(false)));
        }
        // seq: on every message of the edge node but its DEATH and commands sent to it.
        if !matches!(place.kind, "NDEATH" | "NCMD" | "DCMD")
            && let Some(seq) = payload.seq
        {
            notes.push(("seq".into(), Value::UInt(seq)));
            if let Some(expected) = self.expected_seq(place, seq) {
                notes.push(("expected_seq".into(), Value::UInt(expected)));
            }
            self.seq = Some(seq);
        }
        let value = self.payload_value(place, payload);
        (value, Value::Map(notes), rebirth)
    }

    /// The seq expected when `seq` is not it (a gap); NBIRTH starts a count.
    fn expected_seq(&self, place: &Place, seq: u64) -> Option<u64> {
        if place.kind == "NBIRTH" {
            return None;
        }
        let expected = (self.seq? + 1) % 256;
        if seq == expected {
            return None;
        }
        let missed = (seq + 256 - expected) % 256;
        tracing::warn!(
            "{}: seq {seq}, expected {expected}: {missed} message(s) of {} missed or out of order",
            place.topic,
            place.node()
        );
        Some(expected)
    }

    /// Learns names, aliases and data types from BIRTH metrics.
    fn learn(&mut self, metrics: &[wire::Metric]) {
        for metric in metrics {
            let Some(name) = &metric.name else { continue };
            let known = metric::Known {
                name: name.as_str().into(),
                datatype: metric.datatype.unwrap_or_default(),
            };
            if let Some(alias) = metric.alias {
                self.aliases.insert(alias, known.clone());
            }
            self.types.insert(name.clone(), known);
        }
    }

    fn payload_value(&mut self, place: &Place, payload: &wire::Payload) -> Value {
        let mut known = std::mem::take(&mut self.known);
        known.clear();
        for metric in &payload.metrics {
            known.push(self.known(place, metric));
        }
        // About 70 bytes of JSON a metric.
        let size = 64 + 80 * payload.metrics.len();
        let value = metric::raw(
            &PayloadJson {
                payload,
                known: &known,
            },
            size,
        );
        self.known = known;
        value
    }

    /// What the BIRTH said of a metric: by alias, else by name; an alias the BIRTH did not
    /// name is reported once.
    fn known(&mut self, place: &Place, metric: &wire::Metric) -> Option<metric::Known> {
        if let Some(name) = &metric.name {
            return self.types.get(name).cloned();
        }
        let alias = metric.alias?;
        let known = self.aliases.get(&alias).cloned();
        if known.is_none() && self.born && self.unknown.insert(alias) {
            tracing::warn!(
                "{}: alias {alias} is not in the BIRTH of {}{}",
                place.topic,
                place.node(),
                place
                    .device
                    .map(|device| format!(" or of its device {device}"))
                    .unwrap_or_default()
            );
        }
        known
    }
}

/// A payload as JSON, its metrics with what their BIRTH said, written straight from the wire.
struct PayloadJson<'a> {
    payload: &'a wire::Payload,
    known: &'a [Option<metric::Known>],
}

impl serde::Serialize for PayloadJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let payload = self.payload;
        let mut map = serializer.serialize_map(None)?;
        if let Some(timestamp) = payload.timestamp {
            map.serialize_entry("timestamp", &timestamp)?;
        }
        if let Some(seq) = payload.seq {
            map.serialize_entry("seq", &seq)?;
        }
        if let Some(uuid) = &payload.uuid {
            map.serialize_entry("uuid", uuid)?;
        }
        map.serialize_entry("metrics", &Metrics(self))?;
        if let Some(body) = &payload.body {
            map.serialize_entry("body", &Value::Bytes(body.clone()))?;
        }
        map.end()
    }
}

struct Metrics<'a>(&'a PayloadJson<'a>);

impl serde::Serialize for Metrics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.payload.metrics.iter().zip(self.0.known).map(
            |(metric, known)| metric::MetricJson {
                metric,
                known: known.as_ref(),
            },
        ))
    }
}

/// A message type's name, not allocated for the ones Sparkplug has.
fn kind_name(kind: &str) -> Value {
    const KINDS: [&str; 9] = [
        "NBIRTH", "NDATA", "NCMD", "NDEATH", "DBIRTH", "DDATA", "DCMD", "DDEATH", "STATE",
    ];
    match KINDS.iter().find(|known| **known == kind) {
        Some(known) => Value::text(*known),
        None => Value::text(kind.to_string()),
    }
}

/// The `bdSeq` metric of a BIRTH or DEATH.
fn bd_seq(payload: &wire::Payload) -> Option<u64> {
    payload
        .metrics
        .iter()
        .find(|metric| metric.name.as_deref() == Some("bdSeq"))
        .and_then(|metric| match metric.value {
            Some(wire::MetricValue::Long(value)) => Some(value),
            Some(wire::MetricValue::Int(value)) => Some(u64::from(value)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(seq: u64) -> Vec<u8> {
        wire::Payload {
            seq: Some(seq),
            metrics: vec![wire::Metric {
                alias: Some(1),
                value: Some(wire::MetricValue::Double(1.5)),
                ..Default::default()
            }],
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// The `"sparkplug"` notes of each message, in turn.
    fn notes(messages: &[(&str, Vec<u8>)]) -> Vec<String> {
        let mut sessions = Sessions::default();
        messages
            .iter()
            .map(|(topic, payload)| {
                let (_, notes) = sessions.decode(topic, payload).expect("decodes");
                notes.expect("notes").to_json()
            })
            .collect()
    }

    #[test]
    fn seq_wraps_from_255_to_0_and_a_gap_names_what_was_expected() {
        let birth = wire::Payload {
            seq: Some(254),
            ..Default::default()
        }
        .encode_to_vec();
        let topic = "spBv1.0/G/NDATA/E";
        let seen = notes(&[
            ("spBv1.0/G/NBIRTH/E", birth),
            (topic, data(255)),
            (topic, data(0)),
            (topic, data(2)),
        ]);
        assert_eq!(seen[1], r#"{"type":"NDATA","seq":255}"#);
        assert_eq!(seen[2], r#"{"type":"NDATA","seq":0}"#, "255 -> 0 is no gap");
        assert_eq!(seen[3], r#"{"type":"NDATA","seq":2,"expected_seq":1}"#);
    }

    #[test]
    fn an_array_metric_is_unpacked_as_its_type_says() {
        let array = |datatype: u32, bytes: &[u8]| {
            metric::raw(
                &metric::MetricJson {
                    metric: &wire::Metric {
                        name: Some("a".into()),
                        datatype: Some(datatype),
                        value: Some(wire::MetricValue::Bytes(bytes.to_vec())),
                        ..Default::default()
                    },
                    known: None,
                },
                128,
            )
            .to_json()
        };
        assert_eq!(
            array(22, &[0xff, 0x01]),
            r#"{"name":"a","type":"Int8Array","value":[-1,1]}"#
        );
        assert_eq!(
            array(27, &[0x01, 0x02]),
            r#"{"name":"a","type":"UInt16Array","value":[513]}"#
        );
        // BooleanArray: a count of 4 bytes, then the bits, the first in the highest.
        assert_eq!(
            array(32, &[3, 0, 0, 0, 0b1010_0000]),
            r#"{"name":"a","type":"BooleanArray","value":[true,false,true]}"#
        );
        assert_eq!(
            array(33, b"ab\0c\0"),
            r#"{"name":"a","type":"StringArray","value":["ab","c"]}"#
        );
        // Bytes that do not divide into the type's elements: shown as bytes.
        assert_eq!(
            array(24, &[1, 2, 3]),
            r#"{"name":"a","type":"Int32Array","value":"AQID"}"#
        );
    }
}
