//! A decoded payload's value: JSON's kinds, with maps that keep the order the codec gave and
//! byte strings kept apart (they print as base64, as protobuf's JSON mapping writes bytes).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Nesting deeper than this is refused in a payload (a hostile one must not exhaust the stack).
pub const MAX_DEPTH: usize = 128;

/// A payload holds one item of its codec (`format`): bytes after it are refused.
pub fn one_item(payload: &[u8], rest: &[u8], format: &str) -> Result<(), String> {
    if rest.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} bytes follow the {format} item (of {})",
        rest.len(),
        payload.len()
    ))
}

/// Text that is often a name known at compile time (a key, a Sparkplug type): not allocated.
pub type Text = Cow<'static, str>;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// NaN and the infinities print as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    Float(f64),
    Text(Text),
    /// Text shared across messages (a Sparkplug metric's name from its BIRTH): not copied.
    Shared(Arc<str>),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// Entries in the codec's order; a key may repeat (CBOR and MessagePack allow it).
    Map(Vec<(Text, Value)>),
    /// JSON a codec wrote itself (protobuf's JSON mapping), printed as it is.
    Json(RawJson),
}

/// Compact JSON text, valid by construction (written by serde_json).
#[derive(Debug, Clone, PartialEq)]
pub struct RawJson(String);

impl RawJson {
    /// `value` written as JSON, into a buffer of about `size` bytes (one allocation).
    pub fn of(value: &impl Serialize, size: usize) -> Option<RawJson> {
        let mut text = Vec::with_capacity(size);
        serde_json::to_writer(&mut text, value).ok()?;
        String::from_utf8(text).ok().map(RawJson)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Value {
    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        match self {
            Value::Json(raw) => raw.0.clone(),
            value => serde_json::to_string(value).expect("a Value is always JSON"),
        }
    }

    /// The value under `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A codec's map: keys as JSON needs them ([`Value::into_key`]), entries in their order.
    pub fn map_from<T>(entries: Vec<(T, T)>, convert: impl Fn(T) -> Value) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(key, value)| (convert(key).into_key(), convert(value)))
                .collect(),
        )
    }

    /// Text from a `String` or a `&'static str`.
    pub fn text(text: impl Into<Text>) -> Value {
        Value::Text(text.into())
    }

    /// A map key as JSON needs it (text): a text key as it is, any other as its JSON text.
    pub fn into_key(self) -> Text {
        match self {
            Value::Text(text) => text,
            other => other.to_json().into(),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Int(number) => serializer.serialize_i64(*number),
            Value::UInt(number) => serializer.serialize_u64(*number),
            Value::Float(number) if number.is_nan() => serializer.serialize_str("NaN"),
            Value::Float(number) if number.is_infinite() => {
                serializer.serialize_str(if *number > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                })
            }
            Value::Float(number) => serializer.serialize_f64(*number),
            Value::Text(text) => serializer.serialize_str(text),
            Value::Shared(text) => serializer.serialize_str(text),
            Value::Bytes(bytes) => serializer.serialize_str(&BASE64.encode(bytes)),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            // Inside another value (a --json line): embedded as it is.
            Value::Json(raw) => match serde_json::value::RawValue::from_string(raw.0.clone()) {
                Ok(raw) => raw.serialize(serializer),
                Err(_) => serializer.serialize_unit(),
            },
        }
    }
}

/// Reads JSON keeping the order of an object's keys (and repeated keys).
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Int(value))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::UInt(value))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::Float(value))
    }
    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::text(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::text(value))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.push((key.into(), value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_keeps_order_and_writes_bytes_and_specials_as_protobuf_json_does() {
        let value = Value::Map(vec![
            ("z".into(), Value::Int(-1)),
            ("a".into(), Value::Bytes(vec![0, 255])),
            ("n".into(), Value::Float(f64::NAN)),
            ("i".into(), Value::Float(f64::NEG_INFINITY)),
            ("u".into(), Value::UInt(u64::MAX)),
        ]);
        assert_eq!(
            value.to_json(),
            r#"{"z":-1,"a":"AP8=","n":"NaN","i":"-Infinity","u":18446744073709551615}"#
        );
        let read: Value = serde_json::from_str(r#"{"b":1,"a":[true,null,2.5,"x"]}"#).expect("JSON");
        assert_eq!(read.to_json(), r#"{"b":1,"a":[true,null,2.5,"x"]}"#);
        assert_eq!(Value::Int(3).into_key(), "3");
    }

    #[test]
    fn a_float_read_from_json_is_the_double_written() {
        // The payload fuzz target's finding: without serde_json's float_roundtrip, this double
        // read back was its neighbour, and a decoded payload encoded again was another.
        for text in [
            "3.329678707196098e-46",
            "0.1",
            "21.5",
            "1.7976931348623157e+308",
        ] {
            let value: Value = serde_json::from_str(text).expect("a number");
            assert_eq!(value.to_json(), text);
        }
    }
}
