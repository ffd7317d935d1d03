//! Reads what `sub --json` recorded, for `pub --replay`: one JSON object per line with `topic`,
//! `qos`, `retain`, one of `payload` / `payload_base64` / `payload_hex`, and `timestamp`; a
//! payload `sub --decode` decoded (with `codec`) is encoded again in its codec (Sparkplug with
//! the capture's BIRTH aliases). Read and checked whole before connecting, so a bad line is bad
//! input (exit 2) naming it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::Value;

use crate::error::usage;
use crate::input::read_regular_file;
use crate::payload::{self, Codec, Encoder, Schemas};
use crate::topic::validate_topic_name;
use crate::types::{Message, Properties, Qos};

/// The largest capture `--replay` reads.
const MAX_CAPTURE: usize = 1 << 30;

/// The messages of a capture, each with the delay to wait before it: the recorded gap with
/// `timing`, none without.
pub fn read_capture(
    path: &Path,
    timing: bool,
    schemas: &Schemas,
) -> Result<Vec<(Duration, Message)>> {
    let mut encoders = HashMap::new();
    let bytes = read_regular_file(path, MAX_CAPTURE, "the capture")?;
    let text = String::from_utf8_lossy(&bytes);
    let mut messages = Vec::new();
    let mut previous: Option<SystemTime> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |why: String| usage(format!("{} line {}: {why}", path.display(), index + 1));
        let record: Value =
            serde_json::from_str(line).map_err(|err| at(format!("not JSON: {err}")))?;
        let (mut message, timestamp) = message_of(&record).map_err(at)?;
        if let Some(codec) = record.get("codec") {
            message.payload = encoded(line, codec, &message.topic, schemas, &mut encoders)
                .map_err(|why| at(format!("{}: {why}", codec.as_str().unwrap_or("codec"))))?;
        }
        let delay = match (timing, timestamp, previous) {
            (false, _, _) => Duration::ZERO,
            (true, None, _) => return Err(at("--replay-timing needs a timestamp".into())),
            (true, Some(now), Some(before)) => now.duration_since(before).unwrap_or_default(),
            (true, Some(_), None) => Duration::ZERO,
        };
        previous = timestamp.or(previous);
        messages.push((delay, message));
    }
    if messages.is_empty() {
        return Err(usage(format!("{}: no messages in it", path.display())));
    }
    Ok(messages)
}

fn message_of(record: &Value) -> Result<(Message, Option<SystemTime>), String> {
    let topic = record
        .get("topic")
        .and_then(Value::as_str)
        .ok_or("no \"topic\" string")?;
    validate_topic_name(topic)?;
    let qos = match record.get("qos").map(Value::as_u64) {
        None => Qos::AtMostOnce,
        Some(Some(0)) => Qos::AtMostOnce,
        Some(Some(1)) => Qos::AtLeastOnce,
        Some(Some(2)) => Qos::ExactlyOnce,
        Some(_) => return Err("\"qos\" must be 0, 1 or 2".into()),
    };
    let retain = match record.get("retain") {
        None => false,
        Some(value) => value.as_bool().ok_or("\"retain\" must be true or false")?,
    };
    let text = |key: &str| {
        record
            .get(key)
            .map(|v| v.as_str().ok_or(format!("\"{key}\" must be a string")))
    };
    let payload = match (text("payload"), text("payload_base64"), text("payload_hex")) {
        // A decoded payload: encoded again by the caller.
        _ if record.get("codec").is_some() => Bytes::new(),
        (Some(text), None, None) => Bytes::from(text?.to_string()),
        (None, Some(encoded), None) => Bytes::from(
            BASE64
                .decode(encoded?)
                .map_err(|err| format!("\"payload_base64\" is not base64: {err}"))?,
        ),
        (None, None, Some(encoded)) => Bytes::from(
            crate::hex::decode(encoded?).map_err(|err| format!("\"payload_hex\": {err}"))?,
        ),
        // `sub --json` always writes one ("payload": "" for an empty message): a line without
        // one is not a capture of a message.
        (None, None, None) => {
            return Err("no payload: one of \"payload\", \"payload_base64\" or \"payload_hex\" is needed (\"payload\": \"\" for an empty message)".into());
        }
        _ => return Err("more than one of payload, payload_base64, payload_hex".into()),
    };
    let timestamp = match record.get("timestamp") {
        None => None,
        Some(value) => {
            let text = value.as_str().ok_or("\"timestamp\" must be a string")?;
            Some(
                humantime::parse_rfc3339(text)
                    .map_err(|err| format!("\"timestamp\" is not RFC 3339: {err}"))?,
            )
        }
    };
    let message = Message {
        properties: properties_of(record)?,
        ..Message::new(topic, payload, qos, retain)
    };
    Ok((message, timestamp))
}

/// A decoded payload (`"codec"` and `"payload"`) written in its codec again; one encoder per
/// codec for the capture, so that Sparkplug DATA gets the aliases of the BIRTH before it.
fn encoded(
    line: &str,
    codec: &Value,
    topic: &str,
    schemas: &Schemas,
    encoders: &mut HashMap<String, Encoder>,
) -> Result<Bytes, String> {
    let name = codec.as_str().ok_or("\"codec\" must be a string")?;
    // Read again keeping the payload's key order (serde_json's map sorts them).
    let record: payload::Value = serde_json::from_str(line).map_err(|err| err.to_string())?;
    let value = record
        .get("payload")
        .ok_or("a decoded message needs its \"payload\"")?;
    let encoder = match encoders.entry(name.to_string()) {
        std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::hash_map::Entry::Vacant(entry) => {
            entry.insert(Encoder::new(Codec::parse(name, schemas)?))
        }
    };
    encoder.encode_value(topic, value).map(Bytes::from)
}

/// The MQTT 5 properties a capture recorded (`properties`, as `sub --json` writes it). Topic
/// aliases and subscription identifiers belong to the recording connection and are not sent.
fn properties_of(record: &Value) -> Result<Properties, String> {
    let Some(value) = record.get("properties") else {
        return Ok(Properties::default());
    };
    let object = value
        .as_object()
        .ok_or("\"properties\" must be an object")?;
    let text = |key: &str| -> Result<Option<String>, String> {
        object
            .get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or(format!("\"properties.{key}\" must be a string"))
            })
            .transpose()
    };
    let number = |key: &str, max: u64| -> Result<Option<u64>, String> {
        object
            .get(key)
            .map(|v| {
                v.as_u64()
                    .filter(|n| *n <= max)
                    .ok_or(format!("\"properties.{key}\" must be a number up to {max}"))
            })
            .transpose()
    };
    let correlation_data = match (text("correlation_data")?, text("correlation_data_base64")?) {
        (Some(text), None) => Some(Bytes::from(text)),
        (None, Some(encoded)) => Some(Bytes::from(BASE64.decode(encoded).map_err(|err| {
            format!("\"properties.correlation_data_base64\" is not base64: {err}")
        })?)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err("both correlation_data and correlation_data_base64".into());
        }
    };
    let user_properties = match object.get("user_properties") {
        None => Vec::new(),
        Some(list) => list
            .as_array()
            .ok_or("\"properties.user_properties\" must be a list")?
            .iter()
            .map(|pair| {
                let field = |name: &str| pair.get(name).and_then(Value::as_str).map(str::to_string);
                field("key").zip(field("value")).ok_or_else(|| {
                    "\"properties.user_properties\" entries must be {\"key\": .., \"value\": ..}"
                        .to_string()
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let response_topic = text("response_topic")?;
    if let Some(topic) = &response_topic {
        validate_topic_name(topic)?;
    }
    Ok(Properties {
        payload_format_indicator: number("payload_format_indicator", 1)?
            .and_then(|n| u8::try_from(n).ok()),
        message_expiry_interval: number("message_expiry_interval", u64::from(u32::MAX))?
            .and_then(|n| u32::try_from(n).ok()),
        topic_alias: None,
        response_topic,
        correlation_data,
        user_properties,
        subscription_identifiers: Vec::new(),
        content_type: text("content_type")?,
    })
}
