//! `bench pub`: subscribers first (all subscribed before anyone publishes), then publishers
//! spread over the ramp-up, each publishing at its rate (or as fast as flow control allows)
//! until the duration or count; then the subscribers drain what is still on its way.
//!
//! Every payload carries the header ([`Header`]): at a fixed rate a message that goes out late
//! carries the time it was *meant* to be sent, so a broker that stalls us shows up as latency,
//! not as fewer samples (coordinated omission); one on schedule carries when it went out. Acknowledgements complete in publish order, so each one is matched
//! to its message's intended time through a queue.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::BytesMut;
use tokio::sync::{mpsc, watch};

use super::live::Live;
use super::tally::{Tally, closed, finish, prepare};
use super::track::Tracker;
use crate::cli::bench::Rate;
use crate::client::{Message, Publisher, Qos, Session, SessionEvent, SessionOptions};
use crate::commands::Interrupts;
use crate::error::{ErrorKind, failure};
use crate::measure::header::{Header, now_ns};
use crate::measure::report::Latency;
use crate::settings::bench::{BenchPub, DEFAULT_DURATION};

/// How long publishers wait for acknowledgements still owed once they stop publishing.
const ACK_GRACE: Duration = Duration::from_secs(10);
/// Subscribers stop draining when nothing arrived for this long after the publishers ended...
const DRAIN_IDLE: Duration = Duration::from_secs(2);
/// ...or after this long in all.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// A run with `--duration` ends at most this long after it (the warm-up included), whatever
/// the broker does: owed acknowledgements, draining and closing all happen inside it.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Wall-clock nanoseconds of an `Instant`, from one reading of both clocks.
#[derive(Clone, Copy)]
struct Clock {
    base: Instant,
    base_ns: u64,
}

impl Clock {
    fn now() -> Clock {
        Clock {
            base: Instant::now(),
            base_ns: now_ns(),
        }
    }

    fn wall_ns(&self, at: Instant) -> u64 {
        self.base_ns + at.saturating_duration_since(self.base).as_nanos() as u64
    }
}

/// What a run's tasks share.
struct Shared {
    settings: BenchPub,
    tally: Arc<Tally>,
    clock: Clock,
    /// Messages counted (after the warm-up) per publisher.
    sent: Vec<AtomicU64>,
    /// Stop publishing (Ctrl+C).
    stop: watch::Receiver<bool>,
    /// The publishers are done: subscribers drain and leave.
    drained: watch::Receiver<bool>,
    /// When the warm-up ends; messages sent before are not counted.
    warmup_end: Mutex<Option<Instant>>,
    warmup_end_ns: AtomicU64,
    /// When the last publisher stopped publishing.
    produced_until: Mutex<Option<Instant>>,
    /// When the last counted message arrived at a subscriber.
    last_arrival: Mutex<Option<Instant>>,
    /// When every client must be done (`--duration` runs): connecting, publishing, draining
    /// and closing included.
    deadline: Option<Instant>,
}

/// `work`, unless the run's deadline comes first (`None`).
async fn within<F: std::future::Future>(deadline: Option<Instant>, work: F) -> Option<F::Output> {
    crate::commands::within(deadline.map(Into::into), work).await
}

pub async fn run(settings: BenchPub) -> Result<()> {
    let clients = u64::from(settings.run.clients);
    let subscribers = u64::from(settings.subscribers);
    prepare(&settings.run, clients + subscribers).await?;
    let mut interrupts = Interrupts::listen()?;
    let tally = Arc::new(Tally::default());
    let deadline = settings
        .run
        .duration
        .map(|duration| Instant::now() + settings.warmup + duration + CLOSE_WAIT);
    let live = Live::start(tally.clone(), clients + subscribers, &settings.run, "pub").await?;
    let (stop_tx, stop) = watch::channel(false);
    let (drained_tx, drained) = watch::channel(false);
    let shared = Arc::new(Shared::new(
        &settings,
        tally.clone(),
        stop,
        drained,
        deadline,
    ));

    // Subscribers first, every one subscribed before the first publish.
    let (ready_tx, mut ready) = mpsc::channel(subscribers.max(1) as usize);
    let subscriber_tasks = spawn_subscribers(&shared, settings.subscribers, &ready_tx)?;
    drop(ready_tx);
    wait_ready(&mut ready, subscribers, &mut interrupts, &tally, &stop_tx).await;

    let start = Instant::now();
    let warmup_end = start + settings.warmup;
    *shared.warmup_end.lock().expect("lock") = Some(warmup_end);
    shared
        .warmup_end_ns
        .store(shared.clock.wall_ns(warmup_end), Ordering::Relaxed);
    let publisher_tasks = spawn_publishers(&shared, start);
    let all_published = futures_join(publisher_tasks);
    tokio::pin!(all_published);
    loop {
        tokio::select! {
            () = &mut all_published => break,
            () = interrupts.recv() => {
                tally.interrupted.store(true, Ordering::Relaxed);
                let _ = stop_tx.send(true);
            }
        }
    }
    let produced_until = shared
        .produced_until
        .lock()
        .expect("lock")
        .unwrap_or_else(Instant::now);
    let _ = drained_tx.send(true);
    let mut trackers = Vec::new();
    for task in subscriber_tasks {
        if let Ok(Some(tracker)) = task.await {
            trackers.push(tracker);
        }
    }
    let metrics = live.stop().await;

    let span = produced_until.saturating_duration_since(warmup_end);
    let mut report = tally.report("pub", describe(&settings), clients + subscribers);
    report.runs = vec![settings.run.report_run()];
    report.qos = Some(settings.qos as u8);
    report.duration_s = span.as_secs_f64();
    if let Some(last) = *shared.last_arrival.lock().expect("lock") {
        report.delivery_s = last.saturating_duration_since(warmup_end).as_secs_f64();
    }
    count_delivery(&mut report, &shared, &trackers);
    let pushed = metrics.end(&report).await;
    finish(
        report,
        settings.run.json,
        settings.run.report.as_deref(),
        &settings.run.fail_if,
    )
    .and(pushed)
}

impl Shared {
    fn new(
        settings: &BenchPub,
        tally: Arc<Tally>,
        stop: watch::Receiver<bool>,
        drained: watch::Receiver<bool>,
        deadline: Option<Instant>,
    ) -> Shared {
        Shared {
            settings: settings.clone(),
            tally,
            clock: Clock::now(),
            sent: (0..settings.run.clients)
                .map(|_| AtomicU64::new(0))
                .collect(),
            stop,
            drained,
            warmup_end: Mutex::new(None),
            warmup_end_ns: AtomicU64::new(u64::MAX),
            produced_until: Mutex::new(None),
            last_arrival: Mutex::new(None),
            deadline,
        }
    }
}

/// Waits until each of `waiting` subscribers said it is ready, unless Ctrl+C stops the run.
async fn wait_ready(
    ready: &mut mpsc::Receiver<()>,
    mut waiting: u64,
    interrupts: &mut Interrupts,
    tally: &Tally,
    stop: &watch::Sender<bool>,
) {
    while waiting > 0 {
        tokio::select! {
            answer = ready.recv() => match answer {
                Some(()) => waiting -= 1,
                None => break,
            },
            () = interrupts.recv() => {
                tally.interrupted.store(true, Ordering::Relaxed);
                let _ = stop.send(true);
                break;
            }
        }
    }
}

/// The publishers, started over `--ramp-up` from `start`.
fn spawn_publishers(shared: &Arc<Shared>, start: Instant) -> Vec<tokio::task::JoinHandle<()>> {
    let run = &shared.settings.run;
    (0..run.clients)
        .map(|local| {
            let delay = run
                .ramp_up
                .mul_f64(f64::from(local) / f64::from(run.clients));
            tokio::spawn(publisher(local, start + delay, shared.clone()))
        })
        .collect()
}

/// Each subscriber, with its session's tasks, on a thread of its own: every message is a
/// hand-over between those tasks, and on one thread that costs no cross-core wake-up (the
/// subscriber is what limits a run at --rate max: 76 000 messages/s on the shared runtime,
/// 95 000 alone, on this 2-core machine). Each says on `ready` once subscribed (or given up).
fn spawn_subscribers(
    shared: &Arc<Shared>,
    count: u32,
    ready: &mpsc::Sender<()>,
) -> Result<Vec<tokio::sync::oneshot::Receiver<Option<Tracker>>>> {
    (0..count)
        .map(|index| {
            let (done, result) = tokio::sync::oneshot::channel();
            let shared = shared.clone();
            let ready = ready.clone();
            std::thread::Builder::new()
                .name(format!("bench-sub-{index}"))
                .spawn(move || {
                    let tracker = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()
                        .and_then(|runtime| runtime.block_on(subscriber(index, shared, ready)));
                    let _ = done.send(tracker);
                })
                .map(|_| result)
        })
        .collect::<Result<_, _>>()
        .context("starting a subscriber thread")
}

/// Expected, lost, duplicated and out of order: what every publisher sent against what each
/// subscriber's tracker saw.
fn count_delivery(
    report: &mut crate::measure::report::Report,
    shared: &Shared,
    trackers: &[Tracker],
) {
    let sent: Vec<u64> = shared
        .sent
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .collect();
    let offset = shared.settings.run.client_offset;
    report.messages.expected = sent.iter().sum::<u64>() * trackers.len() as u64;
    for tracker in trackers {
        for (local, count) in sent.iter().enumerate() {
            let unique = tracker.unique(offset + local as u32);
            report.messages.lost += count.saturating_sub(unique);
        }
        report.messages.duplicated += tracker.duplicated;
        report.messages.out_of_order += tracker.out_of_order;
    }
}

/// Waits for every task.
async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

fn describe(settings: &BenchPub) -> String {
    let rate = match settings.rate {
        Rate::Max => "as fast as flow control allows".to_string(),
        Rate::PerSecond(rate) => format!("{rate}/s each"),
    };
    format!(
        "{} publisher(s) {rate}, {} subscriber(s), QoS {}, {} bytes, topic {}",
        settings.run.clients,
        settings.subscribers,
        settings.qos as u8,
        settings.size,
        settings.topic
    )
}

/// Subscribes and waits for the SUBACK: `Err` if refused or the connection ended first.
async fn subscribed(session: &mut Session, filter: &str, qos: Qos) -> Result<()> {
    session.subscribe(&[filter.to_string()], qos).await?;
    loop {
        match session.next_event().await {
            Some(SessionEvent::Subscribed(results)) => {
                return match results.into_iter().next() {
                    Some(Ok(_)) => Ok(()),
                    Some(Err(reason)) => Err(failure(
                        ErrorKind::Rejected,
                        format!("subscribe refused: {reason}"),
                    )),
                    None => Err(failure(ErrorKind::Rejected, "an empty SUBACK")),
                };
            }
            Some(SessionEvent::Lost(err)) => return Err(err),
            None => return Err(closed()),
            Some(_) => {}
        }
    }
}

/// Subscriber `index` connected and subscribed, said on `ready` either way; `None` (counted
/// in the tally) if it could not.
async fn subscribed_session(
    index: u32,
    shared: &Shared,
    ready: mpsc::Sender<()>,
) -> Option<Session> {
    let settings = &shared.settings;
    let tally = &shared.tally;
    let connect = settings
        .run
        .client(&format!("sub-{index}"), settings.run.clients + index);
    let started = Instant::now();
    let connecting = Session::connect(&connect, SessionOptions::default());
    let connected = tally.settle(
        "subscriber",
        false,
        within(shared.deadline, connecting).await,
    );
    let Some(mut session) = connected else {
        let _ = ready.send(()).await;
        return None;
    };
    tally.connected_after(started.elapsed());
    let subscribed = subscribed(&mut session, &settings.filter, settings.qos);
    let subscribed = tally.settle(
        "subscriber",
        true,
        within(shared.deadline, subscribed).await,
    );
    let _ = ready.send(()).await;
    subscribed?;
    Some(session)
}

async fn subscriber(index: u32, shared: Arc<Shared>, ready: mpsc::Sender<()>) -> Option<Tracker> {
    let mut session = subscribed_session(index, &shared, ready).await?;
    let tally = &shared.tally;
    let mut tracker = Tracker::default();
    let mut drained = shared.drained.clone();
    let mut last_arrival = Instant::now();
    let mut draining_since: Option<Instant> = None;
    let mut counted_unique = 0u64;
    let mut last_counted: Option<Instant> = None;
    // Counted here and handed to the tally on each tick: the hot path takes no lock.
    let mut latency = Latency::default();
    let mut received_here = 0u64;
    let flush = |latency: &mut Latency, received_here: &mut u64| {
        tally
            .received
            .fetch_add(std::mem::take(received_here), Ordering::Relaxed);
        if !latency.is_empty() {
            tally.end_to_end.lock().expect("latency lock").add(latency);
            *latency = Latency::default();
        }
    };
    // Only this run's publishers count: another run on the same topics (shards, a second
    // process) has publishers of other indexes.
    let run = &shared.settings.run;
    let own = run.client_offset..run.client_offset.saturating_add(run.clients);
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            event = session.next_event() => match event {
                Some(SessionEvent::Message(received)) => {
                    last_arrival = Instant::now();
                    let Some(header) = Header::read(&received.message.payload) else {
                        continue;
                    };
                    if !own.contains(&header.publisher) {
                        continue;
                    }
                    if header.sent_ns < shared.warmup_end_ns.load(Ordering::Relaxed) {
                        continue;
                    }
                    let now = now_ns();
                    received_here += 1;
                    last_counted = Some(last_arrival);
                    let arrival = tracker.arrived(header.publisher, header.sequence, false);
                    if arrival != super::track::Arrival::Duplicate {
                        counted_unique += 1;
                    }
                    latency.record(now.saturating_sub(header.sent_ns) / 1000);
                }
                other => if tally.ended_by("subscriber", other.as_ref()) {
                    break;
                }
            },
            _ = drained.changed(), if draining_since.is_none() => {
                draining_since = Some(Instant::now());
            }
            // The run's end: what has not arrived is lost.
            () = crate::commands::sleep_until(shared.deadline.map(Into::into)) => break,
            _ = ticks.tick() => {
                flush(&mut latency, &mut received_here);
                let Some(since) = draining_since else { continue };
                let expected: u64 = shared.sent.iter().map(|c| c.load(Ordering::Relaxed)).sum();
                if counted_unique >= expected
                    || last_arrival.elapsed() >= DRAIN_IDLE
                    || since.elapsed() >= DRAIN_LIMIT
                {
                    break;
                }
            }
        }
    }
    flush(&mut latency, &mut received_here);
    if let Some(arrived) = last_counted {
        let mut last = shared.last_arrival.lock().expect("lock");
        *last = Some(last.map_or(arrived, |last| last.max(arrived)));
    }
    let closing = session.disconnect();
    let _ = within(shared.deadline, closing).await;
    Some(tracker)
}

async fn publisher(local: u32, start_at: Instant, shared: Arc<Shared>) {
    let settings = &shared.settings;
    let tally = &shared.tally;
    let mut stop = shared.stop.clone();
    tokio::select! {
        () = tokio::time::sleep_until(start_at.into()) => {}
        _ = stop.wait_for(|stop| *stop) => return,
    }
    let index = settings.run.client_offset + local;
    let connect = settings.run.client(&index.to_string(), local);
    let client_id = connect.client_id.clone();
    let started = Instant::now();
    let options = SessionOptions {
        max_inflight: crate::client::default_max_inflight(settings.qos),
        ..SessionOptions::default()
    };
    let connecting = Session::connect(&connect, options);
    let connected = tally.settle(
        "publisher",
        false,
        within(shared.deadline, connecting).await,
    );
    let Some(mut session) = connected else {
        return;
    };
    tally.connected_after(started.elapsed());
    let published = publish(local, index, &client_id, &mut session, &shared);
    if tally
        .settle("publisher", true, within(shared.deadline, published).await)
        .is_some()
    {
        let closed = within(shared.deadline, session.disconnect()).await;
        tally.settle("publisher", true, closed);
    }
}

/// What one publisher sends: its place among the clients, its topic, and when to stop.
struct Plan {
    local: u32,
    index: u32,
    topic: String,
    end: Option<Instant>,
    warmup_end: Instant,
}

impl Plan {
    /// Publisher `local` (`index` with the offset): its topic (`%i`, `%c` filled in), and the
    /// end: the warm-up's plus `--duration`, none with `--count` alone, else the default.
    fn new(local: u32, index: u32, client_id: &str, shared: &Shared) -> Plan {
        let settings = &shared.settings;
        let topic = settings
            .topic
            .replace("%i", &index.to_string())
            .replace("%c", client_id);
        let warmup_end = shared
            .warmup_end
            .lock()
            .expect("lock")
            .unwrap_or_else(Instant::now);
        let end = match (settings.run.duration, settings.count) {
            (Some(duration), _) => Some(warmup_end + duration),
            (None, Some(_)) => None,
            (None, None) => Some(warmup_end + DEFAULT_DURATION),
        };
        Plan {
            local,
            index,
            topic,
            end,
            warmup_end,
        }
    }
}

/// Publishes at the rate until the end, the count or the stop; says on `times` when each
/// message was meant to go out (and whether it counts). Returns how many were handed over.
async fn produce(
    plan: Plan,
    publisher: Publisher,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    times_tx: mpsc::UnboundedSender<(Instant, bool)>,
) -> u64 {
    let Plan {
        local,
        index,
        topic,
        end,
        warmup_end,
    } = plan;
    let settings = &shared.settings;
    let period = match settings.rate {
        Rate::PerSecond(rate) => Some(Duration::from_secs_f64(1.0 / rate)),
        Rate::Max => None,
    };
    let first = Instant::now();
    let mut sequence = 0u64;
    let mut counted = 0u64;
    loop {
        if *stop.borrow() || settings.count.is_some_and(|count| counted >= count) {
            break;
        }
        let intended = match period {
            Some(period) => first + period.mul_f64(sequence as f64),
            None => Instant::now(),
        };
        if end.is_some_and(|end| intended >= end) {
            break;
        }
        // On schedule: timed from when it goes out (the timer's own lag, up to a
        // millisecond, is ours, not the broker's). Behind schedule (held back by flow
        // control or a stalled broker): from when it was meant to go out, so that the
        // wait counts (no coordinated omission).
        let sent_at = if intended > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(intended.into()) => {}
                _ = stop.changed() => break,
            }
            Instant::now()
        } else {
            intended
        };
        // The same rule as the subscribers read from the header: counted from the end of
        // the warm-up on.
        let is_counted = sent_at >= warmup_end;
        let mut payload = BytesMut::zeroed(settings.size);
        Header {
            publisher: index,
            sequence,
            sent_ns: shared.clock.wall_ns(sent_at),
        }
        .write(&mut payload);
        let _ = times_tx.send((sent_at, is_counted));
        let message = Message::new(topic.clone(), payload.freeze(), settings.qos, false);
        if publisher.publish(message).await.is_err() {
            break;
        }
        sequence += 1;
        if is_counted {
            counted += 1;
            shared.tally.sent.fetch_add(1, Ordering::Relaxed);
            shared.sent[local as usize].fetch_add(1, Ordering::Relaxed);
        }
    }
    let mut until = shared.produced_until.lock().expect("lock");
    let now = Instant::now();
    *until = Some(until.map_or(now, |until| until.max(now)));
    sequence
}

/// Publishes at the rate until the end of the run or the count, and waits for the
/// acknowledgements owed (QoS 0: the writes). `Err` when the client could not finish.
async fn publish(
    local: u32,
    index: u32,
    client_id: &str,
    session: &mut Session,
    shared: &Arc<Shared>,
) -> Result<()> {
    let settings = &shared.settings;
    let tally = &shared.tally;
    let stop = shared.stop.clone();
    let (times_tx, mut times) = mpsc::unbounded_channel::<(Instant, bool)>();
    let plan = Plan::new(local, index, client_id, shared);
    let producer = tokio::spawn(produce(
        plan,
        session.publisher(),
        shared.clone(),
        stop.clone(),
        times_tx,
    ));
    tokio::pin!(producer);
    let mut producing = true;
    let mut handed_over = None;
    let mut completed = 0u64;
    let mut waiting_since = None::<Instant>;
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        if handed_over.is_some_and(|handed| completed >= handed) {
            break;
        }
        tokio::select! {
            event = session.next_event() => match event {
                Some(SessionEvent::Published(result)) => {
                    completed += 1;
                    if let Ok((intended, is_counted)) = times.try_recv()
                        && is_counted
                    {
                        match result {
                            Ok(()) => {
                                tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                                if settings.qos != Qos::AtMostOnce {
                                    Tally::record(&tally.ack, intended.elapsed());
                                }
                            }
                            Err(refused) => tally.error(format!("publish refused: {refused}")),
                        }
                    }
                }
                Some(SessionEvent::Reconnected { .. }) => {
                    tally.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                Some(SessionEvent::Lost(err)) => return Err(err),
                None => return Err(closed()),
                Some(_) => {}
            },
            handed = &mut producer, if producing => {
                producing = false;
                handed_over = Some(handed.unwrap_or(0));
                waiting_since = Some(Instant::now());
            }
            _ = ticks.tick(), if waiting_since.is_some() => {
                let grace = if *stop.borrow() { Duration::from_secs(2) } else { ACK_GRACE };
                if waiting_since.is_some_and(|since| since.elapsed() >= grace) {
                    let owed = handed_over.unwrap_or(0).saturating_sub(completed);
                    return Err(failure(
                        ErrorKind::Timeout,
                        format!("{owed} acknowledgement(s) never arrived"),
                    ));
                }
            }
        }
    }
    Ok(())
}
