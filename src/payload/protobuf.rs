//! Protobuf from the user's own `.proto` files, compiled at run time by protox (no `protoc`
//! needed) into prost-reflect's descriptors; printed as the protobuf JSON mapping (enums by
//! name, 64-bit integers as strings, bytes as base64), with the field names of the `.proto`
//! and fields at their default value shown (a reading of 0 is a reading).

use std::path::{Path, PathBuf};

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};

use super::value::{RawJson, Value};

/// `--proto` files and `--proto-path` directories, as given.
#[derive(Debug, Clone, Default)]
pub struct ProtoFiles {
    pub files: Vec<PathBuf>,
    pub include: Vec<PathBuf>,
}

/// The message types of the `--proto` files.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    pool: Option<DescriptorPool>,
}

impl Schemas {
    /// Compiles the `--proto` files; each file's folder is searched for imports after the
    /// `--proto-path` folders. A file that does not compile: its name, line and why.
    pub fn load(protos: &ProtoFiles) -> Result<Schemas, String> {
        if protos.files.is_empty() {
            return Ok(Schemas::default());
        }
        let mut include = protos.include.clone();
        for file in &protos.files {
            let folder = file
                .parent()
                .filter(|folder| !folder.as_os_str().is_empty());
            let folder = folder.unwrap_or(Path::new(".")).to_path_buf();
            if !include.contains(&folder) {
                include.push(folder);
            }
        }
        let mut compiler = protox::Compiler::new(&include).map_err(|err| explain(&err))?;
        compiler.include_imports(true);
        for file in &protos.files {
            if !file.is_file() {
                return Err(format!("--proto {}: no such file", file.display()));
            }
            compiler.open_file(file).map_err(|err| explain(&err))?;
        }
        Ok(Schemas {
            pool: Some(compiler.descriptor_pool()),
        })
    }

    /// The message type named (package and name, `acme.Reading`).
    pub fn message_type(&self, name: &str) -> Result<MessageType, String> {
        let Some(pool) = &self.pool else {
            return Err(format!(
                "protobuf:{name} needs the .proto file that defines it: --proto FILE"
            ));
        };
        let name = name.trim_start_matches('.');
        pool.get_message_by_name(name)
            .map(MessageType)
            .ok_or_else(|| {
                format!(
                    "no message type '{name}' in the --proto files ({})",
                    self.known_types()
                )
            })
    }

    /// The message types known, for an error.
    pub fn known_types(&self) -> String {
        let names: Vec<String> = self
            .pool
            .iter()
            .flat_map(|pool| pool.all_messages())
            .filter(|message| !message.full_name().starts_with("google.protobuf."))
            .map(|message| message.full_name().to_string())
            .take(20)
            .collect();
        if names.is_empty() {
            "none: give the .proto with --proto FILE".to_string()
        } else {
            format!("types: {}", names.join(", "))
        }
    }
}

/// A protobuf compile error as `file:line:column: why`.
fn explain(err: &protox::Error) -> String {
    use miette::Diagnostic;
    let place = err
        .labels()
        .and_then(|mut labels| labels.next())
        .and_then(|label| {
            let source = err.source_code()?;
            let contents = source.read_span(label.inner(), 0, 0).ok()?;
            Some(format!(
                "{}:{}:{}",
                contents
                    .name()
                    .map(str::to_string)
                    .or_else(|| err.file().map(str::to_string))
                    .unwrap_or_default(),
                contents.line() + 1,
                contents.column() + 1
            ))
        });
    match (place, err.file()) {
        (Some(place), _) => format!("--proto: {place}: {err}"),
        (None, Some(file)) => format!("--proto: {file}: {err}"),
        (None, None) => format!("--proto: {err}"),
    }
}

/// One message type: decodes and encodes its messages.
#[derive(Debug, Clone)]
pub struct MessageType(MessageDescriptor);

const JSON_MAPPING: SerializeOptions = SerializeOptions::new()
    .use_proto_field_name(true)
    .skip_default_fields(false);

impl MessageType {
    pub fn full_name(&self) -> &str {
        self.0.full_name()
    }

    pub(super) fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        let message = DynamicMessage::decode(self.0.clone(), payload).map_err(|err| {
            let why = err.to_string();
            why.strip_prefix("failed to decode Protobuf message: ")
                .map(str::to_string)
                .unwrap_or(why)
        })?;
        // Written once, straight into the JSON the formats print.
        RawJson::of(&JsonMapping(&message), payload.len() * 4 + 64)
            .map(Value::Json)
            .ok_or_else(|| "not written as JSON".to_string())
    }

    pub(super) fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        let message =
            message_of(&self.0, value).map_err(|why| match locate(&self.0, value, "") {
                Some(field) => format!("{field}: {why}"),
                None => why,
            })?;
        Ok(message.encode_to_vec())
    }
}

fn message_of(descriptor: &MessageDescriptor, value: &Value) -> Result<DynamicMessage, String> {
    let text = value.to_json();
    let mut reader = serde_json::Deserializer::from_str(&text);
    DynamicMessage::deserialize(descriptor.clone(), &mut reader)
        .map_err(|err| strip_position(&err.to_string()))
}

/// The field (`place.floor`) a JSON object fails on, tried one field at a time.
fn locate(descriptor: &MessageDescriptor, value: &Value, path: &str) -> Option<String> {
    let Value::Map(entries) = value else {
        return None;
    };
    for (key, inner) in entries {
        let alone = Value::Map(vec![(key.clone(), inner.clone())]);
        if message_of(descriptor, &alone).is_ok() {
            continue;
        }
        let here = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        let field = descriptor
            .get_field_by_json_name(key)
            .or_else(|| descriptor.get_field_by_name(key));
        if let Some(field) = field
            && !field.is_list()
            && !field.is_map()
            && let prost_reflect::Kind::Message(nested) = field.kind()
            && let Some(deeper) = locate(&nested, inner, &here)
        {
            return Some(deeper);
        }
        return Some(here);
    }
    None
}

/// A message as the protobuf JSON mapping writes it.
struct JsonMapping<'a>(&'a DynamicMessage);

impl serde::Serialize for JsonMapping<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with_options(serializer, &JSON_MAPPING)
    }
}

/// serde_json's "at line 1 column 20" points into our own re-written text, not the user's.
fn strip_position(why: &str) -> String {
    match why.rfind(" at line ") {
        Some(at) => why[..at].to_string(),
        None => why.to_string(),
    }
}
