//! CBOR (RFC 8949), as AWS IoT and constrained devices send it. Byte strings print as base64,
//! map keys that are not text as their JSON text, a tag as its content.

use ciborium::value::Value as Cbor;

use super::value::Value;

/// Nesting deeper than this is refused (a hostile payload must not exhaust the stack).
const MAX_DEPTH: usize = 128;

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
    if !rest.is_empty() {
        return Err(format!(
            "{} bytes follow the CBOR item (of {})",
            rest.len(),
            payload.len()
        ));
    }
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
        Cbor::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(key, value)| (from_cbor(key).into_key(), from_cbor(value)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

pub(super) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(&to_cbor(value), &mut out).map_err(|err| err.to_string())?;
    Ok(out)
}

fn to_cbor(value: &Value) -> Cbor {
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(flag) => Cbor::Bool(*flag),
        Value::Int(number) => Cbor::Integer((*number).into()),
        Value::UInt(number) => Cbor::Integer((*number).into()),
        Value::Float(number) => Cbor::Float(*number),
        Value::Text(text) => Cbor::Text(text.to_string()),
        Value::Shared(text) => Cbor::Text(text.to_string()),
        Value::Bytes(bytes) => Cbor::Bytes(bytes.clone()),
        Value::Array(items) => Cbor::Array(items.iter().map(to_cbor).collect()),
        Value::Json(raw) => match serde_json::from_str::<Value>(raw.0.get()) {
            Ok(value) => to_cbor(&value),
            Err(_) => Cbor::Null,
        },
        Value::Map(entries) => Cbor::Map(
            entries
                .iter()
                .map(|(key, value)| (Cbor::Text(key.to_string()), to_cbor(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_reads_what_it_writes_and_refuses_truncation_and_trailing_bytes() {
        let value: Value =
            serde_json::from_str(r#"{"t":21.5,"n":-3,"ok":true,"l":[1,null]}"#).expect("json");
        let bytes = encode(&value).expect("encode");
        assert_eq!(decode(&bytes).expect("decode"), value);
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]).expect_err("refused"),
            "truncated"
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            decode(&longer)
                .expect_err("refused")
                .contains("1 bytes follow")
        );
        // 0x9f: an indefinite array, 200 deep.
        assert!(
            decode(&[0x9f; 200])
                .expect_err("refused")
                .contains("nested")
        );
    }
}
