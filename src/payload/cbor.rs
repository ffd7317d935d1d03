//! CBOR (RFC 8949), as AWS IoT and constrained devices send it. Byte strings print as base64,
//! map keys that are not text as their JSON text, a tag as its content.

use ciborium::value::Value as Cbor;

use super::value::{MAX_DEPTH, Value, one_item};

pub(super) fn decode(payload: &[u8]) -> Result<Value, String> {
    let mut rest = payload;
    let item: Cbor =
        ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH).map_err(|err| {
            match err {
                ciborium::de::Error::Io(_) => "truncated".to_string(),
                ciborium::de::Error::Syntax(at) => format!("malformed at byte {at}"),
                ciborium::de::Error::Semantic(at, why) => match at {
                    Some(at) => format!("{why} at byte {at}"),
                    None => why,
                },
                ciborium::de::Error::RecursionLimitExceeded => {
                    format!("nested more than {MAX_DEPTH} deep")
                }
            }
        })?;
    one_item(payload, rest, "CBOR")?;
    Ok(from_cbor(item))
}

fn from_cbor(item: Cbor) -> Value {
    match item {
        Cbor::Integer(number) => {
            let wide = i128::from(number);
            // As serde_json reads JSON: unsigned when not negative.
            match (u64::try_from(wide), i64::try_from(wide)) {
                (Ok(unsigned), _) => Value::UInt(unsigned),
                (_, Ok(signed)) => Value::Int(signed),
                // CBOR's -2^64: no JSON integer type of ours holds it.
                _ => Value::text(wide.to_string()),
            }
        }
        Cbor::Bytes(bytes) => Value::Bytes(bytes),
        Cbor::Float(number) => Value::Float(number),
        Cbor::Text(text) => Value::text(text),
        Cbor::Bool(flag) => Value::Bool(flag),
        Cbor::Null => Value::Null,
        Cbor::Tag(_, inner) => from_cbor(*inner),
        Cbor::Array(items) => Value::Array(items.into_iter().map(from_cbor).collect()),
        Cbor::Map(entries) => Value::map_from(entries, from_cbor),
        _ => Value::Null,
    }
}

pub(super) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).map_err(|err| err.to_string())?;
    Ok(out)
}
