//! Where a payload becomes a value: `--decode` picks a codec per topic, the codec reads the
//! bytes into a [`Value`], and every format prints that value (plain and `-v` as JSON text,
//! `--json` under `"payload"` with `"codec"`, `-F %p`/`%j`/`%J`). `pub --encode` goes the other
//! way. One file per codec; a new codec is its file and a line in [`Codec`].
//!
//! A payload a codec cannot read is printed as it came, with a notice on stderr naming the topic
//! and why: never dropped, never an error of the run.

use std::sync::Arc;

use crate::topic::{filter_matches, validate_topic_filter};

mod cbor;
mod json;
mod msgpack;
mod protobuf;
pub mod sparkplug;
pub mod value;

pub use protobuf::{ProtoFiles, Schemas};
pub use sparkplug::Rebirth;
pub use value::Value;

/// What `--decode` and `--encode` name.
#[derive(Debug, Clone)]
pub enum Codec {
    Json,
    Cbor,
    MsgPack,
    /// A message type of the `--proto` files.
    Protobuf(protobuf::MessageType),
    Sparkplug,
    /// Sparkplug B on `spBv1.0/` topics (STATE as JSON), JSON when it parses, else the bytes.
    Auto,
}

/// The codec names, for help and errors.
pub const CODECS: &str = "json, cbor, msgpack, protobuf:TYPE, sparkplug, auto";

impl Codec {
    /// Reads a codec's name (`protobuf:acme.Reading` needs the `--proto` files in `schemas`).
    pub fn parse(name: &str, schemas: &Schemas) -> Result<Codec, String> {
        Ok(match name {
            "json" => Codec::Json,
            "cbor" => Codec::Cbor,
            "msgpack" | "messagepack" => Codec::MsgPack,
            "sparkplug" | "sparkplugb" | "spb" => Codec::Sparkplug,
            "auto" => Codec::Auto,
            "protobuf" | "proto" => {
                return Err(format!(
                    "'{name}' needs a message type: protobuf:TYPE ({})",
                    schemas.known_types()
                ));
            }
            other => match other
                .strip_prefix("protobuf:")
                .or_else(|| other.strip_prefix("proto:"))
            {
                Some(type_name) => Codec::Protobuf(schemas.message_type(type_name)?),
                None => return Err(format!("unknown codec '{other}' (codecs: {CODECS})")),
            },
        })
    }

    /// Whether each message is written as it is sent (Sparkplug: `seq` and timestamps);
    /// otherwise a payload's encoding is the same each time.
    pub fn per_message(&self) -> bool {
        matches!(self, Codec::Sparkplug)
    }

    /// The name `--json` prints under `"codec"` and `--replay` reads back.
    pub fn name(&self) -> Arc<str> {
        match self {
            Codec::Json => "json".into(),
            Codec::Cbor => "cbor".into(),
            Codec::MsgPack => "msgpack".into(),
            Codec::Protobuf(message) => format!("protobuf:{}", message.full_name()).into(),
            Codec::Sparkplug => "sparkplug".into(),
            Codec::Auto => "auto".into(),
        }
    }

    /// Writes a JSON value in this codec. Sparkplug is written by an [`Encoder`], which keeps
    /// the run's sequence numbers and aliases.
    fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        match self {
            Codec::Json | Codec::Auto => Ok(value.to_json().into_bytes()),
            Codec::Cbor => cbor::encode(value),
            Codec::MsgPack => msgpack::encode(value),
            Codec::Protobuf(message) => message.encode(value),
            Codec::Sparkplug => Err("a Sparkplug payload is encoded with its topic".into()),
        }
    }
}

/// Milliseconds since the Unix epoch: Sparkplug's timestamps.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// `--decode`, checked: the codec for each topic, first match wins.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// A filter, its codec, and the codec's name (made once, not for each message).
    rules: Vec<(String, Codec, Arc<str>)>,
}

impl Choice {
    /// Reads `--decode` values: `CODEC` (every topic) or `FILTER=CODEC`.
    pub fn parse(specs: &[String], schemas: &Schemas) -> Result<Choice, String> {
        let mut rules = Vec::new();
        for spec in specs {
            let (filter, name) = match spec.rsplit_once('=') {
                Some((filter, name)) => {
                    validate_topic_filter(filter)
                        .map_err(|err| format!("--decode '{spec}': {err}"))?;
                    (filter.to_string(), name)
                }
                None => ("#".to_string(), spec.as_str()),
            };
            let codec =
                Codec::parse(name.trim(), schemas).map_err(|err| format!("--decode: {err}"))?;
            let name = codec.name();
            rules.push((filter, codec, name));
        }
        Ok(Choice { rules })
    }

    /// Whether some topic is decoded as Sparkplug (`sparkplug` or `auto`).
    pub fn reads_sparkplug(&self) -> bool {
        self.rules
            .iter()
            .any(|(_, codec, _)| matches!(codec, Codec::Sparkplug | Codec::Auto))
    }

    /// The codec for a topic, if any, and its name.
    pub fn codec(&self, topic: &str) -> Option<(&Codec, &Arc<str>)> {
        self.rules
            .iter()
            .find(|(filter, _, _)| filter_matches(filter, topic))
            .map(|(_, codec, name)| (codec, name))
    }
}

/// A payload as a format prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// No codec, or the codec failed: the bytes as they came.
    Raw,
    /// What a codec read, and its name.
    Value {
        codec: Arc<str>,
        value: Value,
        /// Sparkplug's observations (`"sparkplug"` in `--json`): sequence, BIRTH, DEATH.
        sparkplug: Option<Value>,
    },
}

/// Decodes as `--decode` says, keeping what Sparkplug needs across messages (the BIRTH
/// certificates' names and aliases, sequence numbers) for the session.
#[derive(Debug)]
pub struct Decoder {
    choice: Choice,
    sparkplug: sparkplug::Sessions,
    /// The names `auto` reports, made once.
    names: [Arc<str>; 2],
}

impl Decoder {
    pub fn new(choice: Choice) -> Decoder {
        Decoder {
            choice,
            sparkplug: sparkplug::Sessions::default(),
            names: ["sparkplug".into(), "json".into()],
        }
    }

    /// Decodes a payload; a failure is a notice on stderr and [`Decoded::Raw`].
    pub fn decode(&mut self, topic: &str, payload: &[u8]) -> Decoded {
        let Some((codec, name)) = self.choice.codec(topic) else {
            return Decoded::Raw;
        };
        let read = match codec {
            Codec::Json => json::decode(payload).map(|value| (value, None)),
            Codec::Cbor => cbor::decode(payload).map(|value| (value, None)),
            Codec::MsgPack => msgpack::decode(payload).map(|value| (value, None)),
            Codec::Protobuf(message) => message.decode(payload).map(|value| (value, None)),
            Codec::Sparkplug => self.sparkplug.decode(topic, payload),
            Codec::Auto => return self.auto(topic, payload),
        };
        match read {
            Ok((value, sparkplug)) => Decoded::Value {
                codec: name.clone(),
                value,
                sparkplug,
            },
            Err(why) => {
                tracing::warn!("{topic}: not {name} ({why}): printed as it came");
                Decoded::Raw
            }
        }
    }

    /// `auto`: Sparkplug on its topics, JSON when it parses, else the bytes (no notice).
    fn auto(&mut self, topic: &str, payload: &[u8]) -> Decoded {
        if sparkplug::is_sparkplug_topic(topic) {
            return match self.sparkplug.decode(topic, payload) {
                Ok((value, sparkplug)) => Decoded::Value {
                    codec: self.names[0].clone(),
                    value,
                    sparkplug,
                },
                Err(why) => {
                    tracing::warn!("{topic}: not sparkplug ({why}): printed as it came");
                    Decoded::Raw
                }
            };
        }
        match json::decode(payload) {
            Ok(value) => Decoded::Value {
                codec: self.names[1].clone(),
                value,
                sparkplug: None,
            },
            Err(_) => Decoded::Raw,
        }
    }

    /// Edge nodes whose DATA came before any BIRTH, once each, for `--rebirth`.
    pub fn take_rebirths(&mut self) -> Vec<Rebirth> {
        self.sparkplug.take_rebirths()
    }
}

/// `pub --encode` and `--replay`: JSON payloads written in a codec.
#[derive(Debug)]
pub struct Encoder {
    codec: Codec,
    sparkplug: sparkplug::Publisher,
}

impl Encoder {
    pub fn new(codec: Codec) -> Encoder {
        Encoder {
            codec,
            sparkplug: sparkplug::Publisher::default(),
        }
    }

    /// Encodes a message given as JSON text for `topic`.
    pub fn encode(&mut self, topic: &str, json: &[u8]) -> Result<Vec<u8>, String> {
        let value: Value =
            serde_json::from_slice(json).map_err(|err| format!("not JSON: {err}"))?;
        self.encode_value(topic, &value)
    }

    /// Encodes a JSON value for `topic`.
    pub fn encode_value(&mut self, topic: &str, value: &Value) -> Result<Vec<u8>, String> {
        match &self.codec {
            Codec::Sparkplug => self.sparkplug.encode(topic, value, now_ms()),
            codec => codec.encode(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_and_msgpack_read_what_they_write_and_refuse_truncation_and_trailing_bytes() {
        let value: Value =
            serde_json::from_str(r#"{"t":21.5,"n":-3,"ok":true,"l":[1,null]}"#).expect("json");
        // 0x9f: an indefinite CBOR array; 0x91: a MessagePack array of one; 200 deep.
        type Decode = fn(&[u8]) -> Result<Value, String>;
        let codecs: [(Codec, Decode, u8, &str); 2] = [
            (Codec::Cbor, cbor::decode, 0x9f, "CBOR"),
            (Codec::MsgPack, msgpack::decode, 0x91, "MessagePack"),
        ];
        for (codec, decode, nest, name) in codecs {
            let bytes = codec.encode(&value).expect("encode");
            assert_eq!(decode(&bytes).expect("decode"), value, "{name}");
            let cut = decode(&bytes[..bytes.len() - 1]).expect_err("refused");
            assert_eq!(cut, "truncated", "{name}");
            let mut longer = bytes.clone();
            longer.push(0);
            let trailing = decode(&longer).expect_err("refused");
            assert!(
                trailing.contains(&format!("1 bytes follow the {name} item")),
                "{trailing}"
            );
            let deep = decode(&[nest; 200]).expect_err("refused");
            assert!(deep.contains("nested more than 128 deep"), "{name}: {deep}");
        }
    }
}
