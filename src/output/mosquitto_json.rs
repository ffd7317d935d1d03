//! mosquitto_sub's JSON layout, for `-F %j` and `-F %J`: the keys, their order and, with
//! `--pretty`, cJSON's indentation (tabs), so that scripts written for mosquitto_sub read ours.
//!
//! Unlike mosquitto_sub it is always valid JSON: a payload with a NUL byte is not cut there, and a
//! payload (or correlation data) that is not UTF-8 goes in base64 under `payload_base64`
//! (`correlation-data-base64`) instead of raw bytes. Keys may repeat as in mosquitto's output (a
//! user property sent twice, several subscription identifiers).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::arrival::Arrival;
use crate::payload::Decoded;
use crate::payload::value::{Text, Value};
use crate::types::Properties;

/// cJSON prints whole numbers without a fraction (1.0 as 1, 1e3 as 1000), and no NaN.
fn cjson_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.is_finite() {
        value.to_string()
    } else {
        "null".to_string()
    }
}

/// Writes `node` compact, or as cJSON_Print does: an object's entries one per line, indented by
/// tabs, `"key":<tab>value`; an array on one line, `[1, 2]`. Keys keep their order, and repeat
/// where they repeat.
pub(super) fn write(out: &mut Vec<u8>, node: &Value, pretty: bool, depth: usize) {
    match node {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
        Value::Int(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::UInt(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::Float(number) => out.extend_from_slice(cjson_float(*number).as_bytes()),
        Value::Text(_) | Value::Shared(_) | Value::Bytes(_) => {
            serde_json::to_writer(&mut *out, node).expect("writing to memory");
        }
        Value::Json(raw) => match serde_json::from_str::<Value>(raw.as_str()) {
            Ok(value) => write(out, &value, pretty, depth),
            Err(_) => out.extend_from_slice(b"null"),
        },
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.extend_from_slice(if pretty { b", " } else { b"," });
                }
                write(out, item, pretty, depth + 1);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
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
fn bytes_entry(key: &'static str, base64_key: &'static str, bytes: &[u8]) -> (Text, Value) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (key.into(), Value::text(text.to_string())),
        Err(_) => (base64_key.into(), Value::text(BASE64.encode(bytes))),
    }
}

/// The payload is not JSON (`%J`).
#[derive(Debug)]
pub(super) struct NotJson;

/// mosquitto_sub's object for a message: `tst`, `topic`, `qos`, `retain`, `payloadlen`, `mid`
/// (QoS 1/2), `properties` (MQTT 5, in the order mosquitto's broker sends them), `payload` (a
/// string; with `parse_payload` (`%J`) the payload's own JSON value; decoded by `--decode`, the
/// decoded value).
pub(super) fn message(arrival: &Arrival, parse_payload: bool) -> Result<Value, NotJson> {
    let (received, decoded, now) = (arrival.received, arrival.decoded, arrival.now);
    let message = &received.message;
    let local = chrono::DateTime::<chrono::Local>::from(now);
    // mosquitto's form, the literal Z before the offset included.
    let tst = format!(
        "{}.{:06}Z{}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.timestamp_subsec_micros(),
        local.format("%z")
    );
    let number = Value::UInt;
    let mut entries: Vec<(Text, Value)> = vec![
        ("tst".into(), Value::text(tst)),
        ("topic".into(), Value::text(message.topic.clone())),
        ("qos".into(), number(message.qos as u64)),
        ("retain".into(), number(u64::from(message.retain))),
        ("payloadlen".into(), number(message.payload.len() as u64)),
    ];
    if message.qos as u8 > 0 {
        entries.push(("mid".into(), number(u64::from(received.packet_id))));
    }
    if !message.properties.is_empty() {
        entries.push((
            "properties".into(),
            properties_json(&message.properties, &received.property_order),
        ));
    }
    if let Decoded::Value { value, .. } = decoded {
        entries.push(("payload".into(), value.clone()));
    } else if message.payload.is_empty() {
        entries.push(("payload".into(), Value::Null));
    } else if parse_payload {
        let value = serde_json::from_slice::<Value>(&message.payload).map_err(|_| NotJson)?;
        entries.push(("payload".into(), value));
    } else {
        entries.push(bytes_entry("payload", "payload_base64", &message.payload));
    }
    Ok(Value::Map(entries))
}

/// MQTT 5 property identifiers, as the specification numbers them.
const PAYLOAD_FORMAT: u8 = 0x01;
const MESSAGE_EXPIRY: u8 = 0x02;
const CONTENT_TYPE: u8 = 0x03;
const RESPONSE_TOPIC: u8 = 0x08;
const CORRELATION_DATA: u8 = 0x09;
const SUBSCRIPTION_ID: u8 = 0x0B;
const TOPIC_ALIAS: u8 = 0x23;
const USER_PROPERTY: u8 = 0x26;

/// The properties as mosquitto_sub prints them: in the order the broker sent them (`order`),
/// user properties gathered in one object where the first came; anything `order` does not
/// name (a message of ours, not received) after, in mosquitto's order of a message it sends.
fn properties_json(properties: &Properties, order: &[u8]) -> Value {
    const FALLBACK: [u8; 8] = [
        SUBSCRIPTION_ID,
        PAYLOAD_FORMAT,
        RESPONSE_TOPIC,
        CORRELATION_DATA,
        USER_PROPERTY,
        CONTENT_TYPE,
        MESSAGE_EXPIRY,
        TOPIC_ALIAS,
    ];
    let number = Value::UInt;
    let mut object = Vec::new();
    let mut ids = properties.subscription_identifiers.iter();
    let mut done = Vec::new();
    for &id in order.iter().chain(&FALLBACK) {
        if id != SUBSCRIPTION_ID && done.contains(&id) {
            continue;
        }
        done.push(id);
        let entry: Option<(Text, Value)> = match id {
            SUBSCRIPTION_ID => ids
                .next()
                .map(|id| ("subscription-identifier".into(), number(*id as u64))),
            PAYLOAD_FORMAT => properties
                .payload_format_indicator
                .map(|value| ("payload-format-indicator".into(), number(value.into()))),
            RESPONSE_TOPIC => properties
                .response_topic
                .as_ref()
                .map(|value| ("response-topic".into(), Value::text(value.clone()))),
            CORRELATION_DATA => properties
                .correlation_data
                .as_ref()
                .map(|data| bytes_entry("correlation-data", "correlation-data-base64", data)),
            USER_PROPERTY if !properties.user_properties.is_empty() => {
                let pairs = properties
                    .user_properties
                    .iter()
                    .map(|(key, value)| (Text::from(key.clone()), Value::text(value.clone())))
                    .collect();
                Some(("user-properties".into(), Value::Map(pairs)))
            }
            CONTENT_TYPE => properties
                .content_type
                .as_ref()
                .map(|value| ("content-type".into(), Value::text(value.clone()))),
            MESSAGE_EXPIRY => properties
                .message_expiry_interval
                .map(|value| ("message-expiry-interval".into(), number(value.into()))),
            TOPIC_ALIAS => properties
                .topic_alias
                .map(|value| ("topic-alias".into(), number(value.into()))),
            _ => None,
        };
        object.extend(entry);
    }
    // What the identifiers in `order` left (more subscription identifiers than it named).
    object.extend(ids.map(|id| ("subscription-identifier".into(), number(*id as u64))));
    Value::Map(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(json: &str, pretty: bool) -> String {
        let node: Value = serde_json::from_str(json).expect("JSON");
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
