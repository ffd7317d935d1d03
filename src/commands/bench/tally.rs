//! What a bench run's clients share: the tally (atomics, and HDR histograms behind locks
//! taken once per sample), errors in a few words, the open-file limit, resident memory, and
//! the end of a run (report, `--fail-if`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::bench::report::{Connections, Latency, Report};
use crate::error::{ErrorKind, exit_code_of, failure, usage};
use crate::settings::bench::BenchRun;

/// What every client counts, shared.
#[derive(Default)]
pub(crate) struct Tally {
    pub connected: AtomicU64,
    pub failed: AtomicU64,
    pub reconnects: AtomicU64,
    pub sent: AtomicU64,
    pub acknowledged: AtomicU64,
    pub received: AtomicU64,
    pub error_count: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    pub end_to_end: Mutex<Latency>,
    pub ack: Mutex<Latency>,
    pub connect: Mutex<Latency>,
    /// Set by Ctrl+C: stop early, report what ran.
    pub interrupted: AtomicBool,
}

impl Tally {
    /// Counts an error of this kind (a short text: `connect: connection refused`).
    pub fn error(&self, kind: impl Into<String>) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        *self
            .errors
            .lock()
            .expect("errors lock")
            .entry(kind.into())
            .or_default() += 1;
    }

    /// A client could not connect: counted, with why.
    pub fn connect_failed(&self, err: &anyhow::Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.error(format!("connect: {}", reason(err)));
    }

    /// A client connected: its time to CONNACK recorded, and counted.
    pub fn connected_after(&self, elapsed: Duration) {
        Tally::record(&self.connect, elapsed);
        self.connected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record(latency: &Mutex<Latency>, elapsed: Duration) {
        latency
            .lock()
            .expect("latency lock")
            .record(elapsed.as_micros() as u64);
    }

    /// The report's counts and histograms so far.
    pub fn report(&self, kind: &str, description: String, requested: u64) -> Report {
        let mut report = Report {
            kind: kind.to_string(),
            description,
            processes: 1,
            partial: self.interrupted.load(Ordering::Relaxed),
            connections: Connections {
                requested,
                connected: self.connected.load(Ordering::Relaxed),
                failed: self.failed.load(Ordering::Relaxed),
                reconnects: self.reconnects.load(Ordering::Relaxed),
            },
            errors: self.errors.lock().expect("errors lock").clone(),
            ..Report::default()
        };
        report.messages.sent = self.sent.load(Ordering::Relaxed);
        report.messages.acknowledged = self.acknowledged.load(Ordering::Relaxed);
        report.messages.received = self.received.load(Ordering::Relaxed);
        for (name, latency) in [
            ("end_to_end", &self.end_to_end),
            ("ack", &self.ack),
            ("connect", &self.connect),
        ] {
            let latency = latency.lock().expect("latency lock").clone();
            if !latency.is_empty() {
                report.latencies.insert(name.to_string(), latency);
            }
        }
        report
    }
}

/// An error in a few words, for counting by kind: its last cause, without addresses.
pub(crate) fn reason(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let kind = match exit_code_of(err) {
        3 => "cannot connect",
        4 => "TLS failed",
        5 => "refused by the broker",
        6 => "rejected",
        7 => "timed out",
        8 => "connection lost",
        _ => "error",
    };
    let detail = text.rsplit(": ").next().unwrap_or(&text);
    let detail: String = detail.chars().take(80).collect();
    format!("{kind} ({detail})")
}

/// Waits for `--start-at`, and raises the open-file limit for `needed` connections (refusing
/// in words when it cannot be raised that far).
pub(crate) async fn prepare(run: &BenchRun, needed: u64) -> Result<()> {
    raise_file_limit(needed + 32)?;
    if let Some(start) = run.start_at
        && let Ok(wait) = start.duration_since(SystemTime::now())
    {
        tokio::time::sleep(wait).await;
    }
    Ok(())
}

#[cfg(unix)]
fn raise_file_limit(needed: u64) -> Result<()> {
    let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        return Ok(());
    };
    let now = rlimit::increase_nofile_limit(needed).unwrap_or(0);
    if now < needed {
        return Err(usage(format!(
            "{needed} connections and files are needed, but this process may open only {now} \
             (hard limit {hard}): raise it (ulimit -n, LimitNOFILE) or lower -c"
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn raise_file_limit(_needed: u64) -> Result<()> {
    Ok(())
}

/// Resident memory of this process, in bytes (Linux), if known.
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Prints the report (table on stdout, or JSON), saves it, and applies `--fail-if`: exit 8
/// naming each condition that held.
pub(crate) fn finish(
    mut report: Report,
    json: bool,
    save: Option<&std::path::Path>,
    conditions: &[crate::bench::condition::Condition],
) -> Result<()> {
    report.finish();
    report.failed_conditions = conditions
        .iter()
        .filter_map(|condition| condition.breached(&report))
        .collect();
    if let Some(path) = save {
        std::fs::write(path, report.to_json(true) + "\n")
            .with_context(|| format!("saving the report to {}", path.display()))?;
    }
    if json {
        println!("{}", report.to_json(false));
    } else {
        print!("{}", report.table());
    }
    if report.connections.requested > 0 && report.connections.connected == 0 {
        // Nothing was measured: fail as a connection failure would.
        let first = report.errors.keys().next().cloned().unwrap_or_default();
        let kind = if first.starts_with("connect: TLS failed") {
            ErrorKind::Tls
        } else if first.starts_with("connect: refused by the broker") {
            ErrorKind::Refused
        } else {
            ErrorKind::Connect
        };
        return Err(failure(kind, format!("no client could connect ({first})")));
    }
    if report.failed_conditions.is_empty() {
        Ok(())
    } else {
        Err(failure(
            ErrorKind::Lost,
            format!("--fail-if: {}", report.failed_conditions.join("; ")),
        ))
    }
}
