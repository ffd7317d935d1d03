//! `mqtt-cli sub`: prints messages until Ctrl+C, `-C` messages, or the `-W` deadline.
//! `--retained-only` ends at the first live message or after a quiet spell; `--remove-retained`
//! clears each retained message it sees and waits for those clears to be acknowledged.
//!
//! With a persistent session and `-C`, messages are acknowledged only once printed, so a message
//! that arrives after the last one wanted stays with the broker for the next run instead of being
//! acknowledged and dropped.

use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use tokio::time::Instant;

use crate::client::{Message, Qos, Session, SessionEvent, SessionOptions};
use crate::commands::{Interrupts, sleep_until};
use crate::error::{ErrorKind, failure};
use crate::output::Printer;
use crate::settings::SubSettings;
use crate::topic::filter_matches;

/// `--retained-only` ends when no retained message came for this long.
const RETAINED_QUIET: Duration = Duration::from_millis(500);
/// How long `--remove-retained` waits for its clears to be acknowledged.
const CLEAR_WAIT: Duration = Duration::from_secs(10);

pub async fn run(settings: SubSettings) -> Result<()> {
    let mut interrupts = Interrupts::listen()?;
    // A QoS 1/2 message is acknowledged once its output is queued: a stalled reader then holds
    // messages at the broker (its in-flight window) instead of in our memory, and with a
    // persistent session and -C a message after the last one wanted stays there for the next run.
    let options = SessionOptions {
        manual_acks: true,
        ..SessionOptions::default()
    };
    let mut session = Session::connect(&settings.connect, options).await?;
    // -U first, then -t; messages that arrive meanwhile are printed like any other.
    session.unsubscribe(&settings.unsubscribe).await?;
    let mut unsubscribes_pending = settings.unsubscribe.len();
    if !settings.filters.is_empty() {
        session
            .subscribe(&settings.filters, settings.subscribe)
            .await?;
    }

    let mut printer = Printer::stdout(settings.format.clone(), settings.newline);
    let output_failed = printer.failure();
    tokio::pin!(output_failed);
    let deadline = settings.timeout.map(|timeout| Instant::now() + timeout);
    // The SUBACK and UNSUBACKs owed: a broker that never sends one must not keep us waiting
    // (for ever without -W, or past it with exit 0): -W, or ACK_WAIT, bounds them.
    let ack_wait = settings.timeout.unwrap_or(ACK_WAIT);
    let mut suback_pending = !settings.filters.is_empty();
    let mut acks_due =
        (suback_pending || unsubscribes_pending > 0).then(|| Instant::now() + ack_wait);
    // --retained-only: set at SUBACK, pushed back by each retained message.
    let mut quiet_until: Option<Instant> = None;
    let (mut clears_sent, mut clears_done) = (0u64, 0u64);
    let mut printed: u64 = 0;
    let mut stats = settings.stats.then(crate::commands::stats::Stats::start);
    let outcome = loop {
        // `biased`: events first; the other branches cost nothing while events keep coming.
        tokio::select! {
            biased;
            event = session.next_event() => match event {
                Some(SessionEvent::Subscribed(granted)) => {
                    suback_pending = false;
                    if unsubscribes_pending == 0 {
                        acks_due = None;
                    }
                    if let Some((filter, Err(reason))) = settings
                        .filters
                        .iter()
                        .zip(&granted)
                        .find(|(_, granted)| granted.is_err())
                    {
                        break Err(failure(
                            ErrorKind::Rejected,
                            format!("the broker refused the subscription to '{filter}': {reason}"),
                        ));
                    }
                    if settings.exit_on_subscribe {
                        break Ok(());
                    }
                    if settings.retained_only {
                        quiet_until = Some(Instant::now() + RETAINED_QUIET);
                    }
                }
                Some(SessionEvent::Message(received)) => {
                    let retained = received.message.retain;
                    if settings.retained_only && !retained {
                        break Ok(());
                    }
                    if retained && quiet_until.is_some() {
                        quiet_until = Some(Instant::now() + RETAINED_QUIET);
                    }
                    // -T and --match choose what is cleared exactly as they choose what is
                    // printed (mosquitto_sub's --help: use -T to keep a topic's retained message);
                    // -R hides retained messages from the output only.
                    let filtered_out = settings
                        .filter_out
                        .iter()
                        .any(|filter| filter_matches(filter, &received.message.topic))
                        || settings
                            .payload_match
                            .as_ref()
                            .is_some_and(|regex| !regex.is_match(&received.message.payload));
                    if retained
                        && settings.remove_retained
                        && !filtered_out
                        && !received.message.payload.is_empty()
                    {
                        let clear = Message::new(
                            received.message.topic.clone(),
                            Bytes::new(),
                            Qos::AtLeastOnce,
                            true,
                        );
                        session.publish_in_background(clear);
                        clears_sent += 1;
                    }
                    let unpicked = settings
                        .random_filter
                        .is_some_and(|percent| fastrand::f64() * 100.0 >= percent);
                    let hidden = filtered_out || (settings.no_retained && retained) || unpicked;
                    if !hidden {
                        printer
                            .print(&received)
                            .await
                            .context("writing to standard output")?;
                        printed += 1;
                        if let Some(stats) = &mut stats {
                            stats.record(&received.message.topic, received.message.payload.len());
                        }
                    }
                    session.ack(&received);
                    if settings.count == Some(printed) {
                        break Ok(());
                    }
                    if session.is_idle() {
                        printer.flush().await.context("writing to standard output")?;
                    }
                }
                Some(SessionEvent::Published(Ok(()))) => clears_done += 1,
                Some(SessionEvent::Published(Err(reason))) => break Err(clear_refused(&reason)),
                Some(SessionEvent::Unsubscribed(Err(reason))) => {
                    break Err(failure(
                        ErrorKind::Rejected,
                        format!("the broker refused to unsubscribe: {reason}"),
                    ));
                }
                Some(SessionEvent::Unsubscribed(Ok(()))) => {
                    unsubscribes_pending = unsubscribes_pending.saturating_sub(1);
                    if unsubscribes_pending == 0 && !suback_pending {
                        acks_due = None;
                    }
                    if unsubscribes_pending == 0 && settings.filters.is_empty() {
                        break Ok(());
                    }
                }
                // The client layer subscribed again if the broker lost the session.
                Some(SessionEvent::Reconnected { .. }) => {}
                Some(SessionEvent::Lost(err)) => break Err(err),
                None => break Err(failure(ErrorKind::Lost, "connection lost")),
            },
            () = sleep_until(acks_due) => {
                break Err(owed_acks(&settings, unsubscribes_pending, suback_pending, ack_wait));
            }
            () = sleep_until(deadline) => {
                break match settings.count {
                    Some(count) => Err(failure(
                        ErrorKind::Timeout,
                        format!(
                            "timed out after {}: received {printed} of {count} message(s)",
                            humantime::format_duration(settings.timeout.unwrap_or_default())
                        ),
                    )),
                    None => Ok(()),
                };
            }
            () = sleep_until(quiet_until) => break Ok(()),
            () = interrupts.recv() => break Ok(()),
            () = &mut output_failed => {
                break Err(anyhow::Error::new(printer.error()).context("writing to standard output"));
            }
        }
    };
    if let Some(stats) = stats.take() {
        eprint!("{}", stats.finish());
    }
    // The retained messages cleared must be gone before we leave.
    if outcome.is_ok() && clears_done < clears_sent {
        let waited = tokio::time::timeout(CLEAR_WAIT, async {
            while clears_done < clears_sent {
                match session.next_event().await {
                    Some(SessionEvent::Published(Ok(()))) => clears_done += 1,
                    Some(SessionEvent::Published(Err(reason))) => {
                        return Err(clear_refused(&reason));
                    }
                    Some(SessionEvent::Lost(err)) => return Err(err),
                    Some(_) => {}
                    None => return Err(failure(ErrorKind::Lost, "connection lost")),
                }
            }
            Ok(())
        })
        .await;
        match waited {
            Ok(result) => result?,
            Err(_) => {
                return Err(failure(
                    ErrorKind::Timeout,
                    format!(
                        "{} of {clears_sent} retained message(s) not confirmed cleared",
                        clears_sent - clears_done
                    ),
                ));
            }
        }
    }
    if outcome.is_ok() {
        printer
            .finish()
            .await
            .context("writing to standard output")?;
    }
    let lost = outcome
        .as_ref()
        .err()
        .is_some_and(|err| crate::error::exit_code_of(err) == ErrorKind::Lost.exit_code());
    if !lost {
        session.disconnect().await?;
    }
    outcome
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
