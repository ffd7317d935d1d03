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
    let properties = &message.properties;
    if !properties.is_empty() {
        let mut object = Vec::new();
        for id in &properties.subscription_identifiers {
            object.push(("subscription-identifier".into(), number(*id as u64)));
        }
        if let Some(value) = properties.payload_format_indicator {
            object.push(("payload-format-indicator".into(), number(value.into())));
        }
        if let Some(value) = &properties.response_topic {
            object.push(("response-topic".into(), Value::text(value.clone())));
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
                .map(|(key, value)| (Text::from(key.clone()), Value::text(value.clone())))
                .collect();
            object.push(("user-properties".into(), Value::Map(pairs)));
        }
        if let Some(value) = &properties.content_type {
            object.push(("content-type".into(), Value::text(value.clone())));
        }
        if let Some(value) = properties.message_expiry_interval {
            object.push(("message-expiry-interval".into(), number(value.into())));
        }
        if let Some(value) = properties.topic_alias {
            object.push(("topic-alias".into(), number(value.into())));
        }
        entries.push(("properties".into(), Value::Map(object)));
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
