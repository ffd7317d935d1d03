//! The check report: a compact table on stderr for people (colour on a terminal unless
//! `NO_COLOR`), one JSON object on stdout for pipelines (schema in the README).

use std::io::{self, Write};

use serde_json::{Map, Value, json};

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// One line: what was measured on a pass, why on a failure or skip.
    pub reason: String,
    /// Measurements and facts, by name.
    pub details: Map<String, Value>,
}

impl Outcome {
    pub fn pass(reason: impl Into<String>, details: Map<String, Value>) -> Outcome {
        Outcome {
            status: Status::Pass,
            reason: reason.into(),
            details,
        }
    }

    /// A pass whose figure is how long a message took to arrive (`delivered_ms`), with `more`.
    pub fn delivered(ms: f64, reason: String, mut more: Map<String, Value>) -> Outcome {
        more.insert("delivered_ms".into(), json!(round(ms)));
        Outcome::pass(reason, more)
    }

    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Fail,
            reason: reason.into(),
            details: Map::new(),
        }
    }

    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Skip,
            reason: reason.into(),
            details: Map::new(),
        }
    }
}

/// A finished check.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub broker: String,
    pub transport: String,
    pub protocol: String,
    pub topic_prefix: String,
    pub entries: Vec<Entry>,
}

impl Report {
    /// True when no chosen check failed.
    pub fn passed(&self) -> bool {
        self.entries
            .iter()
            .all(|entry| entry.outcome.status != Status::Fail)
    }

    fn count(&self, status: Status) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.outcome.status == status)
            .count()
    }

    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .entries
            .iter()
            .map(|entry| {
                json!({
                    "name": entry.name,
                    "status": entry.outcome.status.word(),
                    "reason": entry.outcome.reason,
                    "duration_ms": round(entry.duration_ms),
                    "details": Value::Object(entry.outcome.details.clone()),
                })
            })
            .collect();
        json!({
            "broker": self.broker,
            "transport": self.transport,
            "protocol": self.protocol,
            "topic_prefix": self.topic_prefix,
            "passed": self.passed(),
            "summary": {
                "passed": self.count(Status::Pass),
                "failed": self.count(Status::Fail),
                "skipped": self.count(Status::Skip),
            },
            "checks": checks,
        })
    }

    /// The table, e.g. `  PASS  qos1           10/10 in order and intact; ...`.
    pub fn write_table(&self, out: &mut impl Write, colour: bool) -> io::Result<()> {
        writeln!(
            out,
            "mqtt-cli check: {} (MQTT {}, {}), topics under {}",
            self.broker, self.protocol, self.transport, self.topic_prefix
        )?;
        for entry in &self.entries {
            let (word, code) = match entry.outcome.status {
                Status::Pass => ("PASS", "32"),
                Status::Fail => ("FAIL", "31"),
                Status::Skip => ("SKIP", "33"),
            };
            let word = if colour {
                format!("\x1b[1;{code}m{word}\x1b[0m")
            } else {
                word.to_string()
            };
            writeln!(out, "  {word}  {:<14} {}", entry.name, entry.outcome.reason)?;
        }
        writeln!(
            out,
            "{} passed, {} failed, {} skipped",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        )
    }
}

/// Milliseconds with two decimals, for JSON.
pub fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}
