//! `bench conn`: opens `-c` connections at `--connect-rate` (or as fast as they complete),
//! holds them for `--duration`, and reports the time to CONNACK, failures by reason, and the
//! client's memory per open connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::watch;

use super::live::begin;
use super::tally::{Tally, finish, resident_bytes};
use crate::client::{Session, SessionOptions};
use crate::measure::report::{Memory, Report};
use crate::settings::ConnectSettings;
use crate::settings::bench::{BenchConn, DEFAULT_DURATION};

/// Connections being opened at once. Below the listen backlog brokers use (mosquitto: 100): a
/// full backlog drops SYNs, and each dropped one costs a second before the kernel tries again
/// (measured: 256 at once gave a CONNACK p99 of 1023 ms and 1437 connections/s).
const CONCURRENT: usize = 64;

pub async fn run(settings: BenchConn) -> Result<()> {
    let run = &settings.run;
    let clients = u64::from(run.clients);
    crate::client::small_buffers();
    let (mut interrupts, tally, live) = begin(run, clients, "conn").await?;
    let baseline = resident_bytes();
    let (hold_tx, hold) = watch::channel(false);
    let (done_tx, mut done) = tokio::sync::mpsc::channel::<()>(clients as usize);
    let limiter = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let period = settings
        .connect_rate
        .map(|rate| Duration::from_secs_f64(1.0 / rate));
    let mut interrupted = false;
    for local in 0..run.clients {
        if let Some(period) = period {
            let at = started + period.mul_f64(f64::from(local));
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = interrupts.recv() => { interrupted = true; break; }
            }
        }
        let permit = tokio::select! {
            permit = limiter.clone().acquire_owned() => permit.expect("never closed"),
            () = interrupts.recv() => { interrupted = true; break; }
        };
        let index = run.client_offset + local;
        let connect = run.client(&index.to_string(), local);
        let (tally, hold, done) = (tally.clone(), hold.clone(), done_tx.clone());
        let held = hold_connection(Box::new(connect), tally, hold, done, permit);
        tasks.push(tokio::spawn(held));
    }
    drop(done_tx);
    // Every attempt answered: all open (or failed).
    let mut answered = 0;
    while answered < tasks.len() && !interrupted {
        tokio::select! {
            answer = done.recv() => match answer {
                Some(()) => answered += 1,
                None => break,
            },
            () = interrupts.recv() => interrupted = true,
        }
    }
    let opening = started.elapsed();
    let memory = memory_used(baseline, &tally);
    let hold_for = run.duration.unwrap_or(DEFAULT_DURATION);
    if !interrupted {
        tokio::select! {
            () = tokio::time::sleep(hold_for) => {}
            () = interrupts.recv() => interrupted = true,
        }
    }
    let _ = hold_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let metrics = live.stop().await;
    if interrupted {
        tally.interrupted.store(true, Ordering::Relaxed);
    }
    let mut report = conn_report(&settings, &tally, opening, hold_for);
    report.memory = memory;
    let pushed = metrics.end(&report).await;
    finish(report, run.json, run.report.as_deref(), &run.fail_if).and(pushed)
}

/// The report: connections per second over the time they took to open (all answered).
fn conn_report(
    settings: &BenchConn,
    tally: &Tally,
    opening: Duration,
    hold_for: Duration,
) -> Report {
    let run = &settings.run;
    let description = format!(
        "{} connections{}, held {}",
        run.clients,
        settings
            .connect_rate
            .map_or(String::new(), |rate| format!(" at {rate}/s")),
        humantime::format_duration(hold_for)
    );
    let mut report = tally.report("conn", description, u64::from(run.clients));
    report.runs = vec![run.report_run()];
    report.duration_s = opening.as_secs_f64();
    report.rate.connections_per_s =
        (report.connections.connected as f64 / opening.as_secs_f64().max(1e-9) * 10.0).round()
            / 10.0;
    report
}

/// One client: connects (then gives back its place among those connecting at once), says it
/// answered, and holds its connection until released. (Its settings, and the futures of
/// connecting and disconnecting, are boxed: there is one such future per connection, held the
/// whole run, and an async fn's future is as large as its largest await.)
async fn hold_connection(
    connect: Box<ConnectSettings>,
    tally: Arc<Tally>,
    mut hold: watch::Receiver<bool>,
    done: tokio::sync::mpsc::Sender<()>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let options = SessionOptions {
        max_inflight: 1,
        ..SessionOptions::default()
    };
    let began = Instant::now();
    let connected = Box::pin(Session::connect(&connect, options)).await;
    drop(connect);
    drop(permit);
    let mut session = match connected {
        Ok(session) => session,
        Err(err) => {
            tally.connect_failed(&err);
            let _ = done.send(()).await;
            return;
        }
    };
    tally.connected_after(began.elapsed());
    let _ = done.send(()).await;
    loop {
        tokio::select! {
            event = session.next_event() => {
                if tally.ended_by("held connection", event.as_ref()) {
                    return;
                }
            }
            _ = hold.wait_for(|released| *released) => break,
        }
    }
    if let Err(err) = Box::pin(session.disconnect()).await {
        tally.ended_early("held connection", &err);
    }
}

/// Resident memory now, and per connection over what the process held before connecting.
fn memory_used(baseline: Option<u64>, tally: &Tally) -> Option<Memory> {
    let (before, after) = (baseline?, resident_bytes()?);
    let connected = tally.connected.load(Ordering::Relaxed);
    Some(Memory {
        rss_bytes: after,
        per_connection_bytes: after.saturating_sub(before) / connected.max(1),
    })
}
