//! A bench report as Prometheus reads it: the OpenMetrics 1.0 text (what Prometheus asks for
//! first) or the older text format 0.0.4 (what `promtool check metrics` and the Pushgateway
//! read). Counters of messages, connections by state, errors by kind, and latency histograms
//! with fixed buckets, so that Prometheus can add the shards' buckets up and take a quantile of
//! the sum (per-process percentiles cannot be added).

use std::fmt::Write;

use super::report::{Latency, Report};

/// Which text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    /// Prometheus' text format 0.0.4.
    Text,
}

impl Format {
    /// The format an HTTP `Accept` header asks for.
    pub fn accepted(accept: &str) -> Format {
        if accept.contains("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// The buckets' upper bounds, in seconds: 100 µs to 10 s, as Prometheus' client libraries
/// space them.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The latencies a report may carry, as `kind` labels.
const LATENCIES: [(&str, &str); 3] = [
    ("end_to_end", "from publish to arrival at a subscriber"),
    ("ack", "from publish to PUBACK or PUBCOMP"),
    ("connect", "from connecting to CONNACK"),
];

/// `report` in `format`, every sample carrying `labels` (`shard`, `run`, `bench`).
pub fn render(report: &Report, labels: &[(&str, &str)], format: Format) -> String {
    let mut out = Families {
        text: String::new(),
        format,
        labels: labels
            .iter()
            .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
            .collect::<Vec<_>>()
            .join(","),
    };
    let m = &report.messages;
    for (name, help, value) in [
        ("messages_sent", "Messages published.", m.sent),
        (
            "messages_acknowledged",
            "Messages acknowledged (QoS 1 PUBACK, QoS 2 PUBCOMP; QoS 0: written).",
            m.acknowledged,
        ),
        (
            "messages_received",
            "Messages arrived at the subscribers, each copy counted.",
            m.received,
        ),
        (
            "messages_lost",
            "Messages expected and never arrived (known at the end of the run).",
            m.lost,
        ),
        (
            "messages_duplicated",
            "Messages arrived more than once at one subscriber (known at the end of the run).",
            m.duplicated,
        ),
        (
            "reconnects",
            "Connections lost and made again.",
            report.connections.reconnects,
        ),
    ] {
        out.counter(name, help, &[("", value)]);
    }
    let c = &report.connections;
    out.family("connections", "gauge", "Clients by state.");
    for (state, value) in [
        ("requested", c.requested),
        ("connected", c.connected),
        ("failed", c.failed),
        ("ended_early", c.ended_early),
    ] {
        out.sample("connections", &format!("state=\"{state}\""), value as f64);
    }
    let errors: Vec<(String, u64)> = report
        .errors
        .iter()
        .map(|(kind, count)| (format!("kind=\"{}\"", escape(kind)), *count))
        .collect();
    let errors: Vec<(&str, u64)> = errors
        .iter()
        .map(|(label, count)| (label.as_str(), *count))
        .collect();
    out.counter("errors", "Errors by kind.", &errors);
    let name = "latency_seconds";
    out.family(name, "histogram", "Latency: end_to_end, ack, connect.");
    if format == Format::OpenMetrics {
        let _ = writeln!(out.text, "# UNIT mqtt_bench_{name} seconds");
    }
    for (kind, _) in LATENCIES {
        if let Some(latency) = report.latencies.get(kind) {
            out.histogram(name, &format!("kind=\"{kind}\""), latency);
        }
    }
    if format == Format::OpenMetrics {
        out.text.push_str("# EOF\n");
    }
    out.text
}

struct Families {
    text: String,
    format: Format,
    /// The labels of every sample, written out.
    labels: String,
}

impl Families {
    /// `# TYPE` and `# HELP` of `mqtt_bench_{name}` (a counter's family is named without
    /// `_total` in OpenMetrics, with it in the text format).
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let family = match (kind, self.format) {
            ("counter", Format::Text) => format!("mqtt_bench_{name}_total"),
            _ => format!("mqtt_bench_{name}"),
        };
        let _ = writeln!(self.text, "# HELP {family} {help}");
        let _ = writeln!(self.text, "# TYPE {family} {kind}");
    }

    fn counter(&mut self, name: &str, help: &str, values: &[(&str, u64)]) {
        self.family(name, "counter", help);
        for (label, value) in values {
            self.sample(&format!("{name}_total"), label, *value as f64);
        }
    }

    fn sample(&mut self, name: &str, label: &str, value: f64) {
        let comma = if label.is_empty() { "" } else { "," };
        let _ = writeln!(
            self.text,
            "mqtt_bench_{name}{{{}{comma}{label}}} {value}",
            self.labels
        );
    }

    /// Cumulative buckets read from the HDR histogram (each bound within its 0.1 %), the count
    /// and the sum.
    fn histogram(&mut self, name: &str, label: &str, latency: &Latency) {
        for bound in BUCKETS {
            let micros = (bound * 1e6).round() as u64;
            let le = format!("{label},le=\"{bound:?}\"");
            self.sample(
                &format!("{name}_bucket"),
                &le,
                latency.count_at_most(micros) as f64,
            );
        }
        let count = latency.len() as f64;
        self.sample(
            &format!("{name}_bucket"),
            &format!("{label},le=\"+Inf\""),
            count,
        );
        self.sample(&format!("{name}_count"), label, count);
        self.sample(&format!("{name}_sum"), label, latency.sum_micros() / 1e6);
    }
}

/// A label value as both formats write it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut report = Report::default();
        report.messages.sent = 10;
        report.messages.received = 9;
        report.messages.lost = 1;
        report.connections.connected = 2;
        report
            .errors
            .insert("connect: refused (\"no\")\n".to_string(), 3);
        let mut latency = Latency::default();
        for micros in [50, 700, 700, 3_000, 20_000_000] {
            latency.record(micros);
        }
        report.latencies.insert("end_to_end".to_string(), latency);
        report
    }

    #[test]
    fn counters_buckets_and_escapes() {
        let text = render(&report(), &[("shard", "1")], Format::Text);
        assert!(text.contains("# TYPE mqtt_bench_messages_sent_total counter\n"));
        assert!(text.contains("mqtt_bench_messages_sent_total{shard=\"1\"} 10\n"));
        assert!(text.contains("mqtt_bench_messages_lost_total{shard=\"1\"} 1\n"));
        assert!(text.contains("mqtt_bench_connections{shard=\"1\",state=\"connected\"} 2\n"));
        assert!(text.contains(
            "mqtt_bench_errors_total{shard=\"1\",kind=\"connect: refused (\\\"no\\\")\\n\"} 3\n"
        ));
        // Cumulative: 50 µs in the first bucket, both 700 µs by 1 ms, 3 ms by 5 ms, 20 s only
        // in +Inf.
        for (le, count) in [
            ("0.0001", 1),
            ("0.0005", 1),
            ("0.001", 3),
            ("0.005", 4),
            ("10.0", 4),
            ("+Inf", 5),
        ] {
            let line = format!(
                "mqtt_bench_latency_seconds_bucket{{shard=\"1\",kind=\"end_to_end\",le=\"{le}\"}} {count}\n"
            );
            assert!(text.contains(&line), "{line} not in\n{text}");
        }
        assert!(
            text.contains("mqtt_bench_latency_seconds_count{shard=\"1\",kind=\"end_to_end\"} 5\n")
        );
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let text = render(&report(), &[("shard", "0")], Format::OpenMetrics);
        assert!(text.contains("# TYPE mqtt_bench_messages_sent counter\n"));
        assert!(text.contains("mqtt_bench_messages_sent_total{shard=\"0\"} 10\n"));
        assert!(text.contains("# UNIT mqtt_bench_latency_seconds seconds\n"));
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(
            Format::accepted(
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
            ),
            Format::OpenMetrics
        );
        assert_eq!(Format::accepted("*/*"), Format::Text);
    }
}
