//! `mqtt-cli pub`: publishes and exits only when every message is acknowledged.
//!
//! A producer task feeds the session (fixed payloads in a cycle, or stdin lines read by a thread
//! in batches); this task counts completions (QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP) and
//! disconnects once the count matches what was handed over. Ctrl+C stops the producer, never the
//! acknowledgements already owed.

use std::io::{self, IsTerminal, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, watch};
use tokio::time::{Interval, MissedTickBehavior};
use tracing::info;

use crate::client::{Message, Publisher, Qos, Session, SessionEvent, SessionOptions};
use crate::commands::{Interrupts, sleep_until};
use crate::error::{ErrorKind, failure, usage};
use crate::payload::Encoder;
use crate::settings::{MAX_PACKET_SIZE, Payloads, PubSettings};

/// How much of stdin is read at once.
const READ_CHUNK: usize = 64 * 1024;

/// What the producer did: how many messages it handed to the session, and why it stopped early.
struct Produced {
    sent: u64,
    error: Option<anyhow::Error>,
}

pub async fn run(settings: PubSettings) -> Result<()> {
    let mut interrupts = Interrupts::listen()?;
    let options = SessionOptions {
        max_inflight: settings.max_inflight,
        ..SessionOptions::default()
    };
    let mut session = Session::connect(&settings.connect, options).await?;
    check_topic_alias(&session, &settings)?;
    let template = Message {
        properties: settings.properties.clone(),
        ..Message::new(
            settings.topic.clone(),
            Bytes::new(),
            settings.qos,
            settings.retain,
        )
    };
    let (stop, stopped) = watch::channel(false);
    // How many publishes are complete, for a replay that must keep the recorded order across
    // QoS levels (a broker forwards a QoS 2 message later than a QoS 0 one sent after it).
    let (completed, completions) = watch::channel(0u64);
    let in_order = matches!(settings.payloads, Payloads::Replay(_));
    // QoS 0 has no acknowledgement: a message is done once written (and the broker's close
    // confirms it read it).
    let done = match (&settings.payloads, settings.qos) {
        (Payloads::Replay(_), _) => "completed",
        (_, Qos::AtMostOnce) => "written",
        _ => "acknowledged",
    };
    // The largest packet the broker takes: its CONNACK's Maximum Packet Size (MQTT 5), or the
    // protocol's (fixed header included).
    let max_packet = session
        .info
        .announced
        .maximum_packet_size
        .map_or(MAX_PACKET_SIZE + 5, |size| size as usize);
    let handed_over = Arc::new(AtomicU64::new(0));
    let progress = (settings.progress && io::stderr().is_terminal())
        .then(|| Progress::new(handed_over.clone(), done));
    let feed = Feed {
        publisher: session.publisher(),
        pacer: Pacer::new(settings.interval),
        stop: stopped,
        sent: 0,
        handed_over,
        max_packet,
        encoder: match &settings.payloads {
            Payloads::Cycle { encode, .. } | Payloads::Lines { encode } => {
                encode.clone().map(Encoder::new)
            }
            Payloads::Replay(_) => None,
        },
    };
    let mut producer = tokio::spawn(produce(settings.payloads, template, feed, completions));
    let mut acks = Acks {
        topic: &settings.topic,
        done,
        in_order: in_order.then_some(completed),
        progress,
        acknowledged: 0,
        total: None,
        producer_error: None,
        grace_until: None,
    };
    while acks.owed() {
        // `biased`: events first; the other branches cost nothing while events keep coming.
        tokio::select! {
            biased;
            event = session.next_event() => acks.event(event)?,
            produced = &mut producer, if acks.total.is_none() => {
                let produced = produced.context("the message producer failed")?;
                acks.total = Some(produced.sent);
                acks.producer_error = produced.error;
            }
            () = interrupts.recv() => acks.interrupted(&stop, settings.qos)?,
            () = sleep_until(acks.grace_until) => return Err(acks.out_of_grace()),
        }
    }
    acks.close(session).await
}

/// A CONNACK without Topic Alias Maximum allows none (MQTT 5 §3.2.2.3.8).
fn check_topic_alias(session: &Session, settings: &PubSettings) -> Result<()> {
    let maximum = session.info.announced.topic_alias_maximum.unwrap_or(0);
    match settings.properties.topic_alias {
        Some(alias) if alias > maximum => Err(failure(
            ErrorKind::Rejected,
            format!(
                "--topic-alias {alias} is over the broker's topic alias maximum of {maximum} (from its CONNACK)"
            ),
        )),
        _ => Ok(()),
    }
}

/// The wait for what the messages handed over are owed: acknowledgements (QoS 0: the writes),
/// until the producer has ended and every one came, or Ctrl+C's grace ran out.
struct Acks<'a> {
    topic: &'a str,
    /// What a message is once done: `acknowledged`, `written` (QoS 0), `completed` (replay).
    done: &'static str,
    /// A replay's count of completions, for the producer to keep the recorded order.
    in_order: Option<watch::Sender<u64>>,
    progress: Option<Progress>,
    acknowledged: u64,
    /// How many the producer handed over, once it ended.
    total: Option<u64>,
    producer_error: Option<anyhow::Error>,
    /// Set at the first Ctrl+C: how long the acknowledgements still owed may take.
    grace_until: Option<tokio::time::Instant>,
}

impl Acks<'_> {
    fn owed(&self) -> bool {
        self.total.is_none_or(|total| self.acknowledged < total)
    }

    fn event(&mut self, event: Option<SessionEvent>) -> Result<()> {
        let lost = match event {
            Some(SessionEvent::Published(Ok(()))) => {
                self.acknowledged += 1;
                if let Some(completed) = &self.in_order {
                    completed.send_replace(self.acknowledged);
                }
                if let Some(progress) = &mut self.progress {
                    progress.acknowledged(self.acknowledged);
                }
                return Ok(());
            }
            Some(SessionEvent::Published(Err(reason))) => failure(
                ErrorKind::Rejected,
                format!("the broker refused a message: {reason}"),
            ),
            Some(SessionEvent::Lost(err)) => err,
            Some(_) => return Ok(()),
            None => failure(ErrorKind::Lost, "connection lost"),
        };
        Err(lost).with_context(|| lost_context(self.topic, self.acknowledged, self.done))
    }

    /// Ctrl+C: the producer stops and what is owed has `ACK_GRACE`; a second one leaves now.
    fn interrupted(&mut self, stop: &watch::Sender<bool>, qos: Qos) -> Result<()> {
        let (acknowledged, done) = (self.acknowledged, self.done);
        if self.grace_until.is_some() {
            // A second Ctrl+C: leave now, as a shell expects.
            return Err(failure(
                ErrorKind::Interrupted,
                format!(
                    "interrupted twice: {acknowledged} message(s) {done}, the rest not waited for"
                ),
            ));
        }
        self.grace_until = Some(tokio::time::Instant::now() + ACK_GRACE);
        let _ = stop.send(true);
        let owed = if qos == Qos::AtMostOnce && self.in_order.is_none() {
            "the messages handed over to be written"
        } else {
            "the acknowledgements owed"
        };
        info!(
            "interrupted: waiting up to {} for {owed} (Ctrl+C again to leave now)",
            humantime::format_duration(ACK_GRACE)
        );
        Ok(())
    }

    fn out_of_grace(&self) -> anyhow::Error {
        failure(
            ErrorKind::Timeout,
            format!(
                "interrupted: {} message(s) {}; the rest were not within {}",
                self.acknowledged,
                self.done,
                humantime::format_duration(ACK_GRACE)
            ),
        )
    }

    /// Everything owed came: the close (which confirms QoS 0's writes were read), then what
    /// stopped the producer early, if anything.
    async fn close(mut self, session: Session) -> Result<()> {
        // The live line is gone before anything else is said.
        self.progress = None;
        let acknowledged = self.acknowledged;
        session.disconnect().await.with_context(|| {
            format!("{acknowledged} message(s) published, but not all surely taken")
        })?;
        if self.grace_until.is_some() {
            if self.done == "written" {
                info!(
                    "interrupted: {acknowledged} message(s) published (QoS 0: written, and read by the broker, as its close confirmed)"
                );
            } else {
                info!(
                    "interrupted: {acknowledged} message(s) published and {}",
                    self.done
                );
            }
        }
        self.producer_error.map_or(Ok(()), Err)
    }
}

/// The live line of a long run on a terminal: sent, acknowledged, in flight, rate. Cleared when
/// dropped (the end of the run, or an error about to be printed).
struct Progress {
    bar: indicatif::ProgressBar,
    sent: Arc<AtomicU64>,
    shown: Instant,
}

impl Progress {
    fn new(sent: Arc<AtomicU64>, done: &str) -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::stderr_with_hz(10),
        )
        .with_finish(indicatif::ProgressFinish::AndClear);
        if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} sent {{msg}}, {done} {{pos}} ({{rate}} messages/s)"
        )) {
            bar.set_style(style.with_key(
                "rate",
                |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{:.0}", state.per_sec());
                },
            ));
        }
        bar.set_message("0, in flight 0");
        bar.enable_steady_tick(Duration::from_millis(200));
        // Drawn at once, not at the first tick.
        bar.tick();
        Progress {
            bar,
            sent,
            shown: Instant::now(),
        }
    }

    fn acknowledged(&mut self, acknowledged: u64) {
        self.bar.set_position(acknowledged);
        if self.shown.elapsed() >= Duration::from_millis(100) {
            self.shown = Instant::now();
            let sent = self.sent.load(Ordering::Relaxed);
            let in_flight = sent.saturating_sub(acknowledged);
            self.bar
                .set_message(format!("{sent}, in flight {in_flight}"));
        }
    }
}

/// After Ctrl+C, how long `pub` waits for the acknowledgements still owed.
const ACK_GRACE: Duration = Duration::from_secs(10);

fn lost_context(topic: &str, acknowledged: u64, done: &str) -> String {
    if topic.is_empty() {
        format!("replaying ({acknowledged} message(s) {done} before)")
    } else {
        format!("publishing to '{topic}' ({acknowledged} message(s) {done} before)")
    }
}

async fn produce(
    payloads: Payloads,
    template: Message,
    mut feed: Feed,
    completions: watch::Receiver<u64>,
) -> Produced {
    let error = feed_all(&mut feed, payloads, template, completions)
        .await
        .err();
    Produced {
        sent: feed.sent,
        error,
    }
}

/// Hands every message over, until the input ends, Ctrl+C, or an error.
async fn feed_all(
    feed: &mut Feed,
    payloads: Payloads,
    template: Message,
    mut completions: watch::Receiver<u64>,
) -> Result<()> {
    let message = |payload: Bytes| Message {
        payload,
        ..template.clone()
    };
    match payloads {
        Payloads::Cycle {
            payloads, repeat, ..
        } => {
            let mut round = 0;
            while repeat == 0 || round < repeat {
                for payload in &payloads {
                    let payload = match &mut feed.encoder {
                        // Checked before connecting: only `seq` and timestamps change.
                        Some(encoder) => Bytes::from(
                            encoder
                                .encode(&template.topic, payload)
                                .map_err(|why| usage(format!("--encode: {why}")))?,
                        ),
                        None => payload.clone(),
                    };
                    if !feed.send(message(payload)).await? {
                        return Ok(());
                    }
                }
                round += 1;
            }
        }
        Payloads::Replay(messages) => {
            // Each message is due at its recorded time from the first one's: gaps shorter than
            // the timer's millisecond go out together instead of a millisecond each (a capture
            // of 10,000 messages a second once replayed at 800).
            let mut due = tokio::time::Instant::now();
            for (delay, message) in messages {
                due += delay;
                // One at a time: the previous message is complete before the next goes out.
                let sent = feed.sent;
                let previous_done =
                    async { completions.wait_for(|done| *done >= sent).await.is_ok() };
                if !feed.unless_stopped(previous_done).await.unwrap_or(false)
                    || feed
                        .unless_stopped(tokio::time::sleep_until(due))
                        .await
                        .is_none()
                    || !feed.send(message).await?
                {
                    return Ok(());
                }
            }
        }
        Payloads::Lines { .. } => feed_lines(feed, &template).await?,
    }
    Ok(())
}

/// `-l`: each line of stdin a message, each checked against the payload format and the
/// largest packet as it comes (the lines before a bad one are sent, and the error says so).
async fn feed_lines(feed: &mut Feed, template: &Message) -> Result<()> {
    let (lines_tx, mut lines) = mpsc::channel(4);
    std::thread::spawn(move || read_lines(lines_tx));
    let utf8_only = template.properties.payload_format_indicator == Some(1);
    // Fixed header (at most 5 bytes), topic with its length, packet id, and on MQTT 5
    // at least the property length.
    let overhead = 5 + 2 + template.topic.len() + 2 + 1;
    let mut lines_read = 0u64;
    loop {
        let batch = match feed.unless_stopped(lines.recv()).await {
            Some(Some(batch)) => batch,
            // Input ended: a closed or empty stdin is a broken pipeline, not success.
            Some(None) if lines_read == 0 => {
                return Err(usage(
                    "standard input (-l) is empty or closed: no lines, nothing published",
                ));
            }
            Some(None) | None => break,
        };
        let batch = match batch {
            Ok(batch) => batch,
            Err(err) if err.get_ref().is_some_and(|inner| inner.is::<LineTooLong>()) => {
                return Err(usage(format!("{err} (the lines before it were sent)")));
            }
            Err(err) => return Err(err).context("reading standard input"),
        };
        for line in batch {
            lines_read += 1;
            let line = match &mut feed.encoder {
                Some(encoder) => match encoder.encode(&template.topic, &line) {
                    Ok(encoded) => Bytes::from(encoded),
                    Err(why) => {
                        return Err(usage(format!(
                            "line {lines_read} of standard input: {why} (the lines before it were sent)"
                        )));
                    }
                },
                None => line,
            };
            if utf8_only && std::str::from_utf8(&line).is_err() {
                return Err(usage(format!(
                    "line {lines_read} of standard input is not UTF-8 text, but --payload-format says utf8 (the lines before it were sent)",
                )));
            }
            let size = line.len() + overhead;
            let max_packet = feed.max_packet;
            if size > max_packet {
                return Err(usage(format!(
                    "line {lines_read} of standard input makes a {size}-byte packet, over {} of {max_packet} bytes (the lines before it were sent)",
                    if max_packet == MAX_PACKET_SIZE + 5 {
                        "MQTT's maximum packet size"
                    } else {
                        "the broker's maximum packet size (from its CONNACK)"
                    }
                )));
            }
            if !feed
                .send(Message {
                    payload: line,
                    ..template.clone()
                })
                .await?
            {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The producer's side of the session: paces, hands messages over, counts them, and gives way
/// to Ctrl+C.
struct Feed {
    publisher: Publisher,
    pacer: Pacer,
    stop: watch::Receiver<bool>,
    sent: u64,
    /// `sent`, for the live line.
    handed_over: Arc<AtomicU64>,
    /// The largest packet the broker takes.
    max_packet: usize,
    /// `--encode`, for what is encoded as it is sent (`-l` lines, Sparkplug).
    encoder: Option<Encoder>,
}

impl Feed {
    /// Waits for the pace and hands one message over. `Ok(false)`: stopped before it was sent.
    async fn send(&mut self, message: Message) -> Result<bool> {
        if *self.stop.borrow() {
            return Ok(false);
        }
        // `biased`: the work is polled first, so the stop signal costs nothing while the work
        // is ready at once (the common case when publishing fast).
        tokio::select! {
            biased;
            () = self.pacer.wait() => {}
            _ = self.stop.changed() => return Ok(false),
        }
        let handed_over = tokio::select! {
            biased;
            sent = self.publisher.publish(message) => sent.map(|()| true),
            _ = self.stop.changed() => Ok(false),
        }?;
        if handed_over {
            self.sent += 1;
            self.handed_over.store(self.sent, Ordering::Relaxed);
        }
        Ok(handed_over)
    }

    /// `work`'s output, or `None` when Ctrl+C came first.
    async fn unless_stopped<T>(&mut self, work: impl std::future::Future<Output = T>) -> Option<T> {
        if *self.stop.borrow() {
            return None;
        }
        tokio::select! {
            biased;
            output = work => Some(output),
            _ = self.stop.changed() => None,
        }
    }
}

/// `--interval`: a steady rhythm from the first message (no drift), or no waiting at all.
struct Pacer(Option<Interval>);

impl Pacer {
    fn new(interval: Option<Duration>) -> Pacer {
        Pacer(interval.map(|period| {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        }))
    }

    async fn wait(&mut self) {
        if let Some(ticks) = &mut self.0 {
            ticks.tick().await;
        }
    }
}

/// A line longer than any MQTT packet, found before its end was read (its line number).
#[derive(Debug)]
struct LineTooLong(u64);

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} of standard input is longer than the largest MQTT packet ({MAX_PACKET_SIZE} bytes)",
            self.0
        )
    }
}

impl std::error::Error for LineTooLong {}

/// Reads stdin on a thread of its own (stdin blocks) and hands lines over in batches: whatever is
/// already read goes out before the next read, so `tail -f` lines are not held back. Lines are
/// slices of the read buffer, not copies.
fn read_lines(batches: mpsc::Sender<io::Result<Vec<Bytes>>>) {
    let mut stdin = io::stdin().lock();
    let mut buffer = BytesMut::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    // How much of `buffer` is known to hold no newline: each byte is looked at once, so a very
    // long line costs linear time, not a rescan per read.
    let mut scanned = 0;
    let mut lines = 0u64;
    loop {
        let mut batch = Vec::new();
        while let Some(offset) = buffer[scanned..].iter().position(|&byte| byte == b'\n') {
            let end = scanned + offset;
            scanned = 0;
            let mut line = buffer.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            batch.push(line.freeze());
        }
        scanned = buffer.len();
        lines += batch.len() as u64;
        if !batch.is_empty() && batches.blocking_send(Ok(batch)).is_err() {
            return;
        }
        if buffer.len() > MAX_PACKET_SIZE {
            let _ = batches.blocking_send(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                LineTooLong(lines + 1),
            )));
            return;
        }
        match stdin.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                let _ = batches.blocking_send(Err(err));
                return;
            }
        }
    }
    // The last line may lack its newline.
    if !buffer.is_empty() {
        let _ = batches.blocking_send(Ok(vec![buffer.freeze()]));
    }
}
