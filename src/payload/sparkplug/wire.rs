//! Sparkplug B's payload on the wire (Sparkplug 3.0, `org.eclipse.tahu.protobuf.Payload`):
//! the project's own definition, field numbers as the specification gives them. Extension
//! fields are left out (unknown fields are skipped).

#![allow(clippy::derive_partial_eq_without_eq)]

/// A `oneof` that starts with Sparkplug's six plain values, at these tags (int, long, float,
/// double, boolean, string), then any others; `scalar()` gives the plain value as a [`Scalar`].
macro_rules! oneof {
    ($(#[$doc:meta])* $name:ident [$int:tt, $long:tt, $float:tt, $double:tt, $boolean:tt, $string:tt]
     { $($(#[$attr:meta])* $variant:ident($ty:ty),)* }) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum $name {
            #[prost(uint32, tag = $int)]
            Int(u32),
            #[prost(uint64, tag = $long)]
            Long(u64),
            #[prost(float, tag = $float)]
            Float(f32),
            #[prost(double, tag = $double)]
            Double(f64),
            #[prost(bool, tag = $boolean)]
            Boolean(bool),
            #[prost(string, tag = $string)]
            String(String),
            $($(#[$attr])* $variant($ty),)*
        }

        impl $name {
            /// The value, when it is one of the six plain ones.
            #[allow(unreachable_patterns, dead_code)]
            pub fn scalar(&self) -> Option<Scalar> {
                Some(match self {
                    $name::Int(v) => Scalar::Int(*v),
                    $name::Long(v) => Scalar::Long(*v),
                    $name::Float(v) => Scalar::Float(*v),
                    $name::Double(v) => Scalar::Double(*v),
                    $name::Boolean(v) => Scalar::Boolean(*v),
                    $name::String(v) => Scalar::String(v.clone()),
                    _ => return None,
                })
            }

            /// A plain value in this `oneof`.
            #[allow(dead_code)]
            pub fn from_scalar(scalar: Scalar) -> Self {
                match scalar {
                    Scalar::Int(v) => $name::Int(v),
                    Scalar::Long(v) => $name::Long(v),
                    Scalar::Float(v) => $name::Float(v),
                    Scalar::Double(v) => $name::Double(v),
                    Scalar::Boolean(v) => $name::Boolean(v),
                    Scalar::String(v) => $name::String(v),
                }
            }
        }
    };
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
    #[prost(string, optional, tag = "4")]
    pub uuid: Option<String>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub body: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(uint64, optional, tag = "2")]
    pub alias: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub timestamp: Option<u64>,
    #[prost(uint32, optional, tag = "4")]
    pub datatype: Option<u32>,
    #[prost(bool, optional, tag = "5")]
    pub is_historical: Option<bool>,
    #[prost(bool, optional, tag = "6")]
    pub is_transient: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub is_null: Option<bool>,
    #[prost(message, optional, tag = "8")]
    pub metadata: Option<MetaData>,
    #[prost(message, optional, tag = "9")]
    pub properties: Option<PropertySet>,
    #[prost(oneof = "MetricValue", tags = "10, 11, 12, 13, 14, 15, 16, 17, 18")]
    pub value: Option<MetricValue>,
}

oneof! {
    MetricValue [10, 11, 12, 13, 14, 15] {
        #[prost(bytes = "vec", tag = "16")]
        Bytes(Vec<u8>),
        #[prost(message, tag = "17")]
        DataSet(DataSet),
        #[prost(message, tag = "18")]
        Template(Template),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaData {
    #[prost(bool, optional, tag = "1")]
    pub is_multi_part: Option<bool>,
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    #[prost(uint64, optional, tag = "3")]
    pub size: Option<u64>,
    #[prost(uint64, optional, tag = "4")]
    pub seq: Option<u64>,
    #[prost(string, optional, tag = "5")]
    pub file_name: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub file_type: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub md5: Option<String>,
    #[prost(string, optional, tag = "8")]
    pub description: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySet {
    #[prost(string, repeated, tag = "1")]
    pub keys: Vec<String>,
    #[prost(message, repeated, tag = "2")]
    pub values: Vec<PropertyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySetList {
    #[prost(message, repeated, tag = "1")]
    pub propertyset: Vec<PropertySet>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertyValue {
    #[prost(uint32, optional, tag = "1")]
    pub r#type: Option<u32>,
    #[prost(bool, optional, tag = "2")]
    pub is_null: Option<bool>,
    #[prost(oneof = "PropertyValueKind", tags = "3, 4, 5, 6, 7, 8, 9, 10")]
    pub value: Option<PropertyValueKind>,
}

oneof! {
    PropertyValueKind [3, 4, 5, 6, 7, 8] {
        #[prost(message, tag = "9")]
        PropertySet(PropertySet),
        #[prost(message, tag = "10")]
        PropertySets(PropertySetList),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSet {
    #[prost(uint64, optional, tag = "1")]
    pub num_of_columns: Option<u64>,
    #[prost(string, repeated, tag = "2")]
    pub columns: Vec<String>,
    #[prost(uint32, repeated, packed = "false", tag = "3")]
    pub types: Vec<u32>,
    #[prost(message, repeated, tag = "4")]
    pub rows: Vec<Row>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Row {
    #[prost(message, repeated, tag = "1")]
    pub elements: Vec<DataSetValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSetValue {
    #[prost(oneof = "Scalar", tags = "1, 2, 3, 4, 5, 6")]
    pub value: Option<Scalar>,
}

oneof! {
    /// The plain values, as a dataset cell holds them.
    Scalar [1, 2, 3, 4, 5, 6] {}
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Template {
    #[prost(string, optional, tag = "1")]
    pub version: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    #[prost(message, repeated, tag = "3")]
    pub parameters: Vec<Parameter>,
    #[prost(string, optional, tag = "4")]
    pub template_ref: Option<String>,
    #[prost(bool, optional, tag = "5")]
    pub is_definition: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Parameter {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(uint32, optional, tag = "2")]
    pub r#type: Option<u32>,
    #[prost(oneof = "ParameterValue", tags = "3, 4, 5, 6, 7, 8")]
    pub value: Option<ParameterValue>,
}

oneof! {
    ParameterValue [3, 4, 5, 6, 7, 8] {}
}

/// Sparkplug's data types, by number.
pub const TYPES: [&str; 35] = [
    "Unknown",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float",
    "Double",
    "Boolean",
    "String",
    "DateTime",
    "Text",
    "UUID",
    "DataSet",
    "Bytes",
    "File",
    "Template",
    "PropertySet",
    "PropertySetList",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Int64Array",
    "UInt8Array",
    "UInt16Array",
    "UInt32Array",
    "UInt64Array",
    "FloatArray",
    "DoubleArray",
    "BooleanArray",
    "StringArray",
    "DateTimeArray",
];
