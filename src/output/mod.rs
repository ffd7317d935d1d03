//! The one printer that owns stdout: data only, buffered, written by a thread of its own.
//!
//! On a terminal every message is flushed at once; in a pipe output is block-buffered and flushed
//! whenever no further message is waiting, so a drain of 100k messages costs a handful of writes
//! while a script reading line by line still sees each message promptly.
//!
//! Writing never blocks the MQTT session: rendered output goes to a writer thread through a
//! bounded queue ([`OUTPUT_QUEUE`] blocks of at most [`BLOCK`] bytes). When the reader stalls (a
//! paused `less`, a slow script) the queue fills and the command waits for room, while the
//! session's own task goes on answering keepalives; QoS 1/2 messages are acknowledged only once
//! queued, so the broker holds the rest (its in-flight window, Receive Maximum).
//!
//! Formats: the raw payload (default), `topic payload` (`-v`), one JSON object per line
//! (`--json`), or a template (`-F`) with the codes listed in [`TEMPLATE_HELP`].

use std::io::{self, IsTerminal, Write};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

mod arrival;
pub mod live;
mod mosquitto_json;
pub mod screen;
mod template;

pub use arrival::Arrival;

pub use template::{NotJson, TEMPLATE_HELP, Template};

use crate::payload::{Decoded, Value};
pub use crate::types::PayloadEncoding;
use crate::types::{Properties, Received};

/// `--json`'s help: the schema, so that it is at hand without the README.
pub const JSON_HELP: &str = "Print each message as one compact JSON object per line, keys in \
alphabetical order: \"timestamp\" (when it arrived, RFC 3339 UTC with milliseconds), \"topic\", \
\"qos\" (0-2), \"retain\" (true/false), exactly one of \"payload\" (text: valid UTF-8, or \
--payload-encoding utf8), \"payload_base64\" (not UTF-8, or --payload-encoding base64) and \
\"payload_hex\" (--payload-encoding hex), and \"properties\" when an MQTT 5 message has some: \
\"content_type\", \"correlation_data\" (or \"correlation_data_base64\"), \
\"message_expiry_interval\", \"payload_format_indicator\", \"response_topic\", \
\"subscription_identifiers\" (array), \"topic_alias\", \"user_properties\" (array of \
{\"key\", \"value\"}). With --decode, a decoded payload is its JSON value under \"payload\", \
with \"codec\" (and \"sparkplug\": what Sparkplug B observed). Never truncated at a NUL byte; \
always valid JSON. pub --replay reads it back.";

/// How `sub` prints each message.
#[derive(Debug, Clone)]
pub enum Format {
    /// The payload alone.
    Raw,
    /// `topic payload`; the topic in colour (bold magenta, as ripgrep shows paths) when `color`.
    Verbose { color: bool },
    /// One JSON object per message.
    Json {
        pretty: bool,
        encoding: PayloadEncoding,
    },
    /// A `-F` template.
    Template(Template),
}

/// Output blocks that may wait for the writer thread.
pub const OUTPUT_QUEUE: usize = 16;
/// A block is handed over once it holds this much (or at a flush).
pub const BLOCK: usize = 64 * 1024;

pub struct Printer {
    /// What was rendered and not yet handed to the writer.
    pending: Vec<u8>,
    /// `None` once the writer has stopped (its error is in `writer`).
    blocks: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<io::Result<()>>>,
    /// Turns true when the writer fails (a closed pipe: `sub | head -1`).
    failed: tokio::sync::watch::Receiver<bool>,
    flush_each: bool,
    format: Format,
    newline: bool,
}

impl Printer {
    /// `newline`: end every message with `\n` (off with `-N`).
    pub fn stdout(format: Format, newline: bool) -> Printer {
        let (blocks, mut queue) = tokio::sync::mpsc::channel::<Vec<u8>>(OUTPUT_QUEUE);
        let (failure, failed) = tokio::sync::watch::channel(false);
        let writer = std::thread::spawn(move || {
            let mut out = io::stdout().lock();
            while let Some(block) = queue.blocking_recv() {
                if let Err(err) = out.write_all(&block).and_then(|()| out.flush()) {
                    failure.send_replace(true);
                    return Err(err);
                }
            }
            Ok(())
        });
        Printer {
            pending: Vec::with_capacity(BLOCK),
            blocks: Some(blocks),
            writer: Some(writer),
            failed,
            flush_each: io::stdout().is_terminal(),
            format,
            newline,
        }
    }

    /// A printer that never writes and leaves standard output alone (`sub --watch` draws on
    /// the terminal itself, or prints its table at the end).
    pub fn none(format: Format) -> Printer {
        let (_, failed) = tokio::sync::watch::channel(false);
        Printer {
            pending: Vec::new(),
            blocks: None,
            writer: None,
            failed,
            flush_each: false,
            format,
            newline: true,
        }
    }

    /// Renders a message; waits (without blocking the thread) while the output queue is full.
    /// Prints nothing for an empty payload in the raw format (as mosquitto_sub), and skips, with
    /// a warning, a message whose payload `-F %J` cannot read as JSON.
    pub async fn print(&mut self, received: &Received, decoded: &Decoded) -> io::Result<()> {
        if matches!(self.format, Format::Raw)
            && received.message.payload.is_empty()
            && matches!(decoded, Decoded::Raw)
        {
            return Ok(());
        }
        let now = SystemTime::now();
        let arrival = Arrival {
            received,
            decoded,
            now,
        };
        match render(&mut self.pending, &self.format, &arrival) {
            Ok(()) => {}
            Err(Rendered::NotJson) => {
                tracing::warn!(
                    "the payload on {} is not JSON (-F %J): message not printed",
                    received.message.topic
                );
                return Ok(());
            }
            Err(Rendered::Io(err)) => return Err(err),
        }
        if self.newline {
            self.pending.push(b'\n');
        }
        if self.flush_each || self.pending.len() >= BLOCK {
            self.flush().await?;
        }
        Ok(())
    }

    /// Hands what is rendered to the writer thread.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.pending, Vec::with_capacity(BLOCK));
        let sent = match &self.blocks {
            Some(blocks) => blocks.send(block).await.is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.stop()) }
    }

    /// Flushes, and waits until everything is written.
    pub async fn finish(mut self) -> io::Result<()> {
        self.flush().await?;
        self.blocks = None;
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(io::Error::other)?
            .unwrap_or_else(|_| Err(io::Error::other("the output thread failed")))
    }

    /// Resolves when writing has failed; then [`Printer::error`] says why.
    pub fn failure(&self) -> impl std::future::Future<Output = ()> + use<> {
        let mut failed = self.failed.clone();
        async move {
            if failed.wait_for(|failed| *failed).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Why writing failed (after [`Printer::failure`]).
    pub fn error(&mut self) -> io::Error {
        self.stop()
    }

    /// The writer stopped (it only does on an error): why.
    fn stop(&mut self) -> io::Error {
        self.blocks = None;
        match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Err(err))) => err,
            _ => io::Error::other("the output thread stopped"),
        }
    }
}

/// Leaving early (an error): what was printed is still written, as a `BufWriter` would on drop.
impl Drop for Printer {
    fn drop(&mut self) {
        self.blocks = None;
        if let Some(writer) = self.writer.take()
            && matches!(writer.join(), Ok(Ok(())))
        {
            let mut out = io::stdout().lock();
            let _ = out.write_all(&self.pending).and_then(|()| out.flush());
        }
    }
}

/// Bold magenta, and back to normal.
const TOPIC_COLOR: &[u8] = b"\x1b[1;35m";
const COLOR_RESET: &[u8] = b"\x1b[0m";

/// Why [`render`] wrote nothing.
#[derive(Debug)]
pub enum Rendered {
    /// `-F %J` and a payload that is not JSON.
    NotJson,
    Io(io::Error),
}

impl From<io::Error> for Rendered {
    fn from(err: io::Error) -> Self {
        Rendered::Io(err)
    }
}

/// Writes one message in `format`, without the trailing newline.
pub fn render(out: &mut Vec<u8>, format: &Format, arrival: &Arrival) -> Result<(), Rendered> {
    let (received, decoded, now) = (arrival.received, arrival.decoded, arrival.now);
    let message = &received.message;
    let payload = |out: &mut Vec<u8>| match decoded {
        Decoded::Raw => out.extend_from_slice(&message.payload),
        // Written once by the codec: copied as it is.
        Decoded::Value {
            value: Value::Json(raw),
            ..
        } => out.extend_from_slice(raw.as_str().as_bytes()),
        Decoded::Value { value, .. } => {
            serde_json::to_writer(out, value).expect("writing to memory")
        }
    };
    match format {
        Format::Raw => payload(out),
        Format::Verbose { color } => {
            if *color {
                out.extend_from_slice(TOPIC_COLOR);
                out.extend_from_slice(message.topic.as_bytes());
                out.extend_from_slice(COLOR_RESET);
            } else {
                out.extend_from_slice(message.topic.as_bytes());
            }
            out.push(b' ');
            payload(out);
        }
        Format::Json { pretty, encoding } => {
            let envelope = json(received, *encoding, now);
            // Only a decoded payload needs the line rebuilt around it.
            match decoded {
                Decoded::Raw => write_json(out, &envelope, *pretty)?,
                Decoded::Value { .. } => write_json(out, &json_line(envelope, decoded), *pretty)?,
            }
        }
        Format::Template(template) => template
            .render(out, arrival)
            .map_err(|NotJson| Rendered::NotJson)?,
    }
    Ok(())
}

/// Bytes as JSON: `key` with the text when it is UTF-8 (and `encoding` allows), else
/// `key_base64` / `key_hex`.
fn bytes_entry(key: &str, bytes: &[u8], encoding: PayloadEncoding) -> (String, serde_json::Value) {
    let text = std::str::from_utf8(bytes);
    match (encoding, text) {
        (PayloadEncoding::Auto, Ok(text)) => (key.to_string(), text.into()),
        (PayloadEncoding::Auto | PayloadEncoding::Base64, _) => {
            (format!("{key}_base64"), BASE64.encode(bytes).into())
        }
        (PayloadEncoding::Utf8, _) => (key.to_string(), String::from_utf8_lossy(bytes).into()),
        (PayloadEncoding::Hex, _) => (
            format!("{key}_hex"),
            crate::hex::encode(bytes, false).into(),
        ),
    }
}

/// The MQTT 5 properties as a JSON object (keys in alphabetical order), `None` when there are
/// none.
fn properties_json(properties: &Properties) -> Option<serde_json::Value> {
    if properties.is_empty() {
        return None;
    }
    let mut object = serde_json::Map::new();
    if let Some(value) = &properties.content_type {
        object.insert("content_type".into(), value.clone().into());
    }
    if let Some(data) = &properties.correlation_data {
        let (key, value) = bytes_entry("correlation_data", data, PayloadEncoding::Auto);
        object.insert(key, value);
    }
    if let Some(value) = properties.message_expiry_interval {
        object.insert("message_expiry_interval".into(), value.into());
    }
    if let Some(value) = properties.payload_format_indicator {
        object.insert("payload_format_indicator".into(), value.into());
    }
    if let Some(value) = &properties.response_topic {
        object.insert("response_topic".into(), value.clone().into());
    }
    if !properties.subscription_identifiers.is_empty() {
        object.insert(
            "subscription_identifiers".into(),
            properties.subscription_identifiers.clone().into(),
        );
    }
    if let Some(value) = properties.topic_alias {
        object.insert("topic_alias".into(), value.into());
    }
    if !properties.user_properties.is_empty() {
        let pairs = properties
            .user_properties
            .iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect();
        object.insert("user_properties".into(), serde_json::Value::Array(pairs));
    }
    Some(serde_json::Value::Object(object))
}

/// The `--json` object (schema in the README): keys in alphabetical order.
fn json(received: &Received, encoding: PayloadEncoding, now: SystemTime) -> serde_json::Value {
    let message = &received.message;
    let mut object = serde_json::Map::new();
    object.insert(
        "timestamp".into(),
        humantime::format_rfc3339_millis(now).to_string().into(),
    );
    object.insert("topic".into(), message.topic.clone().into());
    object.insert("qos".into(), (message.qos as u8).into());
    object.insert("retain".into(), message.retain.into());
    let (key, value) = bytes_entry("payload", &message.payload, encoding);
    object.insert(key, value);
    if let Some(properties) = properties_json(&message.properties) {
        object.insert("properties".into(), properties);
    }
    serde_json::Value::Object(object)
}

fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize, pretty: bool) -> io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(out, value).map_err(io::Error::from)
    } else {
        serde_json::to_writer(out, value).map_err(io::Error::from)
    }
}

/// The `--json` line: with a decoded payload, its value under `"payload"`, the codec under
/// `"codec"` and Sparkplug's observations under `"sparkplug"`, keys still in alphabetical order.
fn json_line(envelope: serde_json::Value, decoded: &Decoded) -> Value {
    use serde::Deserialize;
    let line = Value::deserialize(envelope).expect("an object");
    let Decoded::Value {
        codec,
        value,
        sparkplug,
    } = decoded
    else {
        return line;
    };
    let Value::Map(entries) = line else {
        return line;
    };
    let mut entries: Vec<(crate::payload::value::Text, Value)> = entries
        .into_iter()
        .filter(|(key, _)| !key.starts_with("payload"))
        .collect();
    entries.push(("codec".into(), Value::text(codec.to_string())));
    entries.push(("payload".into(), value.clone()));
    if let Some(notes) = sparkplug {
        entries.push(("sparkplug".into(), notes.clone()));
    }
    entries.sort_by(|(a, _), (b, _)| a.cmp(b));
    Value::Map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, Qos};
    use bytes::Bytes;
    use std::time::UNIX_EPOCH;

    fn received(payload: &'static [u8]) -> Received {
        Received {
            message: Message::new("a/b", Bytes::from_static(payload), Qos::AtLeastOnce, true),
            packet_id: 7,
            connection: 0,
            property_order: Vec::new(),
        }
    }

    fn show(format: &Format, payload: &'static [u8]) -> String {
        let mut out = Vec::new();
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_795_334_400_123);
        let received = received(payload);
        let arrival = Arrival {
            received: &received,
            decoded: &Decoded::Raw,
            now: at,
        };
        render(&mut out, format, &arrival).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn template_codes_and_escapes() {
        let template =
            Template::parse(r"%t|%p|%x|%X|%b|%l|%q|%r|%m|%%|\t|\\|\0\a\e\r\v|%U|@s|@N|@@")
                .expect("valid");
        assert_eq!(
            show(&Format::Template(template), b"hi?"),
            "a/b|hi?|68693f|68693F|aGk/|3|1|1|7|%|\t|\\|\0\u{7}\u{1b}\r\u{b}|1795334400.123000000|1795334400|123000000|@"
        );
        // %I and @Y...: local time (the machine's zone), mosquitto_sub's form.
        let local = Template::parse("%I @Y-@m-@dT@H:@M:@S@z").expect("valid");
        let shown = show(&Format::Template(local), b"");
        let (iso, strftime) = shown.split_once(' ').expect("two");
        assert_eq!(iso, strftime, "%I is @Y-@m-@dT@H:@M:@S@z");
        assert_eq!(iso.len(), "2026-11-22T08:00:00+0000".len(), "{iso}");
    }

    #[test]
    fn template_property_codes_and_widths() {
        let mut received = received(b"hello");
        received.message.properties = Properties {
            content_type: Some("text/plain".into()),
            correlation_data: Some(Bytes::from_static(b"c1")),
            message_expiry_interval: Some(60),
            payload_format_indicator: Some(1),
            response_topic: Some("re/ply".into()),
            topic_alias: Some(3),
            subscription_identifiers: vec![4, 5],
            user_properties: vec![("k".into(), "v".into()), ("a".into(), "b".into())],
        };
        let shown = |text: &str| {
            let mut out = Vec::new();
            Template::parse(text)
                .expect(text)
                .render(
                    &mut out,
                    &Arrival {
                        received: &received,
                        decoded: &Decoded::Raw,
                        now: UNIX_EPOCH,
                    },
                )
                .expect("render");
            String::from_utf8(out).expect("utf-8")
        };
        assert_eq!(
            shown("%C|%D|%E|%F|%R|%A|%S|%P"),
            "text/plain|c1|60|1|re/ply|3|4,5|k:v a:b"
        );
        // A width cuts the payload to that many bytes (hex digits: two a byte, so 8 digits of
        // a 5-byte payload are its first 4 bytes); at the width, whole.
        assert_eq!(
            shown("%3p|%5p|%4x|%8x|%10x"),
            "hel|hello|6865|68656c6c|68656c6c6f"
        );
        assert!(Template::parse("%j").expect("valid").has_json());
        assert!(Template::parse("%J").expect("valid").has_json());
        assert!(!Template::parse("%p %t").expect("valid").has_json());
        let lone = Template::parse("50%").expect_err("lone %");
        assert!(lone.contains("lone %"), "{lone}");
        let unfinished = Template::parse("%5").expect_err("no letter");
        assert!(unfinished.contains("%5 and no code letter"), "{unfinished}");
    }

    #[test]
    fn template_errors() {
        assert!(Template::parse("%z").is_err());
        assert!(Template::parse("50%").is_err());
        assert!(Template::parse("\\").is_err());
        assert!(Template::parse("\\q").is_err());
        assert!(Template::parse("@").is_err());
        assert!(Template::parse("@!").is_err());
        assert!(
            Template::parse("%5q").is_err(),
            "mosquitto ignores a width on %q"
        );
        assert!(Template::parse("%.3l").is_err(), "a precision is for text");
        assert!(Template::parse("%-5").is_err());
        assert!(Template::parse("%99999999999t").is_err());
    }

    fn template(text: &str, payload: &'static [u8]) -> String {
        show(
            &Format::Template(Template::parse(text).expect("valid")),
            payload,
        )
    }

    #[test]
    fn template_widths_as_mosquitto_sub() {
        assert_eq!(
            template("[%10t|%-10t|%.1t|%6.2t|%05l|%-5l|%5m]", b"hello world"),
            "[       a/b|a/b       |a|    a/|00011|11   |    7]"
        );
        // A width on the payload is exact: cut or padded.
        assert_eq!(
            template("[%5p|%-5p|%05p|%3p]", b"hello world"),
            "[hello|hello|hello|hel]"
        );
        assert_eq!(template("[%5p|%-5p|%05p]", b"a"), "[    a|a    |0000a]");
        // Hex: digits, whole bytes.
        assert_eq!(
            template("[%4x|%08X|%-6x]", b"hi?"),
            "[6869|0068693F|68693f]"
        );
        // Widths count characters in text, bytes in payloads.
        assert_eq!(template("[%5t]", b""), "[  a/b]");
        // Absent properties: the width in fill.
        assert_eq!(template("[%5C|%05E|%3A|%2R]", b""), "[     |00000|   |  ]");
    }

    #[test]
    fn template_json_is_mosquitto_subs_layout() {
        let mut message = received(br#"{"b":[1,2.5],"a":"x"}"#);
        message.message.properties.user_properties =
            vec![("k".into(), "v".into()), ("k".into(), "w".into())];
        message.message.properties.content_type = Some("application/json".into());
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_795_334_400_123_456);
        let shown = |message: &Received, text: &str, pretty: bool| {
            let format = Format::Template(Template::parse(text).expect("valid").pretty(pretty));
            let mut out = Vec::new();
            let arrival = Arrival {
                received: message,
                decoded: &Decoded::Raw,
                now: at,
            };
            render(&mut out, &format, &arrival).map(|()| String::from_utf8(out).expect("utf-8"))
        };
        let compact = shown(&message, "%j", false).expect("rendered");
        let (tst, rest) = compact.split_once(r#"","topic""#).expect("tst first");
        assert!(
            tst.starts_with(r#"{"tst":""#) && tst.contains(".123456Z"),
            "{tst}"
        );
        assert_eq!(
            rest,
            r#":"a/b","qos":1,"retain":1,"payloadlen":21,"mid":7,"properties":{"user-properties":{"k":"v","k":"w"},"content-type":"application/json"},"payload":"{\"b\":[1,2.5],\"a\":\"x\"}"}"#
        );
        let parsed = shown(&message, "%J", true).expect("rendered");
        assert!(
            parsed.ends_with("\t\"payload\":\t{\n\t\t\"b\":\t[1, 2.5],\n\t\t\"a\":\t\"x\"\n\t}\n}"),
            "{parsed}"
        );
        message.message.payload = Bytes::from_static(b"not json");
        assert!(matches!(
            shown(&message, "%J", false),
            Err(Rendered::NotJson)
        ));
        message.message.payload = Bytes::from_static(b"a\0\xff");
        assert!(
            shown(&message, "%j", false)
                .expect("rendered")
                .ends_with(r#""payload_base64":"YQD/"}"#)
        );
    }

    #[test]
    fn json_payload_encodings() {
        let auto = Format::Json {
            pretty: false,
            encoding: PayloadEncoding::Auto,
        };
        assert_eq!(
            show(&auto, b"21.5"),
            r#"{"payload":"21.5","qos":1,"retain":true,"timestamp":"2026-11-22T08:00:00.123Z","topic":"a/b"}"#
        );
        assert!(show(&auto, b"a\0\xff").contains(r#""payload_base64":"YQD/""#));
        let hex = Format::Json {
            pretty: false,
            encoding: PayloadEncoding::Hex,
        };
        assert!(show(&hex, b"a\0").contains(r#""payload_hex":"6100""#));
    }
}
