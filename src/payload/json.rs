//! JSON: checked and read with its keys in their order.

use super::value::Value;

pub(super) fn decode(payload: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(payload).map_err(|err| err.to_string())
}
