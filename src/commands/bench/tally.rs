//! What a bench run's clients share: the tally (atomics, and HDR histograms behind locks
//! taken once per sample), errors in a few words, the open-file limit, resident memory, and
//! the end of a run (report, `--fail-if`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::client::SessionEvent;
use crate::error::{ErrorKind, exit_code_of, failure, usage};
use crate::measure::report::{Connections, Latency, Report};
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
    /// Clients that ended without finishing what they were asked (never connected, gave up
    /// reconnecting, acknowledgements never came, the run's end came first).
    pub ended_early: AtomicU64,
    /// Why the first of them ended: the run's exit code and words.
    cause: Mutex<Option<(ErrorKind, String)>>,
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
        let reason = format!("connect: {}", reason(err));
        self.error(reason.clone());
        self.ended(kind_of(err, ErrorKind::Connect), reason);
    }

    /// A client ended without finishing: counted as an error of `what` (`publisher: ...`), and
    /// the run fails with `err`'s exit code (the first such client's).
    pub fn ended_early(&self, what: &str, err: &anyhow::Error) {
        let reason = format!("{what}: {}", reason(err));
        self.error(reason.clone());
        self.ended(kind_of(err, ErrorKind::Lost), reason);
    }

    /// What a client's step bounded by the run's end (`within`) gave: its value, or `None` with
    /// why the client stopped counted (`connected`: it had connected before this step).
    pub fn settle<T>(&self, what: &str, connected: bool, step: Option<Result<T>>) -> Option<T> {
        match step {
            Some(Ok(value)) => Some(value),
            Some(Err(err)) if connected => {
                self.ended_early(what, &err);
                None
            }
            Some(Err(err)) => {
                self.connect_failed(&err);
                None
            }
            None => {
                self.out_of_time(what, connected);
                None
            }
        }
    }

    /// Counts a reconnect; a lost or closed connection ends `what` early: true then.
    pub fn ended_by(&self, what: &str, event: Option<&SessionEvent>) -> bool {
        match event {
            Some(SessionEvent::Reconnected { .. }) => {
                self.reconnects.fetch_add(1, Ordering::Relaxed);
                false
            }
            Some(SessionEvent::Lost(err)) => {
                self.ended_early(what, err);
                true
            }
            None => {
                self.ended_early(what, &closed());
                true
            }
            Some(_) => false,
        }
    }

    /// A client did not finish before the run's end (`--duration` and the close wait).
    pub fn out_of_time(&self, what: &str, connected: bool) {
        let (kind, reason) = if connected {
            (
                ErrorKind::Timeout,
                format!("{what}: not finished when the run ended"),
            )
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
            (
                ErrorKind::Connect,
                "connect: no CONNACK before the run ended".to_string(),
            )
        };
        self.error(reason.clone());
        self.ended(kind, reason);
    }

    fn ended(&self, kind: ErrorKind, reason: String) {
        self.ended_early.fetch_add(1, Ordering::Relaxed);
        self.cause
            .lock()
            .expect("cause lock")
            .get_or_insert((kind, reason));
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
            runs: vec![format!("{:016x}", fastrand::u64(..))],
            partial: self.interrupted.load(Ordering::Relaxed)
                || self.ended_early.load(Ordering::Relaxed) > 0,
            connections: Connections {
                requested,
                connected: self.connected.load(Ordering::Relaxed),
                failed: self.failed.load(Ordering::Relaxed),
                reconnects: self.reconnects.load(Ordering::Relaxed),
                ended_early: self.ended_early.load(Ordering::Relaxed),
            },
            cause: self
                .cause
                .lock()
                .expect("cause lock")
                .clone()
                .map(|(kind, reason)| crate::measure::report::Cause {
                    exit_code: kind.exit_code(),
                    reason,
                }),
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

/// The error of a session whose events ended without a word of why.
pub(crate) fn closed() -> anyhow::Error {
    failure(ErrorKind::Lost, "the connection closed")
}

/// The kind of `err` (its exit code's), or `default` for an error of no known kind.
fn kind_of(err: &anyhow::Error, default: ErrorKind) -> ErrorKind {
    ErrorKind::from_exit_code(exit_code_of(err)).unwrap_or(default)
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
        // Said at once: a silent wait looks like a hang.
        tracing::info!(
            "--start-at: starting at {} (in {})",
            humantime::format_rfc3339_millis(start),
            humantime::format_duration(Duration::from_millis(
                u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
            ))
        );
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
    conditions: &[crate::measure::condition::Condition],
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
    // A run whose clients did not all finish did not do what it was asked, whatever the
    // thresholds say: it fails by the first such client's cause (3, 4, 5, 7, 8).
    if let Some(cause) = &report.cause {
        let kind = ErrorKind::from_exit_code(cause.exit_code).unwrap_or(ErrorKind::Lost);
        let c = &report.connections;
        let mut message = format!(
            "{} of {} client(s) ended without finishing (first: {})",
            c.ended_early, c.requested, cause.reason
        );
        if !report.failed_conditions.is_empty() {
            message += &format!("; --fail-if: {}", report.failed_conditions.join("; "));
        }
        return Err(failure(kind, message));
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
