//! MessagePack. Binary prints as base64, map keys that are not text as their JSON text, an
//! extension as `{"ext": TYPE, "data": BASE64}`.

use rmpv::Value as Pack;

use super::value::{MAX_DEPTH, Value, one_item};

pub(super) fn decode(payload: &[u8]) -> Result<Value, String> {
    let mut rest = payload;
    let item = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH).map_err(|err| {
        use rmpv::decode::Error;
        match err {
            Error::InvalidMarkerRead(_) | Error::InvalidDataRead(_) => "truncated".to_string(),
            Error::DepthLimitExceeded => format!("nested more than {MAX_DEPTH} deep"),
        }
    })?;
    one_item(payload, rest, "MessagePack")?;
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
        Pack::Map(entries) => Value::map_from(entries, from_pack),
        Pack::Ext(kind, data) => Value::Map(vec![
            ("ext".into(), Value::Int(i64::from(kind))),
            ("data".into(), Value::Bytes(data)),
        ]),
    }
}

pub(super) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let pack = rmpv::ext::to_value(value).map_err(|err| err.to_string())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &pack).map_err(|err| err.to_string())?;
    Ok(out)
}
