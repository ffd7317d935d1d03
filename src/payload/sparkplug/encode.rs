//! `pub --encode sparkplug`: a JSON payload (`{"metrics":[{"name":"Temperature","type":"Float",
//! "value":21.5}]}`) written as Sparkplug B for its topic, with `seq` and timestamps filled in,
//! and in DATA the aliases a BIRTH of the same run gave its metrics.

use std::collections::HashMap;

use prost::Message as _;

use super::metric::type_number;
use super::topic::Topic;
use super::wire::{self, MetricValue, ParameterValue, PropertyValueKind, Scalar};
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
        only(
            value,
            "the payload",
            &["timestamp", "seq", "uuid", "metrics", "body"],
        )?;
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
            body: match value.get("body") {
                None => None,
                Some(body) => Some(base64_bytes(body, "body")?),
            },
        };
        Ok(payload.encode_to_vec())
    }
}

impl Published {
    /// A metric of this node's payload: a BIRTH's names are kept with their aliases and types,
    /// and a DATA metric by a name its BIRTH gave an alias goes out by that alias.
    fn metric(
        &mut self,
        metric: &Value,
        field: &str,
        birth: bool,
        timestamp: Option<u64>,
    ) -> Result<wire::Metric, String> {
        let known = match metric.get("name") {
            Some(Value::Text(name)) => self.births.get(name.as_ref()).copied(),
            _ => None,
        };
        let mut written = metric_of(
            metric,
            field,
            timestamp,
            known.map(|(_, datatype)| datatype),
        )?;
        if birth {
            if let Some(name) = &written.name {
                let datatype = written.datatype.unwrap_or_default();
                self.births.insert(name.clone(), (written.alias, datatype));
            }
        } else if let Some((Some(known_alias), _)) = known
            && written.alias.is_none_or(|alias| alias == known_alias)
        {
            // DATA by alias, as an edge node sends it once its BIRTH named the metric.
            written.alias = Some(known_alias);
            written.name = None;
        }
        Ok(written)
    }
}

/// Refuses keys other than `keys` (a misspelt `"vlaue"` would otherwise publish a null).
fn only(value: &Value, field: &str, keys: &[&str]) -> Result<(), String> {
    if let Value::Map(entries) = value
        && let Some((key, _)) = entries
            .iter()
            .find(|(key, _)| !keys.contains(&key.as_ref()))
    {
        return Err(format!(
            "{field}: unknown key '{key}' (known: {})",
            keys.join(", ")
        ));
    }
    Ok(())
}

/// A metric as `sub --decode sparkplug` prints it (name, alias, timestamp, type, value, flags,
/// properties, metadata); `datatype` is the type a BIRTH gave its name, `timestamp` the one
/// it gets when it has none.
fn metric_of(
    metric: &Value,
    field: &str,
    timestamp: Option<u64>,
    datatype: Option<u32>,
) -> Result<wire::Metric, String> {
    let Value::Map(_) = metric else {
        return Err(format!(
            "{field}: a metric is an object (name, type, value)"
        ));
    };
    only(
        metric,
        field,
        &[
            "name",
            "alias",
            "timestamp",
            "type",
            "datatype",
            "value",
            "is_historical",
            "is_transient",
            "properties",
            "metadata",
        ],
    )?;
    let at = |key: &str| format!("{field}.{key}");
    let name = optional_text(metric, field, "name")?;
    let alias = metric
        .get("alias")
        .map(|alias| unsigned(alias, &at("alias")))
        .transpose()?;
    if name.is_none() && alias.is_none() {
        return Err(format!("{field}: a metric needs a name (or an alias)"));
    }
    let value = metric.get("value").unwrap_or(&Value::Null);
    let datatype = type_of(metric, field)?
        .or(datatype)
        .unwrap_or_else(|| inferred_type(value));
    let null = *value == Value::Null;
    Ok(wire::Metric {
        name,
        alias,
        timestamp: match metric.get("timestamp") {
            Some(given) => Some(unsigned(given, &at("timestamp"))?),
            None => timestamp,
        },
        datatype: Some(datatype),
        is_historical: flag(metric, field, "is_historical")?,
        is_transient: flag(metric, field, "is_transient")?,
        is_null: null.then_some(true),
        metadata: metric
            .get("metadata")
            .map(|metadata| metadata_of(metadata, &at("metadata")))
            .transpose()?,
        properties: metric
            .get("properties")
            .map(|properties| property_set(properties, &at("properties")))
            .transpose()?,
        value: if null {
            None
        } else {
            Some(metric_value(value, datatype, &at("value"))?)
        },
    })
}

/// The data type named by `"type"` (or `"datatype"`), by name or number.
fn type_of(value: &Value, field: &str) -> Result<Option<u32>, String> {
    match value.get("type").or_else(|| value.get("datatype")) {
        Some(Value::Text(type_name)) => {
            Ok(Some(type_number(type_name).ok_or_else(|| {
                format!("{field}.type: '{type_name}' is not a Sparkplug data type")
            })?))
        }
        Some(number) => Ok(Some(unsigned(number, &format!("{field}.type"))? as u32)),
        None => Ok(None),
    }
}

fn flag(value: &Value, field: &str, key: &str) -> Result<Option<bool>, String> {
    match value.get(key) {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(other) => Err(format!(
            "{field}.{key}: {} is not true or false",
            other.to_json()
        )),
    }
}

fn optional_text(value: &Value, field: &str, key: &str) -> Result<Option<String>, String> {
    value
        .get(key)
        .map(|text_value| text(text_value, &format!("{field}.{key}")))
        .transpose()
}

/// Properties as Eclipse Tahu (and `sub --decode sparkplug`) write them: `{"Engineering
/// Units": {"type": "String", "value": "C"}}`; a type left out follows the value (an object is
/// a PropertySet, an array a PropertySetList).
fn property_set(value: &Value, field: &str) -> Result<wire::PropertySet, String> {
    let Value::Map(entries) = value else {
        return Err(format!(
            "{field}: properties are an object ({{\"key\": {{\"type\", \"value\"}}}})"
        ));
    };
    let mut set = wire::PropertySet::default();
    for (key, entry) in entries {
        let at = format!("{field}.{key}");
        let Value::Map(_) = entry else {
            return Err(format!(
                "{at}: a property is an object ({{\"type\", \"value\"}})"
            ));
        };
        only(entry, &at, &["type", "value"])?;
        let value = entry.get("value").unwrap_or(&Value::Null);
        let datatype = type_of(entry, &at)?.unwrap_or_else(|| match value {
            Value::Map(_) => 20,
            Value::Array(_) => 21,
            other => inferred_type(other),
        });
        let at = format!("{at}.value");
        let kind = match (value, datatype) {
            (Value::Null, _) => None,
            (_, 20) => Some(PropertyValueKind::PropertySet(property_set(value, &at)?)),
            (Value::Array(sets), 21) => {
                Some(PropertyValueKind::PropertySets(wire::PropertySetList {
                    propertyset: sets
                        .iter()
                        .enumerate()
                        .map(|(index, set)| property_set(set, &format!("{at}[{index}]")))
                        .collect::<Result<_, _>>()?,
                }))
            }
            (other, 21) => return Err(format!("{at}: {} is not an array", other.to_json())),
            _ => Some(PropertyValueKind::from_scalar(scalar_value(
                value, datatype, &at,
            )?)),
        };
        set.keys.push(key.to_string());
        set.values.push(wire::PropertyValue {
            r#type: Some(datatype),
            is_null: kind.is_none().then_some(true),
            value: kind,
        });
    }
    Ok(set)
}

/// A plain value (a property's, a template parameter's, a dataset cell's) of `datatype`.
fn scalar_value(value: &Value, datatype: u32, field: &str) -> Result<Scalar, String> {
    metric_value(value, datatype, field)?
        .scalar()
        .ok_or_else(|| {
            format!("{field}: a plain value is wanted here (a number, text or a boolean)")
        })
}

fn metadata_of(value: &Value, field: &str) -> Result<wire::MetaData, String> {
    only(
        value,
        field,
        &[
            "content_type",
            "file_name",
            "file_type",
            "md5",
            "description",
            "size",
            "seq",
            "is_multi_part",
        ],
    )?;
    let number = |key: &str| {
        value
            .get(key)
            .map(|number| unsigned(number, &format!("{field}.{key}")))
            .transpose()
    };
    Ok(wire::MetaData {
        is_multi_part: flag(value, field, "is_multi_part")?,
        content_type: optional_text(value, field, "content_type")?,
        size: number("size")?,
        seq: number("seq")?,
        file_name: optional_text(value, field, "file_name")?,
        file_type: optional_text(value, field, "file_type")?,
        md5: optional_text(value, field, "md5")?,
        description: optional_text(value, field, "description")?,
    })
}

/// A Template (a definition or an instance) as `sub --decode sparkplug` prints it.
fn template(value: &Value, field: &str) -> Result<wire::Template, String> {
    let Value::Map(_) = value else {
        return Err(format!(
            "{field}: a Template is an object (metrics, parameters, ...)"
        ));
    };
    only(
        value,
        field,
        &[
            "version",
            "template_ref",
            "is_definition",
            "parameters",
            "metrics",
        ],
    )?;
    let list = |key: &str| match value.get(key) {
        None => Ok(&[][..]),
        Some(Value::Array(items)) => Ok(items.as_slice()),
        Some(other) => Err(format!(
            "{field}.{key}: {} is not an array",
            other.to_json()
        )),
    };
    let metrics = list("metrics")?
        .iter()
        .enumerate()
        .map(|(index, metric)| metric_of(metric, &format!("{field}.metrics[{index}]"), None, None))
        .collect::<Result<_, _>>()?;
    let mut parameters = Vec::new();
    for (index, parameter) in list("parameters")?.iter().enumerate() {
        let at = format!("{field}.parameters[{index}]");
        only(parameter, &at, &["name", "type", "value"])?;
        let value = parameter.get("value").unwrap_or(&Value::Null);
        let datatype = type_of(parameter, &at)?.unwrap_or_else(|| inferred_type(value));
        parameters.push(wire::Parameter {
            name: optional_text(parameter, &at, "name")?,
            r#type: Some(datatype),
            value: match value {
                Value::Null => None,
                _ => Some(ParameterValue::from_scalar(scalar_value(
                    value,
                    datatype,
                    &format!("{at}.value"),
                )?)),
            },
        });
    }
    Ok(wire::Template {
        version: optional_text(value, field, "version")?,
        metrics,
        parameters,
        template_ref: optional_text(value, field, "template_ref")?,
        is_definition: flag(value, field, "is_definition")?,
    })
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

/// Bytes as JSON carries them: base64 text.
fn base64_bytes(value: &Value, field: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text(value, field)?.as_bytes())
        .map_err(|err| format!("{field}: not base64: {err}"))
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
        17 | 18 => MetricValue::Bytes(base64_bytes(value, field)?),
        16 => MetricValue::DataSet(dataset(value, field)?),
        19 => MetricValue::Template(template(value, field)?),
        22..=34 => MetricValue::Bytes(array(value, datatype, field)?),
        other => {
            return Err(format!(
                "{field}: a metric's value is not of type {}",
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
                let value = scalar_value(cell, *datatype, &at)?;
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
            {"name":"when","type":"DateTime","value":1796300000000},
            {"name":"T","timestamp":9,"type":"Float","value":21.5,"is_historical":true,
             "properties":{"engUnit":{"type":"String","value":"C"},"engLow":{"type":"Double","value":-40.5},
               "quality":{"type":"Int32","value":-192},"none":{"type":"String","value":null},
               "nested":{"type":"PropertySet","value":{"a":{"type":"Boolean","value":true}}},
               "list":{"type":"PropertySetList","value":[{"b":{"type":"UInt64","value":7}}]}},
             "metadata":{"content_type":"text/plain","size":3,"is_multi_part":false}},
            {"name":"Motor","type":"Template","value":{"version":"1.0","template_ref":"MotorType",
             "is_definition":false,"parameters":[{"name":"rpm","type":"UInt16","value":1500}],
             "metrics":[{"name":"on","type":"Boolean","value":true},{"name":"label","type":"String","value":null}]}}
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

    #[test]
    fn a_key_we_would_not_write_is_refused_by_its_place() {
        let cases = [
            (
                r#"{"metrics":[{"name":"T","vlaue":1}]}"#,
                "metrics[0]: unknown key 'vlaue'",
            ),
            (r#"{"metric":[]}"#, "the payload: unknown key 'metric'"),
            (
                r#"{"metrics":[{"name":"T","value":1,"properties":{"u":{"typ":"String"}}}]}"#,
                "metrics[0].properties.u: unknown key 'typ'",
            ),
            (
                r#"{"metrics":[{"name":"T","value":1,"properties":{"u":"C"}}]}"#,
                "metrics[0].properties.u: a property is an object",
            ),
            (
                r#"{"metrics":[{"name":"M","type":"Template","value":{"metrics":[{"name":"x","type":"Int8","value":200}]}}]}"#,
                "metrics[0].value.metrics[0].value: 200 does not fit Int8",
            ),
            (
                r#"{"metrics":[{"name":"P","type":"PropertySet","value":{}}]}"#,
                "metrics[0].value: a metric's value is not of type PropertySet",
            ),
        ];
        for (json, error) in cases {
            let value: Value = serde_json::from_str(json).expect("JSON");
            let refused = Publisher::default()
                .encode("spBv1.0/G/NDATA/E", &value, 0)
                .expect_err(json);
            assert!(refused.starts_with(error), "{json}: {refused}");
        }
    }
}
