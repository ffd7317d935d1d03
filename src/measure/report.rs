//! The report of a bench run: counts, rates, latency percentiles from HDR histograms, errors by
//! kind. Printed as a table or one JSON object; saved with its histograms (V2 format, base64)
//! so that `bench merge` can add runs of several processes with exact percentiles.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

/// The report's schema version (the `schema` key).
pub const SCHEMA: u32 = 1;

/// Latencies in microseconds, from 1 µs to an hour, 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, micros: u64) {
        self.0.saturating_record(micros.max(1));
    }

    pub fn add(&mut self, other: &Latency) {
        self.0.add(&other.0).expect("same bounds");
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many were at most `micros` (to the histogram's precision, 0.1 %).
    pub fn count_at_most(&self, micros: u64) -> u64 {
        self.0.count_between(0, micros)
    }

    /// The sum of all values, in microseconds, from the histogram (to within its precision).
    pub fn sum_micros(&self) -> f64 {
        self.0.mean() * self.0.len() as f64
    }

    /// The value at `quantile` (0..=1), in milliseconds.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    fn summary(&self) -> Summary {
        let ms = |micros: u64| (micros as f64 / 1000.0 * 1000.0).round() / 1000.0;
        Summary {
            count: self.0.len(),
            p50: ms(self.0.value_at_quantile(0.50)),
            p90: ms(self.0.value_at_quantile(0.90)),
            p99: ms(self.0.value_at_quantile(0.99)),
            p99_9: ms(self.0.value_at_quantile(0.999)),
            max: ms(self.0.max()),
            mean: (self.0.mean() / 1000.0 * 1000.0).round() / 1000.0,
        }
    }

    fn encode(&self) -> String {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut bytes)
            .expect("serialising to memory");
        BASE64.encode(bytes)
    }

    fn decode(text: &str) -> Result<Latency, String> {
        let bytes = BASE64
            .decode(text)
            .map_err(|err| format!("a histogram is not base64: {err}"))?;
        let histogram: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|err| format!("a histogram is not in the HDR V2 format: {err:?}"))?;
        let mut latency = Latency::default();
        latency
            .0
            .add(&histogram)
            .map_err(|err| format!("a histogram does not fit: {err:?}"))?;
        Ok(latency)
    }
}

/// Percentiles of one latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(rename = "p99.9")]
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connections {
    /// Clients asked for (`-c`, plus subscribers).
    pub requested: u64,
    pub connected: u64,
    pub failed: u64,
    /// Connections lost and made again during the run.
    pub reconnects: u64,
    /// Clients that ended without finishing (never connected, gave up reconnecting,
    /// acknowledgements never came, the run's end came first).
    #[serde(default)]
    pub ended_early: u64,
}

/// Why a run's first unfinished client ended: the run exits with this code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub exit_code: u8,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messages {
    /// Published (after the warm-up).
    pub sent: u64,
    /// QoS 1 PUBACK / QoS 2 PUBCOMP received (QoS 0: written).
    pub acknowledged: u64,
    /// Arrived at the subscribers, each copy counted.
    pub received: u64,
    /// What the subscribers should have received: sent x subscribers (`bench sub`: the
    /// sequence numbers seen imply it).
    pub expected: u64,
    /// Expected and never arrived.
    pub lost: u64,
    /// Arrived more than once at one subscriber.
    pub duplicated: u64,
    /// Arrived after a later message of the same publisher.
    pub out_of_order: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub sent_per_s: f64,
    pub received_per_s: f64,
    pub connections_per_s: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// The client's resident memory with every connection open.
    pub rss_bytes: u64,
    /// Its growth from before the first connection, per connection.
    pub per_connection_bytes: u64,
}

/// A whole run (or several merged).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    /// `pub`, `conn` or `sub`.
    pub kind: String,
    /// `bench pub`'s QoS: at 0 nothing is acknowledged, `acknowledged` counts the writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<u8>,
    /// What ran, in words (`4 clients, QoS 1, 64 bytes, max rate`).
    pub description: String,
    /// Ended early (Ctrl+C): the figures cover what ran.
    pub partial: bool,
    /// Processes whose reports this is (1, or as many as were merged).
    pub processes: u64,
    /// An id per process run (random, made at the start): a report merged twice is refused.
    #[serde(default)]
    pub runs: Vec<String>,
    /// The measured time (after the warm-up), seconds: publishing (`pub`), connecting (`conn`),
    /// subscribed (`sub`).
    pub duration_s: f64,
    /// `pub`: from the end of the warm-up to the last message's arrival, seconds (received/s is
    /// over this: delivery, not sending, speed).
    #[serde(default)]
    pub delivery_s: f64,
    pub connections: Connections,
    pub messages: Messages,
    pub rate: Rates,
    /// `end_to_end` (publish to arrival), `ack` (publish to PUBACK/PUBCOMP), `connect` (to
    /// CONNACK).
    pub latency_ms: BTreeMap<String, Summary>,
    /// Errors by kind (`connect: refused`, `connection lost`, `publish rejected`...).
    pub errors: BTreeMap<String, u64>,
    /// Set when clients ended without finishing: the first one's cause (the exit code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// The `--fail-if` conditions that held, in words.
    pub failed_conditions: Vec<String>,
    /// The histograms, base64 of the HDR V2 format (only in `--report` files).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub histograms: BTreeMap<String, String>,
    #[serde(skip)]
    pub latencies: BTreeMap<String, Latency>,
}

impl Report {
    /// Percentiles and rates from the counts and histograms.
    pub fn finish(&mut self) {
        self.schema = SCHEMA;
        self.latency_ms = self
            .latencies
            .iter()
            .filter(|(_, latency)| !latency.is_empty())
            .map(|(name, latency)| (name.clone(), latency.summary()))
            .collect();
        let per_s = |count: u64| {
            if self.duration_s > 0.0 {
                (count as f64 / self.duration_s * 10.0).round() / 10.0
            } else {
                0.0
            }
        };
        let received_per_s = if self.delivery_s > 0.0 {
            (self.messages.received as f64 / self.delivery_s * 10.0).round() / 10.0
        } else {
            per_s(self.messages.received)
        };
        self.rate = Rates {
            sent_per_s: per_s(self.messages.sent),
            received_per_s,
            connections_per_s: self.rate.connections_per_s,
        };
    }

    /// The JSON object; with the histograms for a `--report` file.
    pub fn to_json(&self, with_histograms: bool) -> String {
        let mut report = self.clone();
        report.histograms = if with_histograms {
            self.latencies
                .iter()
                .map(|(name, latency)| (name.clone(), latency.encode()))
                .collect()
        } else {
            BTreeMap::new()
        };
        serde_json::to_string(&report).expect("a report is JSON")
    }

    /// Reads a `--report` file's text.
    pub fn from_json(text: &str) -> Result<Report, String> {
        let mut report: Report =
            serde_json::from_str(text).map_err(|err| format!("not a bench report: {err}"))?;
        if report.schema != SCHEMA {
            return Err(format!(
                "a bench report of schema {}, this mqtt-cli reads {SCHEMA}",
                report.schema
            ));
        }
        for (name, encoded) in &report.histograms {
            report
                .latencies
                .insert(name.clone(), Latency::decode(encoded)?);
        }
        Ok(report)
    }

    /// Adds runs of several processes (lined up with `--start-at`): counts summed, histograms
    /// merged (exact percentiles), the duration the longest, rates from the sums.
    pub fn merge(reports: &[Report]) -> Result<Report, String> {
        let Some(first) = reports.first() else {
            return Err("nothing to merge".to_string());
        };
        let mut merged = Report {
            kind: first.kind.clone(),
            qos: first.qos,
            description: first.description.clone(),
            ..Report::default()
        };
        let mut rss = 0u64;
        let mut connections_per_s = 0.0;
        for report in reports {
            merged.take_runs_of(report)?;
            merged.partial |= report.partial;
            add(&mut merged.processes, report.processes.max(1))?;
            merged.duration_s = merged.duration_s.max(report.duration_s);
            merged.delivery_s = merged.delivery_s.max(report.delivery_s);
            let (c, r) = (&mut merged.connections, &report.connections);
            add_each!(c, r; requested, connected, failed, reconnects, ended_early);
            if merged.cause.is_none() {
                merged.cause = report.cause.clone();
            }
            let (m, r) = (&mut merged.messages, &report.messages);
            add_each!(m, r; sent, acknowledged, received, expected, lost, duplicated, out_of_order);
            for (kind, count) in &report.errors {
                add(merged.errors.entry(kind.clone()).or_default(), *count)?;
            }
            for (name, latency) in &report.latencies {
                merged
                    .latencies
                    .entry(name.clone())
                    .or_default()
                    .add(latency);
            }
            if let Some(memory) = report.memory {
                add(&mut rss, memory.rss_bytes)?;
            }
            connections_per_s += report.rate.connections_per_s;
        }
        check_shards(&merged.runs)?;
        merged.memory = merged_memory(reports, rss, merged.connections.connected)?;
        merged.rate.connections_per_s = connections_per_s;
        merged.finish();
        Ok(merged)
    }

    /// Takes the run ids of `report`, one of the same kind with its histograms: a run seen
    /// twice is refused (the same report merged twice would double every count).
    fn take_runs_of(&mut self, report: &Report) -> Result<(), String> {
        if report.kind != self.kind {
            return Err(format!(
                "cannot merge a bench {} report with a bench {} one",
                report.kind, self.kind
            ));
        }
        if report.latencies.len() != report.latency_ms.len() {
            return Err(
                "a report without its histograms (save runs with --report FILE, not --json)"
                    .to_string(),
            );
        }
        for run in &report.runs {
            if self.runs.contains(run) {
                return Err(format!(
                    "the run {run} is in two of the reports: each process's report is merged once"
                ));
            }
            self.runs.push(run.clone());
        }
        Ok(())
    }
}

/// The shards merged (runs `ID/K/N`, from `bench --shard`): all of one run, and each of 0 to
/// N-1 there (a shard given twice is refused as a run seen twice).
fn check_shards(runs: &[String]) -> Result<(), String> {
    let shards: Vec<Option<(&str, u32, u32)>> = runs
        .iter()
        .map(|run| {
            let mut parts = run.rsplitn(3, '/');
            let (count, index, id) = (parts.next()?, parts.next()?, parts.next()?);
            Some((id, index.parse().ok()?, count.parse().ok()?))
        })
        .collect();
    let Some(Some((id, _, count))) = shards.iter().find(|shard| shard.is_some()).copied() else {
        return Ok(());
    };
    if shards
        .iter()
        .any(|shard| !matches!(shard, Some((other, _, n)) if *other == id && *n == count))
    {
        return Err(format!(
            "the reports are not all shards of the run {id} (of {count}): {}",
            runs.join(", ")
        ));
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| {
            !shards
                .iter()
                .any(|shard| matches!(shard, Some((_, index, _)) if index == k))
        })
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard(s) {} of the run {id} (of {count}) missing: merge every shard's report",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// Resident memory of all the processes, and per connection over all of them.
fn merged_memory(reports: &[Report], rss: u64, connected: u64) -> Result<Option<Memory>, String> {
    if reports.iter().all(|report| report.memory.is_none()) {
        return Ok(None);
    }
    let per_connection_bytes = reports
        .iter()
        .filter_map(|report| {
            report.memory.map(|memory| {
                u128::from(memory.per_connection_bytes) * u128::from(report.connections.connected)
            })
        })
        .sum::<u128>()
        .checked_div(u128::from(connected.max(1)))
        .and_then(|bytes| u64::try_from(bytes).ok())
        .ok_or("a memory figure is too large to be true")?;
    Ok(Some(Memory {
        rss_bytes: rss,
        per_connection_bytes,
    }))
}

/// `text()` when `show`, else nothing: an optional part of a line of the table.
fn shown_if(show: bool, text: impl FnOnce() -> String) -> String {
    if show { text() } else { String::new() }
}

/// `sum.field += count.field` for each field named, each checked as [`add`] does.
macro_rules! add_each {
    ($sum:expr, $count:expr; $($field:ident),+) => {
        $(add(&mut $sum.$field, $count.$field)?;)+
    };
}
use add_each;

/// `sum += count`, refused past `u64::MAX` (a hand-edited or corrupt report).
fn add(sum: &mut u64, count: u64) -> Result<(), String> {
    *sum = sum
        .checked_add(count)
        .ok_or("the counts add up past 2^64: is a report edited or corrupt?")?;
    Ok(())
}

impl Report {
    /// The table printed at the end of a run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        self.write_head(&mut out);
        if self.kind != "conn" {
            self.write_messages(&mut out);
        }
        if !self.latency_ms.is_empty() {
            self.write_latencies(&mut out);
        }
        if let Some(memory) = self.memory {
            let _ = writeln!(
                out,
                "memory       {:.1} MiB resident, {:.1} KiB per connection",
                memory.rss_bytes as f64 / 1_048_576.0,
                memory.per_connection_bytes as f64 / 1024.0
            );
        }
        if self.errors.is_empty() {
            let _ = writeln!(out, "errors       none");
        } else {
            for (index, (kind, count)) in self.errors.iter().enumerate() {
                let label = if index == 0 { "errors" } else { "" };
                let _ = writeln!(out, "{label:<12} {count} {kind}");
            }
        }
        for condition in &self.failed_conditions {
            let _ = writeln!(out, "FAILED       {condition}");
        }
        out
    }

    /// The title, whether the run is partial, and the connections.
    fn write_head(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "mqtt-cli bench {}: {}{}",
            self.kind,
            self.description,
            shown_if(self.processes > 1, || format!(
                " ({} processes merged)",
                self.processes
            ))
        );
        if let Some(cause) = &self.cause {
            let _ = writeln!(
                out,
                "PARTIAL: {} client(s) ended without finishing (first: {}); the figures cover what ran",
                self.connections.ended_early, cause.reason
            );
        } else if self.partial {
            let _ = writeln!(
                out,
                "PARTIAL: interrupted after {:.1} s; the figures cover what ran",
                self.duration_s
            );
        }
        let c = &self.connections;
        let _ = writeln!(
            out,
            "connections  {} of {} connected, {} failed, {} reconnects{}{}",
            c.connected,
            c.requested,
            c.failed,
            c.reconnects,
            shown_if(c.ended_early > 0, || format!(
                ", {} ended without finishing",
                c.ended_early
            )),
            shown_if(self.rate.connections_per_s > 0.0, || format!(
                ", {:.0} connections/s",
                self.rate.connections_per_s
            ))
        );
    }

    /// Messages sent, acknowledged and received, and the rates.
    fn write_messages(&self, out: &mut String) {
        let m = &self.messages;
        let _ = writeln!(
            out,
            "messages     sent {}, {} {}, received {} of {} expected, lost {}, duplicated {}, out of order {}",
            m.sent,
            if self.qos == Some(0) {
                "written (QoS 0: no acknowledgements)"
            } else {
                "acknowledged"
            },
            m.acknowledged,
            m.received,
            m.expected,
            m.lost,
            m.duplicated,
            m.out_of_order
        );
        let _ = writeln!(
            out,
            "throughput   sent {:.0}/s over {:.1} s, received {:.0}/s{}",
            self.rate.sent_per_s,
            self.duration_s,
            self.rate.received_per_s,
            shown_if(self.delivery_s > 0.0, || format!(
                " over {:.1} s (until the last arrival)",
                self.delivery_s
            ))
        );
    }

    /// A row of percentiles per latency measured.
    fn write_latencies(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "latency ms   {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "count", "p50", "p90", "p99", "p99.9", "max", "mean"
        );
        for (name, s) in &self.latency_ms {
            let _ = writeln!(
                out,
                "  {:<10} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                name.replace('_', " "),
                s.count,
                s.p50,
                s.p90,
                s.p99,
                s.p99_9,
                s.max,
                s.mean
            );
        }
    }
}

#[cfg(test)]
impl Report {
    /// A finished one-process `pub` report with these counts and end-to-end latencies (tests).
    pub(crate) fn sample(
        duration_s: f64,
        messages: Messages,
        latencies: impl IntoIterator<Item = u64>,
    ) -> Report {
        let mut latency = Latency::default();
        latencies
            .into_iter()
            .for_each(|micros| latency.record(micros));
        let mut report = Report {
            kind: "pub".into(),
            processes: 1,
            duration_s,
            messages,
            ..Report::default()
        };
        report.latencies.insert("end_to_end".into(), latency);
        report.finish();
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_all_of_one_run_and_all_there() {
        let runs = |list: &[&str]| list.iter().map(|run| run.to_string()).collect::<Vec<_>>();
        assert_eq!(check_shards(&runs(&["a1", "b2"])), Ok(()), "not sharded");
        assert_eq!(check_shards(&runs(&["r/1/3", "r/0/3", "r/2/3"])), Ok(()));
        let missing = check_shards(&runs(&["r/0/3", "r/2/3"])).expect_err("1 missing");
        assert_eq!(
            missing,
            "shard(s) 1 of the run r (of 3) missing: merge every shard's report"
        );
        assert!(
            check_shards(&runs(&["r/0/2", "s/1/2"])).is_err(),
            "two runs"
        );
        assert!(
            check_shards(&runs(&["r/0/2", "r/1/3"])).is_err(),
            "two counts"
        );
        assert!(
            check_shards(&runs(&["r/0/2", "plain"])).is_err(),
            "one not sharded"
        );
        assert_eq!(
            check_shards(&runs(&["a/b/0/1"])),
            Ok(()),
            "an id with a slash"
        );
    }

    fn run(samples: &[u64], sent: u64) -> Report {
        let messages = Messages {
            sent,
            received: sent,
            expected: sent,
            ..Messages::default()
        };
        Report::sample(2.0, messages, samples.iter().copied())
    }

    #[test]
    fn merged_percentiles_are_those_of_all_samples() {
        let a: Vec<u64> = (1..=1000).collect();
        let b: Vec<u64> = (1..=1000).map(|n| n * 50).collect();
        let saved_a = Report::from_json(&run(&a, 1000).to_json(true)).expect("read back");
        let saved_b = Report::from_json(&run(&b, 3000).to_json(true)).expect("read back");
        let merged = Report::merge(&[saved_a, saved_b]).expect("merged");
        let all: Vec<u64> = a.iter().chain(&b).copied().collect();
        let whole = run(&all, 4000);
        assert_eq!(merged.latency_ms, whole.latency_ms);
        assert_eq!(merged.messages.sent, 4000);
        assert_eq!(merged.rate.sent_per_s, 2000.0);
        assert_eq!(merged.processes, 2);
        // Without histograms (--json output) there is nothing exact to merge.
        let bare = Report::from_json(&run(&a, 1).to_json(false)).expect("read");
        assert!(Report::merge(&[bare]).is_err());
    }

    #[test]
    fn a_report_merged_twice_is_refused() {
        let mut a = run(&[1, 2, 3], 3);
        a.runs = vec!["a1".into()];
        let mut b = run(&[4], 1);
        b.runs = vec!["b2".into()];
        let once = Report::merge(&[a.clone(), b.clone()]).expect("two runs");
        assert_eq!(once.runs, ["a1", "b2"]);
        let err = Report::merge(&[a.clone(), b, a]).expect_err("a1 twice");
        assert!(err.contains("a1"), "{err}");
        // A merged report merged again with one of its parts: seen twice too.
        let mut c = run(&[5], 1);
        c.runs = vec!["b2".into()];
        assert!(Report::merge(&[once, c]).is_err());
    }

    #[test]
    fn counts_past_2_pow_64_are_refused_not_wrapped() {
        let mut a = run(&[1], 1);
        a.messages.lost = u64::MAX;
        let mut b = a.clone();
        b.runs = vec!["other".into()];
        let err = Report::merge(&[a, b]).expect_err("overflow");
        assert!(err.contains("2^64"), "{err}");
    }

    #[test]
    fn a_summary_is_in_milliseconds_to_the_microsecond() {
        let mut latency = Latency::default();
        assert!(latency.is_empty());
        assert_eq!(latency.summary().count, 0);
        for micros in 1..=1000 {
            latency.record(micros);
        }
        assert!(!latency.is_empty());
        assert_eq!(latency.len(), 1000);
        let summary = latency.summary();
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.p50, 0.5);
        assert_eq!(summary.p90, 0.9);
        assert_eq!(summary.p99, 0.99);
        assert_eq!(summary.max, 1.0);
        assert!((0.5..=0.502).contains(&summary.mean), "{}", summary.mean);
        assert_eq!(latency.quantile_ms(0.5), 0.5);
    }

    #[test]
    fn rates_are_per_second_to_a_tenth() {
        let mut report = Report {
            duration_s: 8.0,
            messages: Messages {
                sent: 1001,
                received: 998,
                ..Messages::default()
            },
            ..Report::default()
        };
        report.finish();
        assert_eq!(report.rate.sent_per_s, 125.1);
        assert_eq!(report.rate.received_per_s, 124.8);
        // Received: over the time until the last arrival, when measured.
        report.delivery_s = 4.0;
        report.finish();
        assert_eq!(report.rate.received_per_s, 249.5);
        // No time measured: no rate, not a division by zero.
        report.duration_s = 0.0;
        report.delivery_s = 0.0;
        report.finish();
        assert_eq!(report.rate.sent_per_s, 0.0);
        assert_eq!(report.rate.received_per_s, 0.0);
    }

    #[test]
    fn a_merge_keeps_what_ran_and_adds_the_rest() {
        let part = |run: &str, partial: bool, connected: u64, rss: u64, per: u64, rate: f64| {
            let mut report = Report {
                kind: "conn".into(),
                qos: Some(1),
                description: "2 clients".into(),
                partial,
                runs: vec![run.into()],
                duration_s: 1.0,
                ..Report::default()
            };
            report.connections.connected = connected;
            report.rate.connections_per_s = rate;
            report.memory = Some(Memory {
                rss_bytes: rss,
                per_connection_bytes: per,
            });
            report
        };
        let merged = Report::merge(&[
            part("a", true, 2, 100, 10, 2.0),
            part("b", false, 3, 200, 40, 3.0),
        ])
        .expect("merge");
        assert_eq!(merged.kind, "conn");
        assert_eq!(merged.qos, Some(1));
        assert_eq!(merged.description, "2 clients");
        assert!(merged.partial, "one partial run makes the merge partial");
        assert_eq!(merged.rate.connections_per_s, 5.0);
        let memory = merged.memory.expect("memory");
        assert_eq!(memory.rss_bytes, 300);
        // Weighted by connections: (10 * 2 + 40 * 3) / 5.
        assert_eq!(memory.per_connection_bytes, 28);
        let both = Report::merge(&[
            part("a", false, 1, 1, 1, 1.0),
            part("b", false, 1, 1, 1, 1.0),
        ])
        .expect("merge");
        assert!(!both.partial);
    }

    #[test]
    fn a_merge_adds_every_count() {
        // Every count a different number: base, base + step, base + 2 step, ...
        let counts = |base: u64, step: u64| {
            let at = |k: u64| base + k * step;
            let connections = Connections {
                requested: at(0),
                connected: at(1),
                failed: at(2),
                reconnects: at(3),
                ended_early: at(4),
            };
            let messages = Messages {
                sent: at(5),
                acknowledged: at(6),
                received: at(7),
                expected: at(8),
                lost: at(9),
                duplicated: at(10),
                out_of_order: at(11),
            };
            (connections, messages)
        };
        let counted = |run: &str, base: u64| {
            let (connections, messages) = counts(base, 1);
            let mut report = Report {
                kind: "pub".into(),
                runs: vec![run.into()],
                connections,
                messages,
                ..Report::default()
            };
            report.errors.insert("timeout".into(), base + 12);
            report
        };
        let merged = Report::merge(&[counted("a", 0), counted("b", 100)]).expect("merge");
        assert_eq!((merged.connections, merged.messages), counts(100, 2));
        assert_eq!(merged.errors["timeout"], 124);
        assert_eq!(merged.processes, 2);
    }

    #[test]
    fn the_table_says_each_section_when_it_has_one() {
        let mut report = run(&[1000, 2000], 2);
        report.errors.insert("timeout".into(), 2);
        report.errors.insert("refused".into(), 1);
        let table = report.table();
        assert!(table.starts_with("mqtt-cli bench "), "{table}");
        assert!(table.contains("\nmessages "), "{table}");
        assert!(table.contains("latency ms"), "{table}");
        assert!(table.contains("errors       1 refused\n"), "{table}");
        assert!(table.contains("             2 timeout\n"), "{table}");
        report.kind = "conn".into();
        report.errors.clear();
        report.latency_ms.clear();
        let table = report.table();
        assert!(!table.contains("\nmessages "), "{table}");
        assert!(!table.contains("latency ms"), "{table}");
        assert!(table.contains("errors       none"), "{table}");
    }
}
