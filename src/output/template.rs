//! `-F` templates, as mosquitto_sub reads them: `%` codes with mosquitto's field widths and flags
//! (`%-10t`, `%05l`, `%.3t`), `@` time codes (strftime), `\` escapes.

use std::io::{self, Write};
use std::time::UNIX_EPOCH;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::arrival::Arrival;
use super::mosquitto_json;
use crate::payload::Decoded;
use crate::types::Properties;

/// `-F`'s help: the template codes.
pub const TEMPLATE_HELP: &str = "Print each message through a template instead of the raw \
payload (wins over -v, as in mosquitto_sub). Codes: %t topic, %p payload, %x payload as hex, \
%X as upper-case hex, %b as base64, %l payload length, %q QoS, %r retain flag (0/1), %m message \
id, %I ISO-8601 time (local, as mosquitto_sub: 2026-11-29T11:31:06+0000), %U Unix time with \
nanoseconds, %j the message as mosquitto_sub's JSON object (tst, topic, qos, retain, payloadlen, \
mid, properties, payload), %J the same with the payload as JSON (a payload that is not JSON is \
skipped with a warning), %% a percent sign; MQTT 5 properties (empty when absent): %C content \
type, %D correlation data, %E message expiry interval, %F payload format indicator, %R \
response topic, %A topic alias, %S subscription identifier(s), %P user properties as \
key:value separated by spaces. Widths and flags as mosquitto_sub: %10t (at least 10 \
characters, right-aligned), %-10t (left-aligned), %.3t (at most 3 characters: %t %I %C %R), \
%05l (zeros: numbers %l %m %A %E %F %S), %5p (exactly 5 bytes of payload, cut or padded; %x %X \
count hex digits). Time of arrival, local, as strftime and mosquitto_sub: @Y year, @m month, @d \
day, @H hour, @M minute, @S second, @z offset, @s Unix seconds, @N nanoseconds, @@ an at sign \
(any strftime letter works). Escapes \\n \\t \\r \\0 \\a \\e \\v \\\\. --pretty indents %j and \
%J as mosquitto_sub does. A newline follows each message unless -N.";

/// A parsed `-F` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
    /// `--pretty`: `%j` and `%J` indented as cJSON prints them.
    pretty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Code(Code, Spec),
    /// `@c`: strftime's `%c` on the local time of arrival (a checked specifier).
    Time(String),
    /// `@N`: the nanoseconds of the time of arrival, nine digits.
    Nanoseconds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
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
    JsonPayload,
    ContentType,
    CorrelationData,
    MessageExpiry,
    PayloadFormat,
    ResponseTopic,
    TopicAlias,
    SubscriptionIds,
    UserProperties,
}

/// How a code's width and flags apply to it, as in mosquitto_sub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Width pads, precision cuts; `0` is ignored.
    Text,
    /// Width pads with spaces, or zeros with `0`.
    Number,
    /// Width is exact: the payload is cut to it, or padded (spaces, or zeros with `0`).
    Payload,
    /// mosquitto_sub ignores widths here: refused.
    Plain,
}

impl Code {
    fn from_letter(letter: char) -> Option<Code> {
        Some(match letter {
            't' => Code::Topic,
            'p' => Code::Payload,
            'x' => Code::Hex,
            'X' => Code::HexUpper,
            'b' => Code::Base64,
            'l' => Code::Length,
            'q' => Code::Qos,
            'r' => Code::Retain,
            'm' => Code::MessageId,
            'I' => Code::IsoTime,
            'U' => Code::UnixTime,
            'j' => Code::Json,
            'J' => Code::JsonPayload,
            'C' => Code::ContentType,
            'D' => Code::CorrelationData,
            'E' => Code::MessageExpiry,
            'F' => Code::PayloadFormat,
            'R' => Code::ResponseTopic,
            'A' => Code::TopicAlias,
            'S' => Code::SubscriptionIds,
            'P' => Code::UserProperties,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Code::Topic | Code::IsoTime | Code::ContentType | Code::ResponseTopic => Kind::Text,
            Code::Length
            | Code::MessageId
            | Code::TopicAlias
            | Code::MessageExpiry
            | Code::PayloadFormat
            | Code::SubscriptionIds => Kind::Number,
            Code::Payload | Code::Hex | Code::HexUpper => Kind::Payload,
            _ => Kind::Plain,
        }
    }
}

/// A code's width and flags: `%-08.3t`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Spec {
    left: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

impl Spec {
    fn is_plain(&self) -> bool {
        *self == Spec::default()
    }

    /// `value` padded to the width: on the left unless `-`, with zeros when `0` and `zeros`.
    fn pad(
        &self,
        out: &mut impl Write,
        value: &[u8],
        shown_width: usize,
        zeros: bool,
    ) -> io::Result<()> {
        let padding = self.width.saturating_sub(shown_width);
        let fill = if zeros && self.zero && !self.left {
            b'0'
        } else {
            b' '
        };
        if !self.left {
            out.write_all(&vec![fill; padding])?;
        }
        out.write_all(value)?;
        if self.left {
            out.write_all(&vec![b' '; padding])?;
        }
        Ok(())
    }

    /// Text: at most `precision` characters, padded to `width` characters.
    fn text(&self, out: &mut impl Write, text: &str) -> io::Result<()> {
        let cut = match self.precision {
            Some(precision) => text
                .char_indices()
                .nth(precision)
                .map_or(text, |(at, _)| &text[..at]),
            None => text,
        };
        self.pad(out, cut.as_bytes(), cut.chars().count(), false)
    }

    fn number(&self, out: &mut impl Write, digits: &str) -> io::Result<()> {
        self.pad(out, digits.as_bytes(), digits.len(), true)
    }

    /// A property the message lacks: the width in fill characters, as mosquitto_sub prints it.
    fn absent(&self, out: &mut impl Write, kind: Kind) -> io::Result<()> {
        let fill = if kind == Kind::Number && self.zero {
            b'0'
        } else {
            b' '
        };
        out.write_all(&vec![fill; self.width])
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// What follows a `%`: a code with its flags, width and precision; `None` for `%%`.
fn percent_code(chars: &mut Chars) -> Result<Option<Piece>, String> {
    let mut spec = Spec::default();
    let mut written = String::from("%");
    if chars.peek() == Some(&'-') {
        spec.left = true;
        written.push(chars.next().expect("peeked"));
    }
    if chars.peek() == Some(&'0') {
        spec.zero = true;
        written.push(chars.next().expect("peeked"));
    }
    spec.width = digits(chars, &mut written)?.unwrap_or(0);
    if chars.peek() == Some(&'.') {
        written.push(chars.next().expect("peeked"));
        spec.precision = Some(digits(chars, &mut written)?.unwrap_or(0));
    }
    let letter = match chars.next() {
        Some(letter) => letter,
        None if written == "%" => {
            return Err("-F ends with a lone %: write %% for a percent sign".into());
        }
        None => return Err(format!("-F ends with {written} and no code letter")),
    };
    written.push(letter);
    if letter == '%' && spec.is_plain() {
        return Ok(None);
    }
    let Some(code) = Code::from_letter(letter) else {
        return Err(format!(
            "unknown format code {written} in -F (see mqtt-cli sub --help)"
        ));
    };
    check_spec(code, &spec, &written)?;
    Ok(Some(Piece::Code(code, spec)))
}

/// What follows an `@`: a strftime code, or `@N` (nanoseconds); `None` for `@@`.
fn time_code(chars: &mut Chars) -> Result<Option<Piece>, String> {
    match chars.next() {
        Some('@') => Ok(None),
        Some('N') => Ok(Some(Piece::Nanoseconds)),
        Some(code) => {
            let specifier = format!("%{code}");
            let valid = chrono::format::StrftimeItems::new(&specifier)
                .all(|item| !matches!(item, chrono::format::Item::Error));
            if !valid {
                return Err(format!(
                    "unknown time code @{code} in -F (strftime's, as mosquitto_sub: @Y @m @d @H @M @S @z @s @N @@ ...)"
                ));
            }
            Ok(Some(Piece::Time(specifier)))
        }
        None => Err("-F ends with a lone @: write @@ for an at sign".into()),
    }
}

/// What follows a `\`: the character it stands for.
fn escape(chars: &mut Chars) -> Result<char, String> {
    match chars.next() {
        Some('n') => Ok('\n'),
        Some('t') => Ok('\t'),
        Some('\\') => Ok('\\'),
        Some('0') => Ok('\0'),
        Some('a') => Ok('\u{7}'),
        Some('e') => Ok('\u{1b}'),
        Some('r') => Ok('\r'),
        Some('v') => Ok('\u{b}'),
        Some(other) => Err(format!(
            "unknown escape \\{other} in -F (escapes: \\n \\t \\r \\0 \\a \\e \\v \\\\)"
        )),
        None => Err("-F ends with a lone \\: write \\\\".into()),
    }
}

impl Template {
    /// Parses a template; unknown codes, widths where they mean nothing, and dangling `%`, `@`
    /// or `\` are errors.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let piece = match c {
                '%' => match percent_code(&mut chars)? {
                    Some(piece) => piece,
                    None => {
                        literal.push(b'%');
                        continue;
                    }
                },
                '@' => match time_code(&mut chars)? {
                    Some(piece) => piece,
                    None => {
                        literal.push(b'@');
                        continue;
                    }
                },
                other => {
                    let c = if other == '\\' {
                        escape(&mut chars)?
                    } else {
                        other
                    };
                    let mut buffer = [0u8; 4];
                    literal.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
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
        Ok(Template {
            pieces,
            pretty: false,
        })
    }

    /// `--pretty`: `%j` and `%J` indented as mosquitto_sub's `--pretty` prints them.
    pub fn pretty(mut self, pretty: bool) -> Template {
        self.pretty = pretty;
        self
    }

    /// Whether the template prints a JSON object (`%j`, `%J`): what `--pretty` applies to.
    pub fn has_json(&self) -> bool {
        self.pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Code(Code::Json | Code::JsonPayload, _)))
    }

    /// Writes one message; [`NotJson`] (nothing written) when `%J` meets a payload that is not
    /// JSON.
    pub fn render(&self, out: &mut Vec<u8>, arrival: &Arrival) -> Result<(), NotJson> {
        let now = arrival.now;
        let start = out.len();
        for piece in &self.pieces {
            let written = match piece {
                Piece::Literal(bytes) => {
                    out.extend_from_slice(bytes);
                    Ok(())
                }
                Piece::Code(code, spec) => self.code(out, *code, spec, arrival),
                Piece::Time(specifier) => {
                    let local = chrono::DateTime::<chrono::Local>::from(now);
                    write!(out, "{}", local.format(specifier)).expect("writing to memory");
                    Ok(())
                }
                Piece::Nanoseconds => {
                    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
                    write!(out, "{:09}", since.subsec_nanos()).expect("writing to memory");
                    Ok(())
                }
            };
            if let Err(err) = written {
                out.truncate(start);
                return Err(err);
            }
        }
        Ok(())
    }

    fn code(
        &self,
        out: &mut Vec<u8>,
        code: Code,
        spec: &Spec,
        arrival: &Arrival,
    ) -> Result<(), NotJson> {
        let (received, decoded, now) = (arrival.received, arrival.decoded, arrival.now);
        let message = &received.message;
        let payload = &message.payload;
        // Writing to memory does not fail.
        let io = |result: io::Result<()>| -> Result<(), NotJson> {
            result.expect("writing to memory");
            Ok(())
        };
        match code {
            Code::Topic => io(spec.text(out, &message.topic)),
            Code::Payload => match decoded {
                Decoded::Raw => io(payload_field(out, spec, payload, None)),
                Decoded::Value { value, .. } => {
                    io(payload_field(out, spec, value.to_json().as_bytes(), None))
                }
            },
            Code::Hex => io(payload_field(out, spec, payload, Some(false))),
            Code::HexUpper => io(payload_field(out, spec, payload, Some(true))),
            Code::Base64 => io(out.write_all(BASE64.encode(payload).as_bytes())),
            Code::Length => io(spec.number(out, &payload.len().to_string())),
            Code::Qos => io(write!(out, "{}", message.qos as u8)),
            Code::Retain => io(write!(out, "{}", u8::from(message.retain))),
            Code::MessageId => io(spec.number(out, &received.packet_id.to_string())),
            // mosquitto_sub's form: local time, seconds, numeric offset.
            Code::IsoTime => io(spec.text(
                out,
                &chrono::DateTime::<chrono::Local>::from(now)
                    .format("%Y-%m-%dT%H:%M:%S%z")
                    .to_string(),
            )),
            Code::UnixTime => {
                let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
                io(write!(
                    out,
                    "{}.{:09}",
                    since.as_secs(),
                    since.subsec_nanos()
                ))
            }
            Code::Json | Code::JsonPayload => {
                let node = mosquitto_json::message(arrival, code == Code::JsonPayload)
                    .map_err(|mosquitto_json::NotJson| NotJson)?;
                mosquitto_json::write(out, &node, self.pretty, 0);
                Ok(())
            }
            property => io(render_property(out, property, spec, &message.properties)),
        }
    }
}

/// `%J` and a payload that is not JSON: the message was not rendered.
#[derive(Debug)]
pub struct NotJson;

/// Reads the digits of a width or precision.
fn digits(chars: &mut Chars, written: &mut String) -> Result<Option<usize>, String> {
    let mut value: Option<usize> = None;
    while let Some(digit) = chars.peek().and_then(|c| c.to_digit(10)) {
        written.push(chars.next().expect("peeked"));
        value = Some(
            value
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|v| v.checked_add(digit as usize))
                .filter(|v| *v <= 65_535)
                .ok_or_else(|| {
                    format!("-F: the width in {written}... is too large (at most 65535)")
                })?,
        );
    }
    Ok(value)
}

/// Refuses widths and flags on codes they mean nothing to (mosquitto_sub ignores them there).
fn check_spec(code: Code, spec: &Spec, written: &str) -> Result<(), String> {
    match code.kind() {
        Kind::Plain if !spec.is_plain() => Err(format!(
            "-F: {written}: a width applies to %t %p %x %X %l %m %I %C %R %A %E %F %S, not to %{} (mosquitto_sub ignores it): drop it",
            written.chars().last().unwrap_or('?')
        )),
        Kind::Number | Kind::Payload if spec.precision.is_some() => Err(format!(
            "-F: {written}: a precision (.N) applies to text: %t %I %C %R; a width on %p %x %X already cuts the payload"
        )),
        _ => Ok(()),
    }
}

/// `%p`, `%x`, `%X` with a width: exactly that many bytes (hex digits), cut or padded. Unlike
/// mosquitto_sub 2.0.11, a payload shorter than the width is printed whole in hex (mosquitto
/// prints half of it).
fn payload_field(
    out: &mut impl Write,
    spec: &Spec,
    payload: &[u8],
    hex: Option<bool>,
) -> io::Result<()> {
    match hex {
        None => {
            let shown = if spec.width > 0 && payload.len() > spec.width {
                &payload[..spec.width]
            } else {
                payload
            };
            spec.pad(out, shown, shown.len(), true)
        }
        Some(upper) => {
            let shown = if spec.width > 0 && payload.len() * 2 > spec.width {
                &payload[..spec.width / 2]
            } else {
                payload
            };
            let digits = crate::hex::encode(shown, upper);
            spec.pad(out, digits.as_bytes(), digits.len(), true)
        }
    }
}

/// Writes an MQTT 5 property code; a property the message lacks prints as its width of fill.
fn render_property(
    out: &mut Vec<u8>,
    code: Code,
    spec: &Spec,
    properties: &Properties,
) -> io::Result<()> {
    let number = |out: &mut Vec<u8>, value: Option<String>| match value {
        Some(digits) => spec.number(out, &digits),
        None => spec.absent(out, Kind::Number),
    };
    let text = |out: &mut Vec<u8>, value: Option<&String>| match value {
        Some(text) => spec.text(out, text),
        None => spec.absent(out, Kind::Text),
    };
    match code {
        Code::ContentType => text(out, properties.content_type.as_ref()),
        Code::ResponseTopic => text(out, properties.response_topic.as_ref()),
        Code::CorrelationData => match &properties.correlation_data {
            Some(data) => out.write_all(data),
            None => Ok(()),
        },
        Code::MessageExpiry => number(
            out,
            properties.message_expiry_interval.map(|v| v.to_string()),
        ),
        Code::PayloadFormat => number(
            out,
            properties.payload_format_indicator.map(|v| v.to_string()),
        ),
        Code::TopicAlias => number(out, properties.topic_alias.map(|v| v.to_string())),
        Code::SubscriptionIds => {
            let ids = &properties.subscription_identifiers;
            let joined = ids
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",");
            number(out, (!ids.is_empty()).then_some(joined))
        }
        Code::UserProperties => {
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
