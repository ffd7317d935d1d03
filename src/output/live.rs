//! `sub --watch`: one line per topic, updated in place (mosquitto 2.1's `--watch`), with a
//! count, a rate, the age of the last message, its retained flag and QoS, and its payload as
//! `--decode` reads it, cut to the terminal's width. This file keeps the state and lays out
//! the screen as lines of text (no terminal here: `screen.rs` draws them, tests read them).
//!
//! State is per topic, never per message: a row holds the topic, counters, an estimate of the
//! rate and a preview of the last payload of at most [`PREVIEW`] bytes.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthChar;

use crate::payload::Decoded;
use crate::types::{Qos, Received};

/// The longest payload preview kept per topic, in bytes: more never fits on a line.
pub const PREVIEW: usize = 400;

/// The rate's time constant: the estimate follows a change within a few of these.
const TAU: f64 = 2.0;

/// The order of the rows (`--sort`, and `s` cycles through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Sort {
    /// As topics were first seen (mosquitto's --watch).
    #[default]
    Arrival,
    /// By topic name.
    Topic,
    /// Busiest first.
    Rate,
    /// Most recent message first.
    Recent,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Arrival => Sort::Topic,
            Sort::Topic => Sort::Rate,
            Sort::Rate => Sort::Recent,
            Sort::Recent => Sort::Arrival,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sort::Arrival => "arrival",
            Sort::Topic => "topic",
            Sort::Rate => "rate",
            Sort::Recent => "recent",
        }
    }
}

/// What is known of one topic.
#[derive(Debug)]
struct Row {
    topic: Arc<str>,
    count: u64,
    last: Instant,
    /// Messages per second, decayed to `rate_at`.
    rate: f64,
    rate_at: Instant,
    retained: bool,
    qos: Qos,
    preview: String,
}

impl Row {
    fn rate_at(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.rate_at).as_secs_f64();
        self.rate * (-elapsed / TAU).exp()
    }
}

/// A key, as the view understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Escape,
    Backspace,
    /// Ctrl+C (raw mode delivers it as a key).
    Interrupt,
}

/// What a key asks of the run.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    Nothing,
    Redraw,
    Quit,
}

/// The topics seen, and how they are shown.
#[derive(Debug)]
pub struct Live {
    rows: Vec<Row>,
    index: HashMap<Arc<str>, usize>,
    messages: u64,
    pub sort: Sort,
    paused: bool,
    /// The topic substring shown (lowercase), and the one being typed after `/`.
    filter: String,
    typing: Option<String>,
}

impl Live {
    pub fn new(sort: Sort) -> Live {
        Live {
            rows: Vec::new(),
            index: HashMap::new(),
            messages: 0,
            sort,
            paused: false,
            filter: String::new(),
            typing: None,
        }
    }

    pub fn messages(&self) -> u64 {
        self.messages
    }

    pub fn topics(&self) -> usize {
        self.rows.len()
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// One message: its topic's row is created or updated.
    pub fn record(&mut self, received: &Received, decoded: &Decoded, now: Instant) {
        let message = &received.message;
        self.messages += 1;
        let at = match self.index.get(message.topic.as_str()) {
            Some(&at) => at,
            None => {
                let topic: Arc<str> = Arc::from(message.topic.as_str());
                self.index.insert(topic.clone(), self.rows.len());
                self.rows.push(Row {
                    topic,
                    count: 0,
                    last: now,
                    rate: 0.0,
                    rate_at: now,
                    retained: false,
                    qos: message.qos,
                    preview: String::new(),
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[at];
        row.count += 1;
        row.rate = row.rate_at(now) + 1.0 / TAU;
        row.rate_at = now;
        row.last = now;
        row.retained = message.retain;
        row.qos = message.qos;
        row.preview.clear();
        preview(&mut row.preview, &message.payload, decoded);
    }

    /// A key typed: `p` or space pauses, `/` filters by a topic substring (Enter applies, Esc
    /// clears), `s` changes the order, `q` or Ctrl+C quits.
    pub fn key(&mut self, key: Key) -> Asked {
        if let Some(typed) = &mut self.typing {
            match key {
                Key::Interrupt => return Asked::Quit,
                Key::Enter => {
                    self.filter = typed.to_lowercase();
                    self.typing = None;
                }
                Key::Escape => {
                    self.typing = None;
                    self.filter.clear();
                }
                Key::Backspace => {
                    typed.pop();
                }
                Key::Char(c) => typed.push(c),
            }
            return Asked::Redraw;
        }
        match key {
            Key::Interrupt | Key::Char('q') => Asked::Quit,
            Key::Char('p' | ' ') => {
                self.paused = !self.paused;
                Asked::Redraw
            }
            Key::Char('/') => {
                self.typing = Some(String::new());
                Asked::Redraw
            }
            Key::Escape => {
                self.filter.clear();
                Asked::Redraw
            }
            Key::Char('s') => {
                self.sort = self.sort.next();
                Asked::Redraw
            }
            _ => Asked::Nothing,
        }
    }

    /// The rows shown, in order.
    fn shown(&self, now: Instant) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|row| self.filter.is_empty() || row.topic.to_lowercase().contains(&self.filter))
            .collect();
        match self.sort {
            Sort::Arrival => {}
            Sort::Topic => rows.sort_by(|a, b| a.topic.cmp(&b.topic)),
            Sort::Rate => {
                // Each rate once (an exp() each), not twice per comparison.
                let mut rated: Vec<(f64, &Row)> =
                    rows.iter().map(|row| (row.rate_at(now), *row)).collect();
                rated.sort_by(|a, b| b.0.total_cmp(&a.0));
                rows = rated.into_iter().map(|(_, row)| row).collect();
            }
            Sort::Recent => rows.sort_by_key(|row| Reverse(row.last)),
        }
        rows
    }

    /// The screen, `height` lines of at most `width` columns: a header, the column names,
    /// a line per topic that fits, and what did not fit.
    pub fn screen(&self, width: usize, height: usize, now: Instant) -> Vec<String> {
        let shown = self.shown(now);
        let mut header = format!(
            "{} topics  {} messages  {:.0}/s  sort: {}",
            self.rows.len(),
            self.messages,
            self.rows.iter().map(|row| row.rate_at(now)).sum::<f64>(),
            self.sort.name()
        );
        if self.paused {
            header.push_str("  PAUSED");
        }
        match &self.typing {
            Some(typed) => {
                let _ = write!(header, "  filter: {typed}_");
            }
            None if !self.filter.is_empty() => {
                let _ = write!(header, "  filter: {} ({} shown)", self.filter, shown.len());
            }
            None => {}
        }
        header.push_str("   keys: p pause  / filter  s sort  q quit");
        let topic_width = shown
            .iter()
            .map(|row| text_width(&visible(&row.topic)))
            .max()
            .unwrap_or(5)
            .clamp(5, (width / 3).max(10));
        let mut lines = vec![
            fit(&header, width),
            fit(
                &format!(
                    "{}   COUNT  RATE/s      AGE R Q  PAYLOAD",
                    pad("TOPIC", topic_width)
                ),
                width,
            ),
        ];
        let room = height.saturating_sub(lines.len());
        let fits = if shown.len() > room {
            room.saturating_sub(1)
        } else {
            shown.len()
        };
        for row in &shown[..fits] {
            let age = now.saturating_duration_since(row.last);
            let line = format!(
                "{} {:>7} {:>7.1} {:>8} {} {}  {}",
                pad(&visible(&row.topic), topic_width),
                row.count,
                row.rate_at(now),
                age_text(age),
                if row.retained { 'r' } else { '-' },
                row.qos as u8,
                row.preview
            );
            lines.push(fit(&line, width));
        }
        if fits < shown.len() {
            lines.push(fit(
                &format!("... {} more topics (/ to filter)", shown.len() - fits),
                width,
            ));
        }
        lines
    }

    /// The table printed at the end when standard output is not a terminal: every topic, in
    /// the order asked, with its count, retained flag, QoS and last payload; tab-separated.
    pub fn table(&self, now: Instant) -> String {
        let mut out = String::from("topic\tcount\tretained\tqos\tlast payload\n");
        for row in self.shown(now) {
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                visible(&row.topic),
                row.count,
                u8::from(row.retained),
                row.qos as u8,
                row.preview
            );
        }
        out
    }
}

/// The payload on one line: decoded as JSON text, else its text, else `<N bytes>` and hex;
/// control characters shown as spaces; at most [`PREVIEW`] bytes.
fn preview(out: &mut String, payload: &[u8], decoded: &Decoded) {
    let push_text = |out: &mut String, text: &str| {
        for c in text.chars() {
            if out.len() + c.len_utf8() > PREVIEW {
                break;
            }
            out.push(if c.is_control() { ' ' } else { c });
        }
    };
    match decoded {
        Decoded::Value { value, .. } => push_text(out, &value.to_json()),
        Decoded::Raw => match std::str::from_utf8(&payload[..payload.len().min(PREVIEW)]) {
            Ok(text) => push_text(out, text),
            Err(err) if err.error_len().is_none() && err.valid_up_to() > 0 => {
                // Cut inside a character at PREVIEW: the text before it.
                push_text(out, &String::from_utf8_lossy(&payload[..err.valid_up_to()]));
            }
            Err(_) => {
                let _ = write!(out, "<{} bytes> ", payload.len());
                for byte in payload.iter().take(PREVIEW / 3) {
                    let _ = write!(out, "{byte:02x}");
                }
            }
        },
    }
}

/// A topic as it may be shown: MQTT allows control characters in topics, and a terminal would
/// obey an escape sequence in one (or a table its tab or newline); each is shown as `?`.
fn visible(topic: &str) -> std::borrow::Cow<'_, str> {
    if topic.chars().any(char::is_control) {
        topic
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect::<String>()
            .into()
    } else {
        topic.into()
    }
}

fn age_text(age: Duration) -> String {
    let seconds = age.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else if seconds < 3600.0 {
        format!("{}m{:02}s", age.as_secs() / 60, age.as_secs() % 60)
    } else {
        format!("{}h{:02}m", age.as_secs() / 3600, age.as_secs() % 3600 / 60)
    }
}

fn text_width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to `width` columns (a wide character that would straddle the edge is left out).
fn fit(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

/// `text` cut or padded with spaces to exactly `width` columns; a cut topic ends in `~`.
fn pad(text: &str, width: usize) -> String {
    if text_width(text) <= width {
        let mut out = text.to_string();
        out.extend(std::iter::repeat_n(' ', width - text_width(text)));
        return out;
    }
    let mut out = fit(text, width.saturating_sub(1));
    out.push('~');
    out.extend(std::iter::repeat_n(' ', width - text_width(&out)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Message;
    use bytes::Bytes;

    fn message(topic: &str, payload: &'static [u8], retain: bool) -> Received {
        Received {
            message: Message::new(topic, Bytes::from_static(payload), Qos::AtLeastOnce, retain),
            packet_id: 1,
            connection: 0,
            property_order: Vec::new(),
        }
    }

    #[test]
    fn a_line_per_topic_in_the_order_first_seen_updated_in_place() {
        let start = Instant::now();
        let mut live = Live::new(Sort::Arrival);
        live.record(&message("b/2", b"one", true), &Decoded::Raw, start);
        live.record(&message("a/1", b"x\ny", false), &Decoded::Raw, start);
        live.record(&message("b/2", b"two", false), &Decoded::Raw, start);
        let screen = live.screen(80, 10, start + Duration::from_secs(2));
        assert_eq!(screen.len(), 4, "{screen:#?}");
        assert!(screen[0].contains("2 topics  3 messages"), "{}", screen[0]);
        assert!(screen[2].starts_with("b/2   "), "{}", screen[2]);
        assert!(screen[2].contains("       2 "), "{}", screen[2]);
        assert!(screen[2].ends_with("2.0s - 1  two"), "{}", screen[2]);
        assert!(
            screen[3].ends_with("  x y"),
            "control characters as spaces: {}",
            screen[3]
        );
        live.sort = Sort::Topic;
        let screen = live.screen(80, 10, start);
        assert!(screen[2].starts_with("a/1"), "{}", screen[2]);
    }

    #[test]
    fn lines_are_cut_to_the_width_and_what_does_not_fit_is_counted() {
        let now = Instant::now();
        let mut live = Live::new(Sort::Arrival);
        for topic in ["t/1", "t/2", "t/3", "t/4"] {
            live.record(&message(topic, &[b'z'; 300], false), &Decoded::Raw, now);
        }
        let screen = live.screen(40, 5, now);
        assert_eq!(screen.len(), 5);
        assert!(
            screen.iter().all(|line| text_width(line) <= 40),
            "{screen:#?}"
        );
        assert_eq!(screen[4], "... 2 more topics (/ to filter)");
    }

    #[test]
    fn keys_pause_filter_sort_and_quit() {
        let now = Instant::now();
        let mut live = Live::new(Sort::Arrival);
        for topic in ["plant/pump", "plant/valve", "office/light"] {
            live.record(&message(topic, b"1", false), &Decoded::Raw, now);
        }
        assert_eq!(live.key(Key::Char('p')), Asked::Redraw);
        assert!(live.paused() && live.screen(80, 10, now)[0].contains("PAUSED"));
        live.key(Key::Char(' '));
        assert!(!live.paused());
        live.key(Key::Char('/'));
        for c in "PLANT".chars() {
            live.key(Key::Char(c));
        }
        assert!(live.screen(80, 10, now)[0].contains("filter: PLANT_"));
        live.key(Key::Char('q'));
        live.key(Key::Backspace);
        live.key(Key::Enter);
        let screen = live.screen(80, 10, now);
        assert_eq!(screen.len(), 4, "{screen:#?}");
        assert!(
            screen[0].contains("filter: plant (2 shown)"),
            "{}",
            screen[0]
        );
        assert_eq!(live.key(Key::Escape), Asked::Redraw);
        assert_eq!(live.screen(80, 10, now).len(), 5);
        live.key(Key::Char('s'));
        assert_eq!(live.sort, Sort::Topic);
        assert_eq!(live.key(Key::Char('x')), Asked::Nothing);
        assert_eq!(live.key(Key::Char('q')), Asked::Quit);
        assert_eq!(live.key(Key::Interrupt), Asked::Quit);
    }

    #[test]
    fn the_rate_follows_the_messages_and_decays() {
        let start = Instant::now();
        let mut live = Live::new(Sort::Rate);
        for i in 0..100 {
            let at = start + Duration::from_millis(i * 10);
            live.record(&message("busy", b"1", false), &Decoded::Raw, at);
        }
        live.record(&message("quiet", b"1", false), &Decoded::Raw, start);
        let now = start + Duration::from_secs(1);
        let busy = live.rows[0].rate_at(now);
        assert!((30.0..100.0).contains(&busy), "{busy}");
        assert!(live.rows[1].rate_at(now) < 0.5);
        assert!(live.screen(80, 10, now)[2].starts_with("busy"));
        assert!(live.rows[0].rate_at(now + Duration::from_secs(20)) < 0.01);
    }

    #[test]
    fn control_characters_in_a_topic_never_reach_the_terminal_or_the_table() {
        let now = Instant::now();
        let mut live = Live::new(Sort::Arrival);
        live.record(
            &message("evil/\x1b[2J\tx\ny", b"\x1b]0;t\x07", false),
            &Decoded::Raw,
            now,
        );
        let screen = live.screen(80, 10, now);
        assert!(screen[2].starts_with("evil/?[2J?x?y "), "{}", screen[2]);
        assert!(
            screen
                .iter()
                .all(|line| !line.chars().any(char::is_control)),
            "{screen:#?}"
        );
        let table = live.table(now);
        assert_eq!(table.lines().nth(1), Some("evil/?[2J?x?y\t1\t0\t1\t ]0;t "));
    }

    #[test]
    fn binary_payloads_show_their_size_and_hex_and_previews_stay_bounded() {
        let now = Instant::now();
        let mut live = Live::new(Sort::Arrival);
        live.record(
            &message("bin", &[0xff, 0x00, 0x10], false),
            &Decoded::Raw,
            now,
        );
        assert_eq!(live.rows[0].preview, "<3 bytes> ff0010");
        let big: &'static [u8] = Box::leak(vec![b'a'; 100_000].into_boxed_slice());
        live.record(&message("big", big, false), &Decoded::Raw, now);
        assert_eq!(live.rows[1].preview.len(), PREVIEW);
        let table = live.table(now);
        assert!(
            table.starts_with(
                "topic\tcount\tretained\tqos\tlast payload\nbin\t1\t0\t1\t<3 bytes> ff0010\n"
            ),
            "{table}"
        );
    }
}
