//! A Sparkplug metric as a value: its name (from the BIRTH when it came as an alias), its data
//! type by name, and its value typed as the data type says (signed integers sign-extended,
//! arrays unpacked, datasets as columns and rows, templates with their metrics).

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::wire::{self, MetricValue, PropertySet, PropertyValueKind, Scalar, TYPES};
use crate::payload::value::{RawJson, Value};

pub const BOOLEAN: u32 = 11;

/// What a BIRTH said of a metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub name: Arc<str>,
    pub datatype: u32,
}

/// A data type's name (`Float`), or its number when Sparkplug has none.
pub fn type_name(datatype: u32) -> Value {
    match TYPES.get(datatype as usize) {
        Some(name) => Value::text(*name),
        None => Value::UInt(u64::from(datatype)),
    }
}

/// A data type's number from its name, in any case (`float`, `Int8Array`).
pub fn type_number(name: &str) -> Option<u32> {
    TYPES
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name))
        .map(|index| index as u32)
}

/// A metric as JSON, written straight from the wire: no tree of values is built for it (this
/// is the path every DATA message takes).
pub(super) struct MetricJson<'a> {
    pub metric: &'a wire::Metric,
    pub known: Option<&'a Known>,
}

impl Serialize for MetricJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (metric, known) = (self.metric, self.known);
        let mut map = serializer.serialize_map(None)?;
        match (&metric.name, known) {
            (Some(name), _) => map.serialize_entry("name", name)?,
            (None, Some(known)) => map.serialize_entry("name", &*known.name)?,
            (None, None) => {}
        }
        if let Some(alias) = metric.alias {
            map.serialize_entry("alias", &alias)?;
        }
        if let Some(timestamp) = metric.timestamp {
            map.serialize_entry("timestamp", &timestamp)?;
        }
        let datatype = metric
            .datatype
            .or_else(|| known.map(|known| known.datatype))
            .unwrap_or_default();
        if datatype != 0 {
            map.serialize_entry("type", &type_name(datatype))?;
        }
        let value = match &metric.value {
            _ if metric.is_null == Some(true) => Value::Null,
            None => Value::Null,
            Some(value) => typed(value, datatype),
        };
        map.serialize_entry("value", &value)?;
        for (flag, key) in [
            (metric.is_historical, "is_historical"),
            (metric.is_transient, "is_transient"),
        ] {
            if flag == Some(true) {
                map.serialize_entry(key, &true)?;
            }
        }
        if let Some(properties) = &metric.properties {
            map.serialize_entry("properties", &property_set(properties.clone()))?;
        }
        if let Some(metadata) = &metric.metadata {
            map.serialize_entry("metadata", &metadata_value(metadata.clone()))?;
        }
        map.end()
    }
}

/// JSON written by a `Serialize` of ours, as a value, in a buffer of about `size` bytes.
pub(super) fn raw(json: &impl Serialize, size: usize) -> Value {
    RawJson::of(json, size).map_or(Value::Null, Value::Json)
}

/// A 32-bit field's value as the data type reads it: Int8/16/32 are two's complement.
fn int32(value: u32, datatype: u32) -> Value {
    match datatype {
        1 => Value::Int(i64::from(value as u8 as i8)),
        2 => Value::Int(i64::from(value as u16 as i16)),
        3 => Value::Int(i64::from(value as i32)),
        _ => Value::UInt(u64::from(value)),
    }
}

/// A 64-bit field's value: Int64 is two's complement, DateTime milliseconds.
fn int64(value: u64, datatype: u32) -> Value {
    match datatype {
        1..=4 => Value::Int(value as i64),
        _ => Value::UInt(value),
    }
}

fn typed(value: &MetricValue, datatype: u32) -> Value {
    match value {
        MetricValue::Bytes(bytes) => {
            array(bytes, datatype).unwrap_or_else(|| Value::Bytes(bytes.clone()))
        }
        MetricValue::DataSet(dataset) => dataset_value(dataset.clone()),
        MetricValue::Template(template) => template_value(template.clone()),
        plain => scalar(plain.scalar(), datatype),
    }
}

/// Arrays (types 22-34) are packed little-endian in the bytes value; `None` for other types
/// or bytes that do not divide into the type's elements.
fn array(bytes: &[u8], datatype: u32) -> Option<Value> {
    fn each<const N: usize>(bytes: &[u8], read: impl Fn([u8; N]) -> Value) -> Option<Value> {
        if !bytes.len().is_multiple_of(N) {
            return None;
        }
        Some(Value::Array(
            bytes
                .chunks_exact(N)
                .map(|chunk| read(chunk.try_into().expect("a chunk of N bytes")))
                .collect(),
        ))
    }
    match datatype {
        22 => each(bytes, |b: [u8; 1]| {
            Value::Int(i64::from(i8::from_le_bytes(b)))
        }),
        23 => each(bytes, |b: [u8; 2]| {
            Value::Int(i64::from(i16::from_le_bytes(b)))
        }),
        24 => each(bytes, |b: [u8; 4]| {
            Value::Int(i64::from(i32::from_le_bytes(b)))
        }),
        25 => each(bytes, |b: [u8; 8]| Value::Int(i64::from_le_bytes(b))),
        26 => each(bytes, |b: [u8; 1]| Value::UInt(u64::from(b[0]))),
        27 => each(bytes, |b: [u8; 2]| {
            Value::UInt(u64::from(u16::from_le_bytes(b)))
        }),
        28 => each(bytes, |b: [u8; 4]| {
            Value::UInt(u64::from(u32::from_le_bytes(b)))
        }),
        29 | 34 => each(bytes, |b: [u8; 8]| Value::UInt(u64::from_le_bytes(b))),
        30 => each(bytes, |b: [u8; 4]| {
            Value::Float(f64::from(f32::from_le_bytes(b)))
        }),
        31 => each(bytes, |b: [u8; 8]| Value::Float(f64::from_le_bytes(b))),
        32 => booleans(bytes),
        33 => {
            let text = bytes.strip_suffix(&[0]).unwrap_or(bytes);
            Some(Value::Array(
                text.split(|byte| *byte == 0)
                    .map(|item| Value::text(String::from_utf8_lossy(item).into_owned()))
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// BooleanArray: a little-endian count of four bytes, then the booleans packed, the first in
/// the highest bit.
fn booleans(bytes: &[u8]) -> Option<Value> {
    let (count, bits) = bytes.split_first_chunk::<4>()?;
    let count = u32::from_le_bytes(*count) as usize;
    if bits.len() < count.div_ceil(8) {
        return None;
    }
    Some(Value::Array(
        (0..count)
            .map(|i| Value::Bool(bits[i / 8] & (0x80 >> (i % 8)) != 0))
            .collect(),
    ))
}

fn scalar(value: Option<Scalar>, datatype: u32) -> Value {
    match value {
        None => Value::Null,
        Some(Scalar::Int(number)) => int32(number, datatype),
        Some(Scalar::Long(number)) => int64(number, datatype),
        Some(Scalar::Float(number)) => Value::Float(f64::from(number)),
        Some(Scalar::Double(number)) => Value::Float(number),
        Some(Scalar::Boolean(flag)) => Value::Bool(flag),
        Some(Scalar::String(text)) => Value::text(text),
    }
}

fn dataset_value(dataset: wire::DataSet) -> Value {
    let types = dataset.types.clone();
    let rows = dataset
        .rows
        .into_iter()
        .map(|row| {
            Value::Array(
                row.elements
                    .into_iter()
                    .enumerate()
                    .map(|(column, cell)| {
                        scalar(cell.value, types.get(column).copied().unwrap_or_default())
                    })
                    .collect(),
            )
        })
        .collect();
    Value::Map(vec![
        (
            "columns".into(),
            Value::Array(dataset.columns.into_iter().map(Value::text).collect()),
        ),
        (
            "types".into(),
            Value::Array(dataset.types.into_iter().map(type_name).collect()),
        ),
        ("rows".into(), Value::Array(rows)),
    ])
}

fn template_value(template: wire::Template) -> Value {
    let mut entries = Vec::new();
    if let Some(version) = template.version {
        entries.push(("version".into(), Value::text(version)));
    }
    if let Some(reference) = template.template_ref {
        entries.push(("template_ref".into(), Value::text(reference)));
    }
    if let Some(definition) = template.is_definition {
        entries.push(("is_definition".into(), Value::Bool(definition)));
    }
    if !template.parameters.is_empty() {
        let parameters = template
            .parameters
            .into_iter()
            .map(|parameter| {
                let datatype = parameter.r#type.unwrap_or_default();
                let value = parameter.value.as_ref().and_then(|value| value.scalar());
                Value::Map(vec![
                    (
                        "name".into(),
                        Value::text(parameter.name.unwrap_or_default()),
                    ),
                    ("type".into(), type_name(datatype)),
                    ("value".into(), scalar(value, datatype)),
                ])
            })
            .collect();
        entries.push(("parameters".into(), Value::Array(parameters)));
    }
    let metrics = template
        .metrics
        .iter()
        .map(|metric| {
            raw(
                &MetricJson {
                    metric,
                    known: None,
                },
                128,
            )
        })
        .collect();
    entries.push(("metrics".into(), Value::Array(metrics)));
    Value::Map(entries)
}

fn property_set(set: PropertySet) -> Value {
    Value::Map(
        set.keys
            .into_iter()
            .zip(set.values)
            .map(|(key, property)| {
                let datatype = property.r#type.unwrap_or_default();
                let value = match property.value {
                    _ if property.is_null == Some(true) => Value::Null,
                    None => Value::Null,
                    Some(PropertyValueKind::PropertySet(set)) => property_set(set),
                    Some(PropertyValueKind::PropertySets(list)) => {
                        Value::Array(list.propertyset.into_iter().map(property_set).collect())
                    }
                    Some(plain) => scalar(plain.scalar(), datatype),
                };
                // As Eclipse Tahu reads it: the type kept, so that the set can be written again.
                let entry = Value::Map(vec![
                    ("type".into(), type_name(datatype)),
                    ("value".into(), value),
                ]);
                (key.into(), entry)
            })
            .collect(),
    )
}

fn metadata_value(metadata: wire::MetaData) -> Value {
    let mut entries = Vec::new();
    let texts = [
        ("content_type", metadata.content_type),
        ("file_name", metadata.file_name),
        ("file_type", metadata.file_type),
        ("md5", metadata.md5),
        ("description", metadata.description),
    ];
    for (key, text) in texts {
        if let Some(text) = text {
            entries.push((key.into(), Value::text(text)));
        }
    }
    for (key, number) in [("size", metadata.size), ("seq", metadata.seq)] {
        if let Some(number) = number {
            entries.push((key.into(), Value::UInt(number)));
        }
    }
    if let Some(multi) = metadata.is_multi_part {
        entries.push(("is_multi_part".into(), Value::Bool(multi)));
    }
    Value::Map(entries)
}
