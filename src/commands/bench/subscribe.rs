//! `bench sub`: `-c` subscribers on one filter, for load made by another tool (another
//! `bench pub`, on another machine). Counts what arrives; when payloads carry bench pub's header
//! also the end-to-end latency and, per publisher, gaps, duplicates and reordering (sequence
//! numbers counted from the first one seen).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::watch;

use super::live::begin;
use super::tally::{Tally, finish};
use super::track::Tracker;
use crate::client::{Qos, Session, SessionEvent, SessionOptions};
use crate::error::{ErrorKind, failure};
use crate::measure::header::{Header, now_ns};
use crate::settings::ConnectSettings;
use crate::settings::bench::{BenchSub, DEFAULT_DURATION};

pub async fn run(settings: BenchSub) -> Result<()> {
    let run = &settings.run;
    let clients = u64::from(run.clients);
    let (mut interrupts, tally, live) = begin(run, clients, "sub").await?;
    let (stop_tx, stop) = watch::channel(false);
    let (count_reached_tx, mut count_reached) = tokio::sync::mpsc::channel::<()>(1);
    let total = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for local in 0..run.clients {
        let index = run.client_offset + local;
        let connect = run.client(&format!("sub-{index}"), local);
        let counter = Counter {
            total: total.clone(),
            count: settings.count,
            reached: count_reached_tx.clone(),
        };
        let (filter, qos) = (settings.filter.clone(), settings.qos);
        tasks.push(tokio::spawn(subscriber(
            connect,
            (filter, qos),
            tally.clone(),
            stop.clone(),
            counter,
        )));
    }
    drop(count_reached_tx);
    let started = Instant::now();
    let limit = match (run.duration, settings.count) {
        (Some(duration), _) => Some(duration),
        (None, Some(_)) => None,
        (None, None) => Some(DEFAULT_DURATION),
    };
    let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
    tokio::select! {
        () = crate::commands::sleep_until(deadline) => {}
        Some(()) = count_reached.recv() => {}
        () = interrupts.recv() => tally.interrupted.store(true, Ordering::Relaxed),
    }
    let elapsed = started.elapsed();
    let _ = stop_tx.send(true);
    let mut report_gaps = (0, 0);
    let mut duplicated = 0;
    let mut out_of_order = 0;
    for task in tasks {
        if let Ok(Some(tracker)) = task.await {
            let (expected, missing) = tracker.gaps();
            report_gaps.0 += expected;
            report_gaps.1 += missing;
            duplicated += tracker.duplicated;
            out_of_order += tracker.out_of_order;
        }
    }
    let metrics = live.stop().await;
    let description = format!(
        "{} subscribers on {}, QoS {}",
        run.clients, settings.filter, settings.qos as u8
    );
    let mut report = tally.report("sub", description, clients);
    report.runs = vec![run.report_run()];
    report.duration_s = elapsed.as_secs_f64();
    report.messages.expected = report_gaps.0;
    report.messages.lost = report_gaps.1;
    report.messages.duplicated = duplicated;
    report.messages.out_of_order = out_of_order;
    let pushed = metrics.end(&report).await;
    finish(report, run.json, run.report.as_deref(), &run.fail_if).and(pushed)
}

/// What the subscribers count together: messages arrived, and the `-C` count that ends the run.
struct Counter {
    total: Arc<AtomicU64>,
    count: Option<u64>,
    reached: tokio::sync::mpsc::Sender<()>,
}

impl Counter {
    fn arrived(&self) {
        let arrived = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        if self.count.is_some_and(|count| arrived >= count) {
            let _ = self.reached.try_send(());
        }
    }
}

/// One subscriber: connects, subscribes, counts until stopped. `None` if it never got going.
async fn subscriber(
    connect: ConnectSettings,
    (filter, qos): (String, Qos),
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
    counter: Counter,
) -> Option<Tracker> {
    let began = Instant::now();
    let mut session = match Session::connect(&connect, SessionOptions::default()).await {
        Ok(session) => session,
        Err(err) => {
            tally.connect_failed(&err);
            return None;
        }
    };
    tally.connected_after(began.elapsed());
    if let Err(err) = session.subscribe(std::slice::from_ref(&filter), qos).await {
        tally.ended_early("subscriber", &err);
        return None;
    }
    let mut tracker = Tracker::default();
    loop {
        tokio::select! {
            event = session.next_event() => match event {
                Some(SessionEvent::Message(received)) => {
                    tally.received.fetch_add(1, Ordering::Relaxed);
                    if let Some(header) = Header::read(&received.message.payload) {
                        tracker.arrived(header.publisher, header.sequence, false);
                        let now = now_ns();
                        Tally::record(
                            &tally.end_to_end,
                            Duration::from_nanos(now.saturating_sub(header.sent_ns)),
                        );
                    }
                    counter.arrived();
                }
                Some(SessionEvent::Subscribed(results)) => {
                    if let Some(refused) = results.into_iter().find_map(Result::err) {
                        let refused = failure(
                            ErrorKind::Rejected,
                            format!("subscribe refused: {refused}"),
                        );
                        tally.ended_early("subscriber", &refused);
                        return None;
                    }
                }
                other => if tally.ended_by("subscriber", other.as_ref()) {
                    return Some(tracker);
                }
            },
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    let _ = session.disconnect().await;
    Some(tracker)
}
