//! mosquitto_sub's JSON layout, for `-F %j` and `-F %J`: the keys, their order and, with
//! `--pretty`, cJSON's indentation (tabs), so that scripts written for mosquitto_sub read ours.
//!
//! Unlike mosquitto_sub it is always valid JSON: a payload with a NUL byte is not cut there, and a
//! payload (or correlation data) that is not UTF-8 goes in base64 under `payload_base64`
//! (`correlation-data-base64`) instead of raw bytes. Keys may repeat as in mosquitto's output (a
//! user property sent twice, several subscription identifiers).

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::payload::Decoded;
use crate::types::Received;

/// A JSON value that keeps what cJSON keeps: the order of an object's keys, and repeated keys.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    /// As printed.
    Number(String),
    Text(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn float(value: f64) -> Node {
        // cJSON prints whole numbers without a fraction (1.0 as 1, 1e3 as 1000).
        if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
            Node::Number(format!("{value:.0}"))
        } else if value.is_finite() {
            Node::Number(value.to_string())
        } else {
            Node::Null
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
                Ok(Node::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
                Ok(Node::Number(value.to_string()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
                Ok(Node::Number(value.to_string()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
                Ok(Node::float(value))
            }
            fn visit_str<E>(self, value: &str) -> Result<Node, E> {
                Ok(Node::Text(value.to_string()))
            }
            fn visit_string<E>(self, value: String) -> Result<Node, E> {
                Ok(Node::Text(value))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Node>()? {
                    entries.push((key, value));
                }
                Ok(Node::Object(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Writes `node` compact, or as cJSON_Print does: an object's entries one per line, indented by
/// tabs, `"key":<tab>value`; an array on one line, `[1, 2]`.
pub(super) fn write(out: &mut Vec<u8>, node: &Node, pretty: bool, depth: usize) {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
        Node::Number(text) => out.extend_from_slice(text.as_bytes()),
        Node::Text(text) => {
            serde_json::to_writer(&mut *out, text).expect("writing to memory");
        }
        Node::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.extend_from_slice(if pretty { b", " } else { b"," });
                }
                write(out, item, pretty, depth + 1);
            }
            out.push(b']');
        }
        Node::Object(entries) => {
            let depth = depth + 1;
            out.push(b'{');
            if pretty {
                out.push(b'\n');
            }
            for (index, (key, value)) in entries.iter().enumerate() {
                if pretty {
                    out.extend(std::iter::repeat_n(b'\t', depth));
                }
                serde_json::to_writer(&mut *out, key).expect("writing to memory");
                out.push(b':');
                if pretty {
                    out.push(b'\t');
                }
                write(out, value, pretty, depth);
                if index + 1 < entries.len() {
                    out.push(b',');
                }
                if pretty {
                    out.push(b'\n');
                }
            }
            if pretty {
                out.extend(std::iter::repeat_n(b'\t', depth - 1));
            }
            out.push(b'}');
        }
    }
}

/// Bytes as a JSON string under `key` when they are UTF-8, else in base64 under `base64_key`.
fn bytes_entry(key: &str, base64_key: &str, bytes: &[u8]) -> (String, Node) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (key.to_string(), Node::Text(text.to_string())),
        Err(_) => (base64_key.to_string(), Node::Text(BASE64.encode(bytes))),
    }
}

/// The payload is not JSON (`%J`).
#[derive(Debug)]
pub(super) struct NotJson;

/// mosquitto_sub's object for a message: `tst`, `topic`, `qos`, `retain`, `payloadlen`, `mid`
/// (QoS 1/2), `properties` (MQTT 5, in the order mosquitto's broker sends them), `payload` (a
/// string; with `parse_payload` (`%J`) the payload's own JSON value; decoded by `--decode`, the
/// decoded value).
pub(super) fn message(
    received: &Received,
    decoded: &Decoded,
    now: SystemTime,
    parse_payload: bool,
) -> Result<Node, NotJson> {
    let message = &received.message;
    let local = chrono::DateTime::<chrono::Local>::from(now);
    // mosquitto's form, the literal Z before the offset included.
    let tst = format!(
        "{}.{:06}Z{}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.timestamp_subsec_micros(),
        local.format("%z")
    );
    let number = |value: u64| Node::Number(value.to_string());
    let mut entries = vec![
        ("tst".to_string(), Node::Text(tst)),
        ("topic".to_string(), Node::Text(message.topic.clone())),
        ("qos".to_string(), number(message.qos as u64)),
        ("retain".to_string(), number(u64::from(message.retain))),
        (
            "payloadlen".to_string(),
            number(message.payload.len() as u64),
        ),
    ];
    if message.qos as u8 > 0 {
        entries.push(("mid".to_string(), number(u64::from(received.packet_id))));
    }
    let properties = &message.properties;
    if !properties.is_empty() {
        let mut object = Vec::new();
        for id in &properties.subscription_identifiers {
            object.push(("subscription-identifier".to_string(), number(*id as u64)));
        }
        if let Some(value) = properties.payload_format_indicator {
            object.push(("payload-format-indicator".to_string(), number(value.into())));
        }
        if let Some(value) = &properties.response_topic {
            object.push(("response-topic".to_string(), Node::Text(value.clone())));
        }
        if let Some(data) = &properties.correlation_data {
            object.push(bytes_entry(
                "correlation-data",
                "correlation-data-base64",
                data,
            ));
        }
        if !properties.user_properties.is_empty() {
            let pairs = properties
                .user_properties
                .iter()
                .map(|(key, value)| (key.clone(), Node::Text(value.clone())))
                .collect();
            object.push(("user-properties".to_string(), Node::Object(pairs)));
        }
        if let Some(value) = &properties.content_type {
            object.push(("content-type".to_string(), Node::Text(value.clone())));
        }
        if let Some(value) = properties.message_expiry_interval {
            object.push(("message-expiry-interval".to_string(), number(value.into())));
        }
        if let Some(value) = properties.topic_alias {
            object.push(("topic-alias".to_string(), number(value.into())));
        }
        entries.push(("properties".to_string(), Node::Object(object)));
    }
    if let Decoded::Value { value, .. } = decoded {
        let node = serde_json::from_str::<Node>(&value.to_json()).map_err(|_| NotJson)?;
        entries.push(("payload".to_string(), node));
    } else if message.payload.is_empty() {
        entries.push(("payload".to_string(), Node::Null));
    } else if parse_payload {
        let value = serde_json::from_slice::<Node>(&message.payload).map_err(|_| NotJson)?;
        entries.push(("payload".to_string(), value));
    } else {
        entries.push(bytes_entry("payload", "payload_base64", &message.payload));
    }
    Ok(Node::Object(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(json: &str, pretty: bool) -> String {
        let node: Node = serde_json::from_str(json).expect("JSON");
        let mut out = Vec::new();
        write(&mut out, &node, pretty, 0);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn keeps_order_and_repeated_keys() {
        assert_eq!(
            shown(
                r#" {"z": 1, "a": [1, 2.5, {"k": "v"}], "z": "x\"y\n"} "#,
                false
            ),
            r#"{"z":1,"a":[1,2.5,{"k":"v"}],"z":"x\"y\n"}"#
        );
    }

    #[test]
    fn numbers_as_cjson_prints_them() {
        assert_eq!(
            shown("[1e3, 1.0, -0.0, 2.5, 12345678901234567890]", false),
            "[1000,1,-0,2.5,12345678901234567890]"
        );
    }

    #[test]
    fn pretty_is_cjson_print() {
        assert_eq!(
            shown(r#"{"a":[1,{"k":"v"}],"e":{},"f":[]}"#, true),
            "{\n\t\"a\":\t[1, {\n\t\t\t\"k\":\t\"v\"\n\t\t}],\n\t\"e\":\t{\n\t},\n\t\"f\":\t[]\n}"
        );
    }
}
