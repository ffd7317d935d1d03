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
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

pub use crate::vocabulary::PayloadEncoding;
use crate::vocabulary::{Properties, Received};

/// `-F`'s help: the template codes.
pub const TEMPLATE_HELP: &str = "Print each message through a template instead of the raw \
payload. Codes: %t topic, %p payload, %x payload as hex, %X as upper-case hex, %b as base64, \
%l payload length, %q QoS, %r retain flag (0/1), %m message id, %I ISO-8601 time \
(local, as mosquitto_sub: 2026-11-29T11:31:06+0000), %U Unix time with nanoseconds, %j the \
JSON object of --json, %% a percent sign; MQTT 5 properties (empty when absent): %C content \
type, %D correlation data, %E message expiry interval, %F payload format indicator, %R \
response topic, %A topic alias, %S subscription identifier(s), %P user properties as \
key:value separated by spaces. Time of arrival, local, as strftime and mosquitto_sub: @Y \
year, @m month, @d day, @H hour, @M minute, @S second, @z offset, @s Unix seconds, @N \
nanoseconds, @@ an at sign (any strftime letter works). Escapes \\n \\t \\r \\0 \\a \\e \\v \\\\. \
A newline follows each message unless -N.";

/// `--json`'s help: the schema, so that it is at hand without the README.
pub const JSON_HELP: &str = "Print each message as one compact JSON object per line, keys in \
alphabetical order: \"timestamp\" (when it arrived, RFC 3339 UTC with milliseconds), \"topic\", \
\"qos\" (0-2), \"retain\" (true/false), exactly one of \"payload\" (text: valid UTF-8, or \
--payload-encoding utf8), \"payload_base64\" (not UTF-8, or --payload-encoding base64) and \
\"payload_hex\" (--payload-encoding hex), and \"properties\" when an MQTT 5 message has some: \
\"content_type\", \"correlation_data\" (or \"correlation_data_base64\"), \
\"message_expiry_interval\", \"payload_format_indicator\", \"response_topic\", \
\"subscription_identifiers\" (array), \"topic_alias\", \"user_properties\" (array of \
{\"key\", \"value\"}). Never truncated at a NUL byte; always valid JSON. pub --replay reads it back.";

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

/// A parsed `-F` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Topic,
    Payload,
    Hex,
    HexUpper,
    Base64,
    Length,
    Qos,
    Retain,
    MessageId,
    IsoTime,
    UnixTime,
    Json,
    ContentType,
    CorrelationData,
    MessageExpiry,
    PayloadFormat,
    ResponseTopic,
    TopicAlias,
    SubscriptionIds,
    UserProperties,
    /// `@c`: strftime's `%c` on the local time of arrival (a checked specifier).
    Time(String),
    /// `@N`: the nanoseconds of the time of arrival, nine digits.
    Nanoseconds,
}

impl Template {
    /// Parses a template; unknown codes and dangling `%` or `\` are errors.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let piece = match c {
                '%' => match chars.next() {
                    Some('t') => Piece::Topic,
                    Some('p') => Piece::Payload,
                    Some('x') => Piece::Hex,
                    Some('X') => Piece::HexUpper,
                    Some('b') => Piece::Base64,
                    Some('l') => Piece::Length,
                    Some('q') => Piece::Qos,
                    Some('r') => Piece::Retain,
                    Some('m') => Piece::MessageId,
                    Some('I') => Piece::IsoTime,
                    Some('U') => Piece::UnixTime,
                    Some('j') => Piece::Json,
                    Some('C') => Piece::ContentType,
                    Some('D') => Piece::CorrelationData,
                    Some('E') => Piece::MessageExpiry,
                    Some('F') => Piece::PayloadFormat,
                    Some('R') => Piece::ResponseTopic,
                    Some('A') => Piece::TopicAlias,
                    Some('S') => Piece::SubscriptionIds,
                    Some('P') => Piece::UserProperties,
                    Some('%') => {
                        literal.push(b'%');
                        continue;
                    }
                    Some(other) => {
                        return Err(format!(
                            "unknown format code %{other} in -F (see mqtt-cli sub --help)"
                        ));
                    }
                    None => return Err("-F ends with a lone %: write %% for a percent sign".into()),
                },
                '@' => match chars.next() {
                    Some('@') => {
                        literal.push(b'@');
                        continue;
                    }
                    Some('N') => Piece::Nanoseconds,
                    Some(code) => {
                        let specifier = format!("%{code}");
                        let valid = chrono::format::StrftimeItems::new(&specifier)
                            .all(|item| !matches!(item, chrono::format::Item::Error));
                        if !valid {
                            return Err(format!(
                                "unknown time code @{code} in -F (strftime's, as mosquitto_sub: @Y @m @d @H @M @S @z @s @N @@ ...)"
                            ));
                        }
                        Piece::Time(specifier)
                    }
                    None => return Err("-F ends with a lone @: write @@ for an at sign".into()),
                },
                '\\' => {
                    let escaped = match chars.next() {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('\\') => '\\',
                        Some('0') => '\0',
                        Some('a') => '\u{7}',
                        Some('e') => '\u{1b}',
                        Some('r') => '\r',
                        Some('v') => '\u{b}',
                        Some(other) => {
                            return Err(format!(
                                "unknown escape \\{other} in -F (escapes: \\n \\t \\r \\0 \\a \\e \\v \\\\)"
                            ));
                        }
                        None => return Err("-F ends with a lone \\: write \\\\".into()),
                    };
                    let mut buffer = [0u8; 4];
                    literal.extend_from_slice(escaped.encode_utf8(&mut buffer).as_bytes());
                    continue;
                }
                other => {
                    let mut buffer = [0u8; 4];
                    literal.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                    continue;
                }
            };
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(piece);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template(pieces))
    }
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

    /// Renders a message; waits (without blocking the thread) while the output queue is full.
    pub async fn print(&mut self, received: &Received) -> io::Result<()> {
        render(&mut self.pending, &self.format, received, SystemTime::now())?;
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

/// Writes one message in `format`, without the trailing newline.
pub fn render(
    out: &mut impl Write,
    format: &Format,
    received: &Received,
    now: SystemTime,
) -> io::Result<()> {
    let message = &received.message;
    match format {
        Format::Raw => out.write_all(&message.payload),
        Format::Verbose { color } => {
            if *color {
                out.write_all(TOPIC_COLOR)?;
                out.write_all(message.topic.as_bytes())?;
                out.write_all(COLOR_RESET)?;
            } else {
                out.write_all(message.topic.as_bytes())?;
            }
            out.write_all(b" ")?;
            out.write_all(&message.payload)
        }
        Format::Json { pretty, encoding } => {
            let value = json(received, *encoding, now);
            if *pretty {
                serde_json::to_writer_pretty(out, &value)?;
            } else {
                serde_json::to_writer(out, &value)?;
            }
            Ok(())
        }
        Format::Template(Template(pieces)) => {
            for piece in pieces {
                match piece {
                    Piece::Literal(bytes) => out.write_all(bytes)?,
                    Piece::Topic => out.write_all(message.topic.as_bytes())?,
                    Piece::Payload => out.write_all(&message.payload)?,
                    Piece::Hex => write!(out, "{}", crate::hex::encode(&message.payload, false))?,
                    Piece::HexUpper => {
                        write!(out, "{}", crate::hex::encode(&message.payload, true))?
                    }
                    Piece::Base64 => out.write_all(BASE64.encode(&message.payload).as_bytes())?,
                    Piece::Length => write!(out, "{}", message.payload.len())?,
                    Piece::Qos => write!(out, "{}", message.qos as u8)?,
                    Piece::Retain => write!(out, "{}", u8::from(message.retain))?,
                    Piece::MessageId => write!(out, "{}", received.packet_id)?,
                    // mosquitto_sub's form: local time, seconds, numeric offset.
                    Piece::IsoTime => write!(
                        out,
                        "{}",
                        chrono::DateTime::<chrono::Local>::from(now).format("%Y-%m-%dT%H:%M:%S%z")
                    )?,
                    Piece::Time(specifier) => write!(
                        out,
                        "{}",
                        chrono::DateTime::<chrono::Local>::from(now).format(specifier)
                    )?,
                    Piece::Nanoseconds => {
                        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
                        write!(out, "{:09}", since.subsec_nanos())?
                    }
                    Piece::UnixTime => {
                        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
                        write!(out, "{}.{:09}", since.as_secs(), since.subsec_nanos())?
                    }
                    Piece::Json => serde_json::to_writer(
                        &mut *out,
                        &json(received, PayloadEncoding::Auto, now),
                    )?,
                    property => render_property(out, property, &message.properties)?,
                }
            }
            Ok(())
        }
    }
}

/// Writes an MQTT 5 property code of a template; nothing when the message lacks it.
fn render_property(out: &mut impl Write, piece: &Piece, properties: &Properties) -> io::Result<()> {
    fn some(out: &mut impl Write, value: Option<impl std::fmt::Display>) -> io::Result<()> {
        match value {
            Some(value) => write!(out, "{value}"),
            None => Ok(()),
        }
    }
    match piece {
        Piece::ContentType => some(out, properties.content_type.as_ref()),
        Piece::CorrelationData => match &properties.correlation_data {
            Some(data) => out.write_all(data),
            None => Ok(()),
        },
        Piece::MessageExpiry => some(out, properties.message_expiry_interval),
        Piece::PayloadFormat => some(out, properties.payload_format_indicator),
        Piece::ResponseTopic => some(out, properties.response_topic.as_ref()),
        Piece::TopicAlias => some(out, properties.topic_alias),
        Piece::SubscriptionIds => {
            let ids: Vec<String> = properties
                .subscription_identifiers
                .iter()
                .map(usize::to_string)
                .collect();
            out.write_all(ids.join(",").as_bytes())
        }
        Piece::UserProperties => {
            let pairs: Vec<String> = properties
                .user_properties
                .iter()
                .map(|(key, value)| format!("{key}:{value}"))
                .collect();
            out.write_all(pairs.join(" ").as_bytes())
        }
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{Message, Qos};
    use bytes::Bytes;

    fn received(payload: &'static [u8]) -> Received {
        Received {
            message: Message::new("a/b", Bytes::from_static(payload), Qos::AtLeastOnce, true),
            packet_id: 7,
            connection: 0,
        }
    }

    fn show(format: &Format, payload: &'static [u8]) -> String {
        let mut out = Vec::new();
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_795_334_400_123);
        render(&mut out, format, &received(payload), at).expect("render");
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
    fn template_errors() {
        assert!(Template::parse("%z").is_err());
        assert!(Template::parse("50%").is_err());
        assert!(Template::parse("\\").is_err());
        assert!(Template::parse("\\q").is_err());
        assert!(Template::parse("@").is_err());
        assert!(Template::parse("@!").is_err());
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
