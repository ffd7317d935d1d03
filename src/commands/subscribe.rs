//! `mqtt-cli sub`: prints messages until Ctrl+C, `-C` messages, or the `-W` deadline (which
//! bounds the whole run, connecting and closing included).
//! `--retained-only` ends at the first live message or after a quiet spell; `--remove-retained`
//! clears each retained message it sees, waits for those clears to be acknowledged, and then
//! subscribes again to verify that none is left (clearing again what is). Our own clears coming
//! back as live messages never end the run nor count for `-C` (`--retained-only` does not show
//! them; otherwise they are shown, as mosquitto_sub shows them).
//!
//! With a persistent session and `-C`, messages are acknowledged only once printed, so a message
//! that arrives after the last one wanted stays with the broker for the next run instead of being
//! acknowledged and dropped.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::ops::ControlFlow::{self, Break, Continue};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use tokio::time::Instant;

use crate::client::{
    Message, Qos, Received, Session, SessionEvent, SessionOptions, SubscribeOptions,
};
use crate::commands::{Interrupts, close_within, connect_within, sleep_until, within};
use crate::error::{ErrorKind, failure};
use crate::output::Printer;
use crate::output::live::{Asked, Live};
use crate::output::screen::{Input, Screen};
use crate::payload::{Decoded, Decoder};
use crate::settings::SubSettings;
use crate::topic::filter_matches;

/// `--retained-only` ends when no retained message came for this long.
const RETAINED_QUIET: Duration = Duration::from_millis(500);
/// How long `--remove-retained` waits for its clears to be acknowledged and verified (without
/// `-W`).
const CLEAR_WAIT: Duration = Duration::from_secs(10);
/// How many times `--remove-retained` subscribes again to find what is still retained.
const VERIFY_ROUNDS: u32 = 5;
/// A verifying round ends when no retained message came for this long after its SUBACK
/// (brokers send them right after it).
const VERIFY_QUIET: Duration = Duration::from_millis(200);
/// With -W, clearing and verifying end this long after the deadline (the close after them
/// within [`crate::commands::CLOSE_MARGIN`]).
const VERIFY_MARGIN: Duration = Duration::from_millis(700);

/// `--remove-retained`'s clears: how many are sent and done, and the topics whose clear may
/// still come back to us as a live message (the broker forwards it to matching subscribers).
#[derive(Default)]
struct Clears {
    sent: u64,
    done: u64,
    echoes: HashMap<String, u32>,
}

impl Clears {
    /// Clears `topic`'s retained message (an empty retained QoS 1 publish).
    fn clear(&mut self, session: &Session, topic: &str) {
        let clear = Message::new(topic.to_string(), Bytes::new(), Qos::AtLeastOnce, true);
        session.publish_in_background(clear);
        self.sent += 1;
        *self.echoes.entry(topic.to_string()).or_default() += 1;
    }

    /// Whether `message` is one of our clears coming back (empty, on a topic we cleared).
    fn is_echo(&mut self, message: &Message) -> bool {
        if !message.payload.is_empty() {
            return false;
        }
        match self.echoes.get_mut(&message.topic) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }

    /// Waits until every clear sent is acknowledged.
    async fn confirmed(&mut self, session: &mut Session) -> Result<()> {
        while self.done < self.sent {
            match session.next_event().await {
                Some(SessionEvent::Published(Ok(()))) => self.done += 1,
                Some(SessionEvent::Published(Err(reason))) => return Err(clear_refused(&reason)),
                Some(SessionEvent::Message(received)) => {
                    self.is_echo(&received.message);
                    session.ack(&received);
                }
                Some(SessionEvent::Lost(err)) => return Err(err),
                Some(_) => {}
                None => return Err(failure(ErrorKind::Lost, "connection lost")),
            }
        }
        Ok(())
    }
}

/// Whether `-T` or `--match` keep a message out: such messages are neither printed nor cleared
/// (mosquitto_sub's --help: use -T to keep a topic's retained message).
fn filtered_out(settings: &SubSettings, message: &Message) -> bool {
    settings
        .shown
        .filter_out
        .iter()
        .any(|filter| filter_matches(filter, &message.topic))
        || settings
            .printing
            .payload_match
            .as_ref()
            .is_some_and(|regex| !regex.is_match(&message.payload))
}

/// After `--remove-retained`: subscribes again (a subscription is sent the retained messages it
/// matches) and clears what is still retained, until a round finds none; after
/// [`VERIFY_ROUNDS`] rounds, exit 6 naming what stayed.
async fn verify_cleared(
    session: &mut Session,
    settings: &SubSettings,
    clears: &mut Clears,
) -> Result<()> {
    let options = SubscribeOptions {
        retain_handling: 0,
        ..settings.subscribe
    };
    let mut left = BTreeSet::new();
    for _ in 0..VERIFY_ROUNDS {
        session.subscribe(&settings.filters, options).await?;
        left.clear();
        let mut quiet_until: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                event = session.next_event() => match event {
                    Some(SessionEvent::Subscribed(_)) => {
                        quiet_until = Some(Instant::now() + VERIFY_QUIET);
                    }
                    Some(SessionEvent::Message(received)) => {
                        let message = &received.message;
                        if !clears.is_echo(message)
                            && message.retain
                            && !message.payload.is_empty()
                            && !filtered_out(settings, message)
                        {
                            left.insert(message.topic.clone());
                            clears.clear(session, &message.topic);
                            if quiet_until.is_some() {
                                quiet_until = Some(Instant::now() + VERIFY_QUIET);
                            }
                        }
                        session.ack(&received);
                    }
                    Some(SessionEvent::Published(Ok(()))) => clears.done += 1,
                    Some(SessionEvent::Published(Err(reason))) => return Err(clear_refused(&reason)),
                    Some(SessionEvent::Lost(err)) => return Err(err),
                    Some(_) => {}
                    None => return Err(failure(ErrorKind::Lost, "connection lost")),
                },
                () = sleep_until(quiet_until) => break,
            }
        }
        clears.confirmed(session).await?;
        if left.is_empty() {
            return Ok(());
        }
    }
    let topics: Vec<_> = left.iter().map(|topic| format!("'{topic}'")).collect();
    Err(failure(
        ErrorKind::Rejected,
        format!(
            "--remove-retained: {} retained message(s) still there after clearing {VERIFY_ROUNDS} times: {}",
            left.len(),
            topics.join(", ")
        ),
    ))
}

pub async fn run(settings: SubSettings) -> Result<()> {
    let mut interrupts = Interrupts::listen()?;
    // -W bounds the whole run: connecting, the messages, and the close.
    let deadline = settings.timeout.map(|timeout| Instant::now() + timeout);
    // A QoS 1/2 message is acknowledged once its output is queued: a stalled reader then holds
    // messages at the broker (its in-flight window) instead of in our memory, and with a
    // persistent session and -C a message after the last one wanted stays there for the next run.
    let options = SessionOptions {
        manual_acks: true,
        ..SessionOptions::default()
    };
    let session = connect_within(&settings.connect, options, deadline, settings.timeout).await?;
    let mut watch = Watch::start(&settings, session).await?;
    let output_failed = watch.printer.failure();
    tokio::pin!(output_failed);
    // --stats' live line is redrawn every second, messages or not.
    let mut redraw = tokio::time::interval(Duration::from_secs(1));
    redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // --watch's screen: at most 10 frames a second, however fast messages come.
    // --message-rate: a line at the end of each second.
    let mut rate = tokio::time::interval_at(
        Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let outcome = loop {
        // `biased`: events first; the other branches cost nothing while events keep coming.
        let flow = tokio::select! {
            biased;
            event = watch.session.next_event() => watch.on_event(event).await?,
            () = sleep_until(watch.acks.due) => Break(Err(watch.acks.owed(&settings))),
            () = sleep_until(deadline) => Break(watch.at_deadline()),
            () = sleep_until(watch.quiet_until) => Break(Ok(())),
            _ = redraw.tick(), if watch.stats.is_some() => {
                if let Some(stats) = &mut watch.stats {
                    stats.refresh();
                }
                Continue(())
            }
            _ = rate.tick(), if watch.rate.is_some() => {
                watch.rate_line()?;
                Continue(())
            }
            _ = frame.tick(), if watch.view.as_ref().is_some_and(View::on_screen) => {
                watch.draw()?;
                Continue(())
            }
            input = View::input(&mut watch.view) => watch.on_input(input)?,
            () = interrupts.recv() => Break(Ok(())),
            () = &mut output_failed => Break(Err(
                anyhow::Error::new(watch.printer.error()).context("writing to standard output")
            )),
        };
        if let Break(outcome) = flow {
            break outcome;
        }
    };
    watch.finish(outcome, deadline).await
}

/// What a `sub` run keeps while it watches: a method per event.
struct Watch<'a> {
    settings: &'a SubSettings,
    session: Session,
    printer: Printer,
    acks: OwedAcks,
    /// --retained-only: set at SUBACK, pushed back by each retained message.
    quiet_until: Option<Instant>,
    clears: Clears,
    printed: u64,
    stats: Option<crate::commands::stats::Stats>,
    decoder: Decoder,
    /// `--watch`.
    view: Option<View>,
    /// `--message-rate`: the messages since its last line.
    rate: Option<u64>,
}

/// `--watch`: the topics seen, and the terminal they are drawn on (none when standard output
/// is not a terminal: the table is printed at the end).
struct View {
    live: Live,
    screen: Option<Screen>,
}

impl View {
    fn on_screen(&self) -> bool {
        self.screen.is_some()
    }

    /// Lays the view out for the terminal's size now and draws it (nothing in a pipe).
    fn frame(&mut self) -> Result<()> {
        if let Some(screen) = &mut self.screen {
            let now = std::time::Instant::now();
            let lines = self.live.screen(screen.width(), screen.height(), now);
            screen.draw(&lines).context("writing to the terminal")?;
        }
        Ok(())
    }

    /// The next key or resize; never, without a screen.
    async fn input(view: &mut Option<View>) -> Input {
        match view.as_mut().and_then(|view| view.screen.as_mut()) {
            Some(screen) => screen.next().await,
            None => std::future::pending().await,
        }
    }
}

/// The time between two frames of `--watch`.
const FRAME: Duration = Duration::from_millis(100);

/// The SUBACK and UNSUBACKs owed: a broker that never sends one must not keep us waiting (for
/// ever without -W, or past it with exit 0): -W, or ACK_WAIT, bounds them.
struct OwedAcks {
    suback: bool,
    unsubacks: usize,
    due: Option<Instant>,
    wait: Duration,
}

impl OwedAcks {
    fn any(&self) -> bool {
        self.suback || self.unsubacks > 0
    }

    fn settle(&mut self) {
        if !self.any() {
            self.due = None;
        }
    }

    fn owed(&self, settings: &SubSettings) -> anyhow::Error {
        owed_acks(settings, self.unsubacks, self.suback, self.wait)
    }
}

type Flow = ControlFlow<Result<()>>;

impl<'a> Watch<'a> {
    /// Unsubscribes (-U) and subscribes (-t); messages that arrive meanwhile are printed like
    /// any other.
    async fn start(settings: &'a SubSettings, mut session: Session) -> Result<Watch<'a>> {
        session.unsubscribe(&settings.unsubscribe).await?;
        if !settings.filters.is_empty() {
            session
                .subscribe(&settings.filters, settings.subscribe)
                .await?;
        }
        let wait = settings.timeout.unwrap_or(ACK_WAIT);
        let mut acks = OwedAcks {
            suback: !settings.filters.is_empty(),
            unsubacks: settings.unsubscribe.len(),
            due: Some(Instant::now() + wait),
            wait,
        };
        acks.settle();
        Ok(Watch {
            settings,
            session,
            printer: if settings.watch.is_some() || settings.message_rate {
                Printer::none(settings.printing.format.clone())
            } else {
                Printer::stdout(settings.printing.format.clone(), settings.printing.newline)
            },
            rate: settings.message_rate.then_some(0),
            acks,
            quiet_until: None,
            clears: Clears::default(),
            printed: 0,
            stats: settings.stats.then(crate::commands::stats::Stats::start),
            decoder: Decoder::new(settings.printing.decode.clone()),
            view: match settings.watch {
                None => None,
                Some(sort) => Some(View {
                    live: Live::new(sort),
                    screen: if std::io::stdout().is_terminal() {
                        Some(Screen::open().context("--watch: cannot take over the terminal")?)
                    } else {
                        None
                    },
                }),
            },
        })
    }

    /// A frame of `--watch` (not while paused).
    fn draw(&mut self) -> Result<()> {
        match &mut self.view {
            Some(view) if !view.live.paused() => view.frame(),
            _ => Ok(()),
        }
    }

    /// A key or a resize in `--watch`.
    fn on_input(&mut self, input: Input) -> Result<Flow> {
        let Some(view) = &mut self.view else {
            return Ok(Continue(()));
        };
        let asked = match input {
            Input::Key(key) => view.live.key(key),
            Input::Resized => Asked::Redraw,
            Input::Closed => Asked::Quit,
        };
        match asked {
            Asked::Quit => Ok(Break(Ok(()))),
            Asked::Redraw => view.frame().map(|()| Continue(())),
            Asked::Nothing => Ok(Continue(())),
        }
    }

    /// `Err` only for output that cannot be written (the run ends at once).
    async fn on_event(&mut self, event: Option<SessionEvent>) -> Result<Flow> {
        Ok(match event {
            Some(SessionEvent::Subscribed(granted)) => self.on_subscribed(&granted),
            Some(SessionEvent::Message(received)) => return self.on_message(&received).await,
            Some(SessionEvent::Published(Ok(()))) => {
                self.clears.done += 1;
                Continue(())
            }
            Some(SessionEvent::Published(Err(reason))) => Break(Err(clear_refused(&reason))),
            Some(SessionEvent::Unsubscribed(Err(reason))) => Break(Err(failure(
                ErrorKind::Rejected,
                format!("the broker refused to unsubscribe: {reason}"),
            ))),
            Some(SessionEvent::Unsubscribed(Ok(()))) => {
                self.acks.unsubacks = self.acks.unsubacks.saturating_sub(1);
                self.acks.settle();
                if self.acks.unsubacks == 0 && self.settings.filters.is_empty() {
                    Break(Ok(()))
                } else {
                    Continue(())
                }
            }
            // The client layer subscribed again if the broker lost the session.
            Some(SessionEvent::Reconnected { .. }) => Continue(()),
            Some(SessionEvent::Lost(err)) => Break(Err(err)),
            None => Break(Err(failure(ErrorKind::Lost, "connection lost"))),
        })
    }

    fn on_subscribed(&mut self, granted: &[Result<Qos, crate::client::Reason>]) -> Flow {
        self.acks.suback = false;
        self.acks.settle();
        if let Some((filter, Err(reason))) = self
            .settings
            .filters
            .iter()
            .zip(granted)
            .find(|(_, granted)| granted.is_err())
        {
            return Break(Err(failure(
                ErrorKind::Rejected,
                format!("the broker refused the subscription to '{filter}': {reason}"),
            )));
        }
        if self.settings.exit_on_subscribe {
            return Break(Ok(()));
        }
        if self.settings.retained_only {
            self.quiet_until = Some(Instant::now() + RETAINED_QUIET);
        }
        Continue(())
    }

    async fn on_message(&mut self, received: &Received) -> Result<Flow> {
        let settings = self.settings;
        // Our own clear, forwarded back: it never ends the run nor counts for -C. Shown as
        // mosquitto_sub shows it (the broker did send it), except by --retained-only, which
        // shows retained messages only.
        if self.clears.is_echo(&received.message) {
            if !settings.retained_only {
                self.print(received, &Decoded::Raw).await?;
            }
            self.session.ack(received);
            return Ok(Continue(()));
        }
        let retained = received.message.retain;
        if settings.retained_only && !retained {
            return Ok(Break(Ok(())));
        }
        if retained && self.quiet_until.is_some() {
            self.quiet_until = Some(Instant::now() + RETAINED_QUIET);
        }
        // -T and --match choose what is cleared exactly as they choose what is printed; -R
        // hides retained messages from the output only.
        let filtered_out = filtered_out(settings, &received.message);
        if retained
            && settings.remove_retained
            && !filtered_out
            && !received.message.payload.is_empty()
        {
            self.clears.clear(&self.session, &received.message.topic);
        }
        let unpicked = settings
            .shown
            .random_filter
            .is_some_and(|percent| fastrand::f64() * 100.0 >= percent);
        // Decoded before -R and --random-filter choose: Sparkplug learns from every BIRTH.
        let decoded = if filtered_out {
            Decoded::Raw
        } else {
            self.decoded(received)
        };
        if !(filtered_out || (settings.shown.no_retained && retained) || unpicked) {
            self.print(received, &decoded).await?;
            self.printed += 1;
            if let Some(stats) = &mut self.stats {
                stats.record(&received.message.topic, received.message.payload.len());
            }
        }
        self.session.ack(received);
        if settings.count == Some(self.printed) {
            return Ok(Break(Ok(())));
        }
        if self.session.is_idle() {
            self.printer
                .flush()
                .await
                .context("writing to standard output")?;
        }
        Ok(Continue(()))
    }

    async fn print(&mut self, received: &Received, decoded: &Decoded) -> Result<()> {
        if let Some(count) = &mut self.rate {
            *count += 1;
            return Ok(());
        }
        if let Some(view) = &mut self.view {
            view.live
                .record(received, decoded, std::time::Instant::now());
            return Ok(());
        }
        self.printer
            .print(received, decoded)
            .await
            .context("writing to standard output")
    }

    /// The payload as `--decode` reads it; with `--rebirth`, asks an edge node whose DATA came
    /// before its BIRTH for one (a publish the clears' ledger counts, as its acknowledgement
    /// arrives in order with theirs).
    fn decoded(&mut self, received: &Received) -> Decoded {
        let message = &received.message;
        let decoded = self.decoder.decode(&message.topic, &message.payload);
        for rebirth in self.decoder.take_rebirths() {
            if self.settings.rebirth {
                tracing::info!(
                    "asking for a rebirth: Node Control/Rebirth on {}",
                    rebirth.topic()
                );
                let payload = Bytes::from(rebirth.payload(crate::payload::now_ms()));
                self.session.publish_in_background(Message::new(
                    rebirth.topic(),
                    payload,
                    Qos::AtMostOnce,
                    false,
                ));
                self.clears.sent += 1;
            }
        }
        decoded
    }

    /// `--message-rate`: the count since the last line, on a line (a second's, or at the end
    /// the part of one since the last).
    fn rate_line(&mut self) -> Result<()> {
        use std::io::Write;
        let count = self.rate.replace(0).unwrap_or_default();
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{count}")
            .and_then(|()| stdout.flush())
            .context("writing to standard output")
    }

    /// -W: the end asked for, unless an acknowledgement is still owed or -C not reached.
    fn at_deadline(&self) -> Result<()> {
        if self.acks.any() {
            return Err(self.acks.owed(self.settings));
        }
        match self.settings.count {
            Some(count) => Err(failure(
                ErrorKind::Timeout,
                format!(
                    "timed out after {}: received {} of {count} message(s)",
                    humantime::format_duration(self.settings.timeout.unwrap_or_default()),
                    self.printed
                ),
            )),
            None => Ok(()),
        }
    }

    /// The end of the run: the statistics, the retained messages cleared (confirmed, then
    /// verified by subscribing again, within -W when given), the output, the close.
    async fn finish(mut self, outcome: Result<()>, deadline: Option<Instant>) -> Result<()> {
        let settings = self.settings;
        if let Some(stats) = self.stats.take() {
            eprint!("{}", stats.finish());
        }
        if self.rate.is_some_and(|count| count > 0) {
            self.rate_line()?;
        }
        // The terminal is given back first: whatever follows (an error) is read on it.
        if let Some(View { live, screen }) = self.view.take() {
            let on_screen = screen.is_some();
            drop(screen);
            if !on_screen && outcome.is_ok() {
                use std::io::Write;
                let table = live.table(std::time::Instant::now());
                std::io::stdout()
                    .write_all(table.as_bytes())
                    .context("writing to standard output")?;
            }
        }
        if outcome.is_ok() && settings.remove_retained {
            let by = match deadline {
                Some(deadline) => (deadline + VERIFY_MARGIN).max(Instant::now()),
                None => Instant::now() + CLEAR_WAIT,
            };
            let (session, clears) = (&mut self.session, &mut self.clears);
            let cleared = async {
                clears.confirmed(session).await?;
                verify_cleared(session, settings, clears).await
            };
            match within(Some(by), cleared).await {
                Some(result) => result?,
                None => {
                    return Err(failure(
                        ErrorKind::Timeout,
                        format!(
                            "--remove-retained: {} of {} clear(s) not confirmed, or what is left not verified, in time",
                            self.clears.sent - self.clears.done,
                            self.clears.sent
                        ),
                    ));
                }
            }
        }
        if outcome.is_ok() {
            self.printer
                .finish()
                .await
                .context("writing to standard output")?;
        }
        let lost = outcome
            .as_ref()
            .err()
            .is_some_and(|err| crate::error::exit_code_of(err) == ErrorKind::Lost.exit_code());
        if !lost {
            close_within(self.session, deadline).await?;
        }
        outcome
    }
}

/// How long a SUBACK or UNSUBACK may take without -W.
const ACK_WAIT: Duration = Duration::from_secs(10);

/// The acknowledgements that did not come in time, named by their filters (exit 7).
fn owed_acks(
    settings: &SubSettings,
    unsubscribes_pending: usize,
    suback_pending: bool,
    waited: Duration,
) -> anyhow::Error {
    // UNSUBACKs come in the order of the UNSUBSCRIBEs: the last ones are owed.
    let unsubscribed = &settings.unsubscribe;
    let owed = &unsubscribed[unsubscribed.len() - unsubscribes_pending..];
    let quoted = |filters: &[String]| {
        filters
            .iter()
            .map(|filter| format!("'{filter}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut missing = Vec::new();
    if !owed.is_empty() {
        missing.push(format!("no UNSUBACK for {} (-U)", quoted(owed)));
    }
    if suback_pending {
        missing.push(format!("no SUBACK for {}", quoted(&settings.filters)));
    }
    failure(
        ErrorKind::Timeout,
        format!(
            "{} within {}",
            missing.join(" and "),
            humantime::format_duration(waited)
        ),
    )
}

fn clear_refused(reason: &crate::client::Reason) -> anyhow::Error {
    failure(
        ErrorKind::Rejected,
        format!("the broker refused to clear a retained message (--remove-retained): {reason}"),
    )
}
