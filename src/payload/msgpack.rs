//! MessagePack. Binary prints as base64, map keys that are not text as their JSON text, an
//! extension as `{"ext": TYPE, "data": BASE64}`.

use rmpv::Value as Pack;

use super::value::Value;

/// Nesting deeper than this is refused (a hostile payload must not exhaust the stack).
const MAX_DEPTH: usize = 128;

pub(super) fn decode(payload: &[u8]) -> Result<Value, String> {
    let mut rest = payload;
    let item = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH).map_err(|err| {
        use rmpv::decode::Error;
        match err {
            Error::InvalidMarkerRead(_) | Error::InvalidDataRead(_) => "truncated".to_string(),
            Error::DepthLimitExceeded => format!("nested more than {MAX_DEPTH} deep"),
        }
    })?;
    if !rest.is_empty() {
        return Err(format!(
            "{} bytes follow the MessagePack item (of {})",
            rest.len(),
            payload.len()
        ));
    }
    Ok(from_pack(item))
}

fn from_pack(item: Pack) -> Value {
    match item {
        Pack::Nil => Value::Null,
        Pack::Boolean(flag) => Value::Bool(flag),
        // As serde_json reads JSON: unsigned when not negative.
        Pack::Integer(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => Value::UInt(unsigned),
            (None, Some(signed)) => Value::Int(signed),
            (None, None) => Value::Null,
        },
        Pack::F32(number) => Value::Float(f64::from(number)),
        Pack::F64(number) => Value::Float(number),
        // MessagePack's str may hold bytes that are not UTF-8: kept as bytes.
        Pack::String(text) => match String::from_utf8(text.into_bytes()) {
            Ok(text) => Value::text(text),
            Err(err) => Value::Bytes(err.into_bytes()),
        },
        Pack::Binary(bytes) => Value::Bytes(bytes),
        Pack::Array(items) => Value::Array(items.into_iter().map(from_pack).collect()),
        Pack::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(key, value)| (from_pack(key).into_key(), from_pack(value)))
                .collect(),
        ),
        Pack::Ext(kind, data) => Value::Map(vec![
            ("ext".into(), Value::Int(i64::from(kind))),
            ("data".into(), Value::Bytes(data)),
        ]),
    }
}

pub(super) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &to_pack(value)).map_err(|err| err.to_string())?;
    Ok(out)
}

fn to_pack(value: &Value) -> Pack {
    match value {
        Value::Null => Pack::Nil,
        Value::Bool(flag) => Pack::Boolean(*flag),
        Value::Int(number) => Pack::from(*number),
        Value::UInt(number) => Pack::from(*number),
        Value::Float(number) => Pack::F64(*number),
        Value::Text(text) => Pack::from(text.as_ref()),
        Value::Shared(text) => Pack::from(text.as_ref()),
        Value::Bytes(bytes) => Pack::Binary(bytes.clone()),
        Value::Array(items) => Pack::Array(items.iter().map(to_pack).collect()),
        Value::Json(raw) => match serde_json::from_str::<Value>(raw.0.get()) {
            Ok(value) => to_pack(&value),
            Err(_) => Pack::Nil,
        },
        Value::Map(entries) => Pack::Map(
            entries
                .iter()
                .map(|(key, value)| (Pack::from(key.as_ref()), to_pack(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_reads_what_it_writes_and_refuses_truncation_and_trailing_bytes() {
        let value: Value =
            serde_json::from_str(r#"{"t":21.5,"n":-3,"ok":true,"l":[1,null]}"#).expect("json");
        let bytes = encode(&value).expect("encode");
        assert_eq!(decode(&bytes).expect("decode"), value);
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]).expect_err("refused"),
            "truncated"
        );
        let mut longer = bytes.clone();
        longer.push(0xc0);
        assert!(
            decode(&longer)
                .expect_err("refused")
                .contains("1 bytes follow")
        );
        assert!(
            decode(&[0x91; 200])
                .expect_err("refused")
                .contains("nested")
        );
    }
}
