//! `--fail-if 'p99 > 50ms'`: a condition on a report that fails the run (exit 8) when it holds.
//!
//! Metrics: latency percentiles `p50 p90 p99 p99.9 max mean` (end to end when measured, else
//! the publish acknowledgement, else the connection), or one named: `ack.p99`, `e2e.p99`,
//! `connect.p99`; counts `loss` (also as a share: `loss > 0.1%`), `duplicates`,
//! `out_of_order`, `errors`, `failed`, `reconnects`, `connected`; rates per second `rate`
//! (received, or connections for `bench conn`), `sent_rate`.

use super::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Equal,
    NotEqual,
}

impl Op {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Greater => left > right,
            Op::GreaterOrEqual => left >= right,
            Op::Less => left < right,
            Op::LessOrEqual => left <= right,
            Op::Equal => left == right,
            Op::NotEqual => left != right,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Metric {
    /// A latency percentile (0..=1; `None`: the mean), of a named series or the default one.
    Latency {
        series: Option<&'static str>,
        quantile: Option<f64>,
        name: String,
    },
    Count(&'static str),
    Rate(&'static str),
}

/// What a run can measure, for refusing a condition on anything else before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measures {
    /// Publish-to-arrival latency (there are subscribers, and payloads with the header).
    pub end_to_end: bool,
    /// Publish-to-PUBACK/PUBCOMP latency (bench pub at QoS 1 or 2).
    pub ack: bool,
    /// What arrives: loss, duplicates, order, the received rate.
    pub delivery: bool,
    /// What is sent: the sent rate.
    pub sent: bool,
}

impl Measures {
    /// Connections only (`bench conn`): no message is measured.
    pub const CONNECTIONS: Measures = Measures {
        end_to_end: false,
        ack: false,
        delivery: false,
        sent: false,
    };
}

/// A parsed `--fail-if`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    text: String,
    metric: Metric,
    op: Op,
    /// Milliseconds for a latency, a share in percent when `percent`, else a number.
    value: f64,
    percent: bool,
}

const HELP: &str = "write METRIC OP VALUE, e.g. 'p99 > 50ms', 'loss > 0', 'rate < 10000'; metrics: p50 p90 p99 p99.9 max mean (or ack.p99, e2e.p99, connect.p99), loss, duplicates, out_of_order, errors, failed, reconnects, connected, rate, sent_rate";

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let ops = [
            (">=", Op::GreaterOrEqual),
            ("<=", Op::LessOrEqual),
            ("==", Op::Equal),
            ("!=", Op::NotEqual),
            (">", Op::Greater),
            ("<", Op::Less),
            ("=", Op::Equal),
        ];
        let Some((at, token, op)) = ops
            .iter()
            .filter_map(|(token, op)| text.find(token).map(|at| (at, *token, *op)))
            .min_by_key(|(at, token, _)| (*at, std::cmp::Reverse(token.len())))
        else {
            return Err(format!("'{text}': no comparison; {HELP}"));
        };
        let name = text[..at].trim().to_lowercase();
        let value_text = text[at + token.len()..].trim().to_lowercase();
        let metric =
            metric(&name).ok_or_else(|| format!("'{text}': unknown metric '{name}'; {HELP}"))?;
        let (value, percent) = value(&metric, &value_text)
            .ok_or_else(|| format!("'{text}': '{value_text}' is not a value for {name}; {HELP}"))?;
        Ok(Condition {
            text: text.trim().to_string(),
            metric,
            op,
            value,
            percent,
        })
    }

    /// `Some(what)` when a run that measures `measures` cannot measure this condition's metric
    /// (a CI gate must not pass on a figure nobody measured): `what` it lacks, in words.
    pub fn unmeasurable(&self, measures: Measures, conn: bool) -> Option<&'static str> {
        let (measured, what) = match &self.metric {
            Metric::Latency {
                series: Some("end_to_end"),
                ..
            } => (measures.end_to_end, "no end-to-end latency"),
            Metric::Latency {
                series: Some("ack"),
                ..
            } => (measures.ack, "no acknowledgement latency"),
            Metric::Latency { .. } => (true, ""),
            Metric::Count("loss" | "duplicates" | "out_of_order") => {
                (measures.delivery, "nothing received")
            }
            Metric::Rate("rate") if !conn => (measures.delivery, "nothing received"),
            Metric::Count(_) | Metric::Rate("rate") => (true, ""),
            Metric::Rate(_) => (measures.sent, "nothing sent"),
        };
        (!measured).then_some(what)
    }

    /// The condition as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `Some(why)` when the condition holds on `report` (the run fails), or cannot be checked
    /// (nothing measured it: a CI gate must not pass by default).
    pub fn breached(&self, report: &Report) -> Option<String> {
        let (actual, shown) = match &self.metric {
            Metric::Latency {
                series,
                quantile,
                name,
            } => {
                let series = series.or_else(|| {
                    ["end_to_end", "ack", "connect"]
                        .into_iter()
                        .find(|series| report.latencies.get(*series).is_some_and(|l| !l.is_empty()))
                });
                let Some(latency) = series.and_then(|series| report.latencies.get(series)) else {
                    return Some(format!("{}: no latency was measured", self.text));
                };
                if latency.is_empty() {
                    return Some(format!("{}: no latency was measured", self.text));
                }
                let ms = match quantile {
                    Some(quantile) => latency.quantile_ms(*quantile),
                    None => report
                        .latency_ms
                        .get(series.unwrap_or_default())
                        .map_or(0.0, |s| s.mean),
                };
                (ms, format!("{name} was {ms:.3} ms"))
            }
            Metric::Count(name) => {
                let count = count(report, name);
                if matches!(*name, "loss" | "duplicates" | "out_of_order")
                    && report.messages.expected == 0
                {
                    return Some(format!(
                        "{}: no message was expected, so {name} was not measured",
                        self.text
                    ));
                }
                if self.percent {
                    let base = if *name == "loss" {
                        report.messages.expected
                    } else {
                        report.messages.received
                    };
                    let share = if base == 0 {
                        0.0
                    } else {
                        count as f64 * 100.0 / base as f64
                    };
                    (share, format!("{name} was {share:.3}% ({count} of {base})"))
                } else {
                    (count as f64, format!("{name} was {count}"))
                }
            }
            Metric::Rate(name) => {
                let rate = match *name {
                    "sent_rate" => report.rate.sent_per_s,
                    _ if report.kind == "conn" => report.rate.connections_per_s,
                    _ => report.rate.received_per_s,
                };
                (rate, format!("{name} was {rate:.1}/s"))
            }
        };
        self.op
            .holds(actual, self.value)
            .then(|| format!("{}: {shown}", self.text))
    }
}

fn metric(name: &str) -> Option<Metric> {
    let (series, stat) = match name.split_once('.') {
        Some(("ack", stat)) => (Some("ack"), stat),
        Some(("e2e" | "end_to_end", stat)) => (Some("end_to_end"), stat),
        Some(("connect", stat)) => (Some("connect"), stat),
        _ => (None, name),
    };
    let quantile = match stat {
        "p50" | "median" => Some(Some(0.5)),
        "p90" => Some(Some(0.9)),
        "p99" => Some(Some(0.99)),
        "p99.9" | "p999" => Some(Some(0.999)),
        "max" => Some(Some(1.0)),
        "mean" => Some(None),
        _ => None,
    };
    if let Some(quantile) = quantile {
        return Some(Metric::Latency {
            series,
            quantile,
            name: name.to_string(),
        });
    }
    if series.is_some() {
        return None;
    }
    let counts = [
        "loss",
        "duplicates",
        "out_of_order",
        "errors",
        "failed",
        "reconnects",
        "connected",
    ];
    if let Some(count) = counts.into_iter().find(|count| *count == name) {
        return Some(Metric::Count(count));
    }
    match name {
        "rate" => Some(Metric::Rate("rate")),
        "sent_rate" => Some(Metric::Rate("sent_rate")),
        _ => None,
    }
}

/// The value in the metric's unit: milliseconds for latencies (`50ms`, `0.5s`, `800us`, bare:
/// ms), `%` for a share of a count, `k` thousands for rates.
fn value(metric: &Metric, text: &str) -> Option<(f64, bool)> {
    let number = |text: &str| {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    match metric {
        Metric::Latency { .. } => {
            let (digits, scale) = if let Some(digits) = text.strip_suffix("ms") {
                (digits, 1.0)
            } else if let Some(digits) = text.strip_suffix("us").or(text.strip_suffix("µs")) {
                (digits, 0.001)
            } else if let Some(digits) = text.strip_suffix('s') {
                (digits, 1000.0)
            } else {
                (text, 1.0)
            };
            number(digits).map(|value| (value * scale, false))
        }
        Metric::Count(_) => match text.strip_suffix('%') {
            Some(digits) => number(digits).map(|value| (value, true)),
            None => number(text).map(|value| (value, false)),
        },
        Metric::Rate(_) => {
            let text = text.strip_suffix("/s").unwrap_or(text);
            match text.strip_suffix('k') {
                Some(digits) => number(digits).map(|value| (value * 1000.0, false)),
                None => number(text).map(|value| (value, false)),
            }
        }
    }
}

fn count(report: &Report, name: &str) -> u64 {
    match name {
        "loss" => report.messages.lost,
        "duplicates" => report.messages.duplicated,
        "out_of_order" => report.messages.out_of_order,
        "errors" => report.errors.values().sum(),
        "failed" => report.connections.failed,
        "reconnects" => report.connections.reconnects,
        "connected" => report.connections.connected,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::report::{Latency, Messages};

    fn report() -> Report {
        let messages = Messages {
            sent: 1000,
            received: 998,
            expected: 1000,
            lost: 2,
            ..Messages::default()
        };
        Report::sample(10.0, messages, 1..=100_000)
    }

    #[test]
    fn conditions_hold_or_not() {
        let report = report();
        let holds = |text: &str| Condition::parse(text).expect(text).breached(&report);
        assert_eq!(
            holds("p99 > 50ms").as_deref(),
            Some("p99 > 50ms: p99 was 99.007 ms")
        );
        assert_eq!(holds("p99 > 0.1s"), None);
        assert_eq!(holds("p50>=50"), Some("p50>=50: p50 was 50.015 ms".into()));
        assert!(holds("loss > 0").is_some());
        assert_eq!(holds("loss > 0.5%"), None);
        assert!(holds("loss > 0.1%").is_some());
        assert!(holds("rate < 99").is_none());
        assert!(holds("rate < 0.1k").is_some());
        assert!(holds("duplicates > 0").is_none());
        assert!(
            holds("ack.p99 > 1ms")
                .expect("unmeasured")
                .contains("no latency was measured")
        );
    }

    #[test]
    fn bad_conditions_say_how_to_write_them() {
        for bad in [
            "p99 50ms",
            "p98 > 1ms",
            "loss > lots",
            "rate < -1",
            "ack.loss > 0",
            "",
        ] {
            let err = Condition::parse(bad).expect_err(bad);
            assert!(err.contains("METRIC OP VALUE"), "{err}");
        }
    }

    #[test]
    fn each_comparison_at_equality() {
        // loss is 2: only the comparisons that hold at equality fail the run.
        let report = report();
        let holds = |text: &str| {
            Condition::parse(text)
                .expect(text)
                .breached(&report)
                .is_some()
        };
        assert!(holds("loss >= 2"));
        assert!(!holds("loss > 2"));
        assert!(holds("loss <= 2"));
        assert!(!holds("loss < 2"));
        assert!(holds("loss == 2"));
        assert!(holds("loss = 2"));
        assert!(!holds("loss != 2"));
        assert!(holds("loss != 3"));
        assert!(!holds("loss >= 3"));
        assert!(holds("loss > 1"));
        assert!(holds("loss < 3"));
        assert!(!holds("loss <= 1"));
    }

    #[test]
    fn what_a_run_cannot_measure_is_named() {
        let nothing = Measures {
            end_to_end: false,
            ack: false,
            delivery: false,
            sent: false,
        };
        let lacks = |text: &str, conn: bool| {
            Condition::parse(text)
                .expect(text)
                .unmeasurable(nothing, conn)
        };
        assert_eq!(lacks("loss > 0", false), Some("nothing received"));
        assert_eq!(lacks("duplicates > 0", true), Some("nothing received"));
        assert_eq!(lacks("out_of_order > 0", false), Some("nothing received"));
        assert_eq!(lacks("e2e.p99 > 1ms", false), Some("no end-to-end latency"));
        assert_eq!(
            lacks("ack.p99 > 1ms", false),
            Some("no acknowledgement latency")
        );
        assert_eq!(lacks("rate < 10", false), Some("nothing received"));
        assert_eq!(lacks("sent_rate < 10", false), Some("nothing sent"));
        // Always measured: connections, errors, the default latency (connecting at least);
        // bench conn's rate is connections per second.
        for measured in [
            "rate < 10",
            "failed > 0",
            "errors > 0",
            "connected < 5",
            "p99 > 1ms",
        ] {
            assert_eq!(lacks(measured, true), None, "{measured}");
        }
        let all = Measures {
            end_to_end: true,
            ack: true,
            delivery: true,
            sent: true,
        };
        for text in [
            "loss > 0",
            "e2e.p99 > 1ms",
            "ack.p99 > 1ms",
            "sent_rate < 1",
        ] {
            assert_eq!(
                Condition::parse(text).expect(text).unmeasurable(all, false),
                None
            );
        }
    }

    #[test]
    fn a_count_of_nothing_expected_is_not_measured() {
        let mut report = report();
        report.messages = Messages::default();
        let breached = Condition::parse("loss > 0")
            .expect("parse")
            .breached(&report)
            .expect("unmeasured fails");
        assert!(breached.contains("not measured"), "{breached}");
    }

    #[test]
    fn every_metric_reads_its_own_figure() {
        let mut report = report();
        report.messages.duplicated = 10;
        let mut connect = Latency::default();
        connect.record(5_000);
        report.latencies.insert("connect".into(), connect);
        report.finish();
        report.rate.sent_per_s = 100.0;
        report.rate.received_per_s = 99.8;
        report.rate.connections_per_s = 7.0;
        let holds = |text: &str, report: &Report| {
            Condition::parse(text)
                .expect(text)
                .breached(report)
                .is_some()
        };
        assert_eq!(
            Condition::parse("loss > 0").expect("parse").text(),
            "loss > 0"
        );
        // A share of loss is of what was expected (1000), of duplicates of what arrived (998).
        assert!(holds("loss <= 0.2%", &report));
        assert!(holds("duplicates > 1.001%", &report));
        // Each rate is its own.
        assert!(holds("sent_rate >= 100", &report));
        assert!(!holds("rate >= 100", &report));
        report.kind = "conn".into();
        assert!(holds("rate == 7", &report));
        report.kind = "pub".into();
        // Each statistic of a latency (1 to 100000 microseconds, evenly).
        for (text, low, high) in [
            ("p90", 89.0, 91.0),
            ("p99.9", 99.8, 100.0),
            ("p999", 99.8, 100.0),
            ("max", 99.9, 100.1),
            ("mean", 49.9, 50.1),
        ] {
            assert!(holds(&format!("{text} > {low}ms"), &report), "{text}");
            assert!(!holds(&format!("{text} > {high}ms"), &report), "{text}");
        }
        // A series named: the connect latency is 5 ms.
        assert!(holds("connect.p99 > 4.9ms", &report));
        assert!(!holds("connect.p99 > 5.1ms", &report));
    }

    #[test]
    fn every_count_reads_its_own_field_and_k_is_thousands() {
        let mut report = report();
        report.messages.duplicated = 3;
        report.messages.out_of_order = 4;
        report.errors.insert("timeout".into(), 2);
        report.errors.insert("refused".into(), 3);
        report.connections.failed = 6;
        report.connections.reconnects = 7;
        report.connections.connected = 8;
        for (name, value) in [
            ("loss", 2),
            ("duplicates", 3),
            ("out_of_order", 4),
            ("errors", 5),
            ("failed", 6),
            ("reconnects", 7),
            ("connected", 8),
        ] {
            let text = format!("{name} == {value}");
            assert!(
                Condition::parse(&text)
                    .expect("parse")
                    .breached(&report)
                    .is_some(),
                "{text}"
            );
        }
        report.rate.received_per_s = 99.8;
        let rate = |text: &str| Condition::parse(text).expect(text).breached(&report);
        assert!(rate("rate > 0.09k").is_some());
        assert!(rate("rate > 0.1k").is_none());
    }
}
