//! `pub --encode sparkplug`: a JSON payload (`{"metrics":[{"name":"Temperature","type":"Float",
//! "value":21.5}]}`) written as Sparkplug B for its topic, with `seq` and timestamps filled in,
//! and in DATA the aliases a BIRTH of the same run gave its metrics.

use std::collections::HashMap;

use prost::Message as _;

use super::metric::type_number;
use super::topic::Topic;
use super::wire::{self, MetricValue};
use crate::payload::value::Value;

/// What a run has published: per edge node, its last `seq` and the aliases of its BIRTHs.
#[derive(Debug, Default)]
pub struct Publisher {
    nodes: HashMap<(String, String), Published>,
}

#[derive(Debug, Default)]
struct Published {
    seq: Option<u64>,
    /// Alias and data type by metric name.
    births: HashMap<String, (Option<u64>, u32)>,
}

impl Publisher {
    /// Encodes `value` for `topic`; `now_ms` fills in missing timestamps. An error names the
    /// field (`metrics[1].value: 300 does not fit Int8`).
    pub fn encode(&mut self, topic: &str, value: &Value, now_ms: u64) -> Result<Vec<u8>, String> {
        let (group, kind, edge) = match Topic::parse(topic)? {
            Topic::State { .. } => return Ok(value.to_json().into_bytes()),
            Topic::Edge {
                group, kind, edge, ..
            } => (group, kind, edge),
        };
        let Value::Map(_) = value else {
            return Err("a Sparkplug payload is a JSON object with \"metrics\"".into());
        };
        let node = self
            .nodes
            .entry((group.to_string(), edge.to_string()))
            .or_default();
        let birth = kind.ends_with("BIRTH");
        if kind == "NBIRTH" {
            node.births.clear();
        }
        // A payload written afresh gets now for itself and its metrics; one with its own
        // timestamp (a replayed capture) is written as it was.
        let (timestamp, metric_default) = match value.get("timestamp") {
            Some(given) => (unsigned(given, "timestamp")?, None),
            None => (now_ms, Some(now_ms)),
        };
        let mut metrics = Vec::new();
        if let Some(list) = value.get("metrics") {
            let Value::Array(list) = list else {
                return Err("metrics: not an array".into());
            };
            for (index, metric) in list.iter().enumerate() {
                let field = format!("metrics[{index}]");
                metrics.push(node.metric(metric, &field, birth, metric_default)?);
            }
        }
        if kind == "NBIRTH" && !metrics.iter().any(|m| m.name.as_deref() == Some("bdSeq")) {
            metrics.insert(
                0,
                wire::Metric {
                    name: Some("bdSeq".into()),
                    timestamp: metric_default,
                    datatype: Some(8),
                    value: Some(MetricValue::Long(0)),
                    ..Default::default()
                },
            );
        }
        let seq = match (kind, value.get("seq")) {
            ("NDEATH" | "NCMD" | "DCMD", _) => None,
            (_, Some(given)) => Some(unsigned(given, "seq")?),
            ("NBIRTH", None) => Some(0),
            (_, None) => Some(node.seq.map_or(0, |seq| (seq + 1) % 256)),
        };
        if seq.is_some() {
            node.seq = seq;
        }
        let payload = wire::Payload {
            timestamp: Some(timestamp),
            metrics,
            seq,
            uuid: value
                .get("uuid")
                .map(|uuid| text(uuid, "uuid"))
                .transpose()?,
            body: None,
        };
        Ok(payload.encode_to_vec())
    }
}

impl Published {
    fn metric(
        &mut self,
        metric: &Value,
        field: &str,
        birth: bool,
        timestamp: Option<u64>,
    ) -> Result<wire::Metric, String> {
        let Value::Map(_) = metric else {
            return Err(format!(
                "{field}: a metric is an object (name, type, value)"
            ));
        };
        let name = metric
            .get("name")
            .map(|name| text(name, &format!("{field}.name")))
            .transpose()?;
        let mut alias = metric
            .get("alias")
            .map(|alias| unsigned(alias, &format!("{field}.alias")))
            .transpose()?;
        let given_type = match metric.get("type").or_else(|| metric.get("datatype")) {
            Some(Value::Text(type_name)) => Some(type_number(type_name).ok_or_else(|| {
                format!("{field}.type: '{type_name}' is not a Sparkplug data type")
            })?),
            Some(number) => Some(unsigned(number, &format!("{field}.type"))? as u32),
            None => None,
        };
        let known = name
            .as_ref()
            .and_then(|name| self.births.get(name))
            .copied();
        let value = metric.get("value").unwrap_or(&Value::Null);
        let datatype = given_type
            .or(known.map(|(_, datatype)| datatype))
            .unwrap_or_else(|| inferred_type(value));
        let mut name = name;
        if birth {
            if let Some(name) = &name {
                self.births.insert(name.clone(), (alias, datatype));
            }
        } else if let Some((Some(known_alias), _)) = known
            && alias.is_none_or(|alias| alias == known_alias)
        {
            // DATA by alias, as an edge node sends it once its BIRTH named the metric.
            alias = Some(known_alias);
            name = None;
        }
        if name.is_none() && alias.is_none() {
            return Err(format!("{field}: a metric needs a name (or an alias)"));
        }
        let null = *value == Value::Null;
        Ok(wire::Metric {
            name,
            alias,
            timestamp: match metric.get("timestamp") {
                Some(given) => Some(unsigned(given, &format!("{field}.timestamp"))?),
                None => timestamp,
            },
            datatype: Some(datatype),
            is_null: null.then_some(true),
            value: if null {
                None
            } else {
                Some(metric_value(value, datatype, &format!("{field}.value"))?)
            },
            ..Default::default()
        })
    }
}

/// The data type a JSON value suggests when none is given.
fn inferred_type(value: &Value) -> u32 {
    match value {
        Value::Bool(_) => 11,
        Value::Int(_) | Value::UInt(_) => 4,
        Value::Float(_) => 10,
        _ => 12,
    }
}

fn unsigned(value: &Value, field: &str) -> Result<u64, String> {
    u64::try_from(integer(value, field)?)
        .map_err(|_| format!("{field}: {} is not 0 or more", value.to_json()))
}

fn text(value: &Value, field: &str) -> Result<String, String> {
    match value {
        Value::Text(text) => Ok(text.to_string()),
        Value::Shared(text) => Ok(text.to_string()),
        other => Err(format!("{field}: {} is not text", other.to_json())),
    }
}

fn integer(value: &Value, field: &str) -> Result<i128, String> {
    match value {
        Value::Int(number) => Ok(i128::from(*number)),
        Value::UInt(number) => Ok(i128::from(*number)),
        Value::Float(number) if number.fract() == 0.0 && number.is_finite() => Ok(*number as i128),
        Value::Text(text) => text
            .parse()
            .map_err(|_| format!("{field}: '{text}' is not a whole number")),
        other => Err(format!(
            "{field}: {} is not a whole number",
            other.to_json()
        )),
    }
}

fn float(value: &Value, field: &str) -> Result<f64, String> {
    match value {
        Value::Int(number) => Ok(*number as f64),
        Value::UInt(number) => Ok(*number as f64),
        Value::Float(number) => Ok(*number),
        other => Err(format!("{field}: {} is not a number", other.to_json())),
    }
}

/// A value in range for an integer type (`Int8`: -128 to 127).
fn ranged(
    value: &Value,
    field: &str,
    min: i128,
    max: i128,
    type_name: &str,
) -> Result<i128, String> {
    let number = integer(value, field)?;
    if number < min || number > max {
        return Err(format!(
            "{field}: {number} does not fit {type_name} ({min} to {max})"
        ));
    }
    Ok(number)
}

fn metric_value(value: &Value, datatype: u32, field: &str) -> Result<MetricValue, String> {
    let type_name = super::wire::TYPES
        .get(datatype as usize)
        .copied()
        .unwrap_or("Unknown");
    let int = |min: i128, max: i128| ranged(value, field, min, max, type_name);
    Ok(match datatype {
        1 => MetricValue::Int(int(-128, 127)? as i32 as u32),
        2 => MetricValue::Int(int(-32768, 32767)? as i32 as u32),
        3 => MetricValue::Int(int(i32::MIN.into(), i32::MAX.into())? as i32 as u32),
        5 => MetricValue::Int(int(0, 255)? as u32),
        6 => MetricValue::Int(int(0, 65535)? as u32),
        // As Eclipse Tahu writes them: UInt32, Int64, UInt64 and DateTime in the 64-bit field.
        4 => MetricValue::Long(int(i64::MIN.into(), i64::MAX.into())? as i64 as u64),
        7 => MetricValue::Long(int(0, u32::MAX.into())? as u64),
        8 | 13 => MetricValue::Long(int(0, u64::MAX.into())? as u64),
        9 => MetricValue::Float(float(value, field)? as f32),
        10 => MetricValue::Double(float(value, field)?),
        11 => match value {
            Value::Bool(flag) => MetricValue::Boolean(*flag),
            other => return Err(format!("{field}: {} is not true or false", other.to_json())),
        },
        12 | 14 | 15 => MetricValue::String(text(value, field)?),
        17 | 18 => {
            use base64::Engine;
            let encoded = text(value, field)?;
            MetricValue::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.as_bytes())
                    .map_err(|err| format!("{field}: not base64: {err}"))?,
            )
        }
        16 => MetricValue::DataSet(dataset(value, field)?),
        22..=34 => MetricValue::Bytes(array(value, datatype, field)?),
        other => {
            return Err(format!(
                "{field}: --encode sparkplug writes scalars, arrays, Bytes and File; not {}",
                super::wire::TYPES
                    .get(other as usize)
                    .copied()
                    .unwrap_or("an unknown type")
            ));
        }
    })
}

/// A DataSet as `sub --decode sparkplug` prints it: `{"columns": [...], "types": [...],
/// "rows": [[...], ...]}`.
fn dataset(value: &Value, field: &str) -> Result<wire::DataSet, String> {
    let list = |key: &str| match value.get(key) {
        Some(Value::Array(items)) => Ok(items.as_slice()),
        _ => Err(format!(
            "{field}.{key}: a DataSet needs \"{key}\" (an array)"
        )),
    };
    let columns = list("columns")?
        .iter()
        .enumerate()
        .map(|(index, column)| text(column, &format!("{field}.columns[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let types = list("types")?
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            let at = format!("{field}.types[{index}]");
            match kind {
                Value::Text(name) => type_number(name)
                    .ok_or_else(|| format!("{at}: '{name}' is not a Sparkplug data type")),
                other => unsigned(other, &at).map(|number| number as u32),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if types.len() != columns.len() {
        return Err(format!(
            "{field}: {} columns but {} types",
            columns.len(),
            types.len()
        ));
    }
    let mut rows = Vec::new();
    for (row_index, row) in list("rows")?.iter().enumerate() {
        let at = format!("{field}.rows[{row_index}]");
        let Value::Array(cells) = row else {
            return Err(format!("{at}: a row is an array"));
        };
        if cells.len() != columns.len() {
            return Err(format!(
                "{at}: {} cells for {} columns",
                cells.len(),
                columns.len()
            ));
        }
        let elements = cells
            .iter()
            .zip(&types)
            .enumerate()
            .map(|(index, (cell, datatype))| {
                let at = format!("{at}[{index}]");
                let value = metric_value(cell, *datatype, &at)?
                    .scalar()
                    .ok_or_else(|| format!("{at}: a DataSet cell is a scalar"))?;
                Ok(wire::DataSetValue { value: Some(value) })
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.push(wire::Row { elements });
    }
    Ok(wire::DataSet {
        num_of_columns: Some(columns.len() as u64),
        columns,
        types,
        rows,
    })
}

/// An array type's value packed as Sparkplug packs it (little-endian).
fn array(value: &Value, datatype: u32, field: &str) -> Result<Vec<u8>, String> {
    let Value::Array(items) = value else {
        return Err(format!("{field}: {} is not an array", value.to_json()));
    };
    let mut out = Vec::new();
    if datatype == 32 {
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        out.resize(4 + items.len().div_ceil(8), 0);
    }
    for (index, item) in items.iter().enumerate() {
        let field = format!("{field}[{index}]");
        let int = |min: i128, max: i128| ranged(item, &field, min, max, "the array's type");
        match datatype {
            22 => out.extend_from_slice(&(int(-128, 127)? as i8).to_le_bytes()),
            23 => out.extend_from_slice(&(int(-32768, 32767)? as i16).to_le_bytes()),
            24 => out
                .extend_from_slice(&(int(i32::MIN.into(), i32::MAX.into())? as i32).to_le_bytes()),
            25 => out
                .extend_from_slice(&(int(i64::MIN.into(), i64::MAX.into())? as i64).to_le_bytes()),
            26 => out.push(int(0, 255)? as u8),
            27 => out.extend_from_slice(&(int(0, 65535)? as u16).to_le_bytes()),
            28 => out.extend_from_slice(&(int(0, u32::MAX.into())? as u32).to_le_bytes()),
            29 | 34 => out.extend_from_slice(&(int(0, u64::MAX.into())? as u64).to_le_bytes()),
            30 => out.extend_from_slice(&(float(item, &field)? as f32).to_le_bytes()),
            31 => out.extend_from_slice(&float(item, &field)?.to_le_bytes()),
            32 => match item {
                Value::Bool(true) => out[4 + index / 8] |= 0x80 >> (index % 8),
                Value::Bool(false) => {}
                other => return Err(format!("{field}: {} is not true or false", other.to_json())),
            },
            _ => {
                out.extend_from_slice(text(item, &field)?.as_bytes());
                out.push(0);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_we_write_reads_back_the_same_arrays_and_datasets_included() {
        let metrics = r#"[
            {"name":"i16","type":"Int16Array","value":[-1,300]},
            {"name":"flags","type":"BooleanArray","value":[true,false,true,true,false,false,false,false,true]},
            {"name":"words","type":"StringArray","value":["a","bc"]},
            {"name":"f","type":"DoubleArray","value":[1.5,-2.25]},
            {"name":"t","type":"DataSet","value":{"columns":["id","label"],"types":["Int32","String"],"rows":[[1,"a"],[-2,"b"]]}},
            {"name":"u","type":"UInt32","value":4294967295},
            {"name":"when","type":"DateTime","value":1796300000000}
        ]"#;
        let value: Value =
            serde_json::from_str(&format!(r#"{{"timestamp":5,"seq":3,"metrics":{metrics}}}"#))
                .expect("JSON");
        let bytes = Publisher::default()
            .encode("spBv1.0/G/NDATA/E", &value, 0)
            .expect("encodes");
        let (read, _) = super::super::Sessions::default()
            .decode("spBv1.0/G/NDATA/E", &bytes)
            .expect("decodes");
        assert_eq!(read.to_json(), value.to_json());
    }
}
