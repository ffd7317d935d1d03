//! `mqtt-cli rr`: request/response. Subscribe to the answer's topic, and only once the broker
//! confirmed the subscription publish the request, so a quick answer cannot slip by; print the
//! first acceptable answer and exit 0, or exit 7 at the deadline.
//!
//! Acceptable: not a retained message (that is a stale value the broker kept, not an answer),
//! on MQTT 5 not carrying another request's correlation data, and matching `--match`. Works on
//! MQTT 3.1.1 too, where there is no response topic property: the device must know where to
//! answer.

use anyhow::{Context, Result};
use tokio::time::Instant;

use crate::cli::ProtocolVersion;
use crate::client::{Received, SessionEvent, SessionOptions, SubscribeOptions};
use crate::commands::{Interrupts, close_within, connect_within, sleep_until};
use crate::error::{ErrorKind, failure};
use crate::output::Printer;
use crate::payload::Decoder;
use crate::settings::RrSettings;

pub async fn run(settings: RrSettings) -> Result<()> {
    let mut interrupts = Interrupts::listen()?;
    // -W bounds the whole run: connecting, the answer, and the close.
    let deadline = settings.timeout.map(|timeout| Instant::now() + timeout);
    let mut session = connect_within(
        &settings.connect,
        SessionOptions::default(),
        deadline,
        settings.timeout,
    )
    .await?;
    let v5 = settings.connect.protocol == ProtocolVersion::V5;
    let subscription = SubscribeOptions {
        // MQTT 5: no retained message at subscribe time (3.1.1: skipped by its retain flag).
        retain_handling: if v5 { 2 } else { 0 },
        ..SubscribeOptions::from(settings.request.qos)
    };
    session
        .subscribe(std::slice::from_ref(&settings.response_topic), subscription)
        .await?;

    let mut waiting = Waiting::default();
    let outcome = loop {
        tokio::select! {
            biased;
            event = session.next_event() => {
                if let Some(outcome) = answer_or_end(&mut session, &settings, event, &mut waiting).await {
                    break outcome;
                }
            }
            () = sleep_until(deadline) => break Err(no_answer(&settings, waiting.skipped)),
            () = interrupts.recv() => {
                break Err(failure(ErrorKind::Interrupted, "interrupted before an answer arrived"));
            }
        }
    };
    if outcome
        .as_ref()
        .is_err_and(|err| crate::error::exit_code_of(err) == ErrorKind::Lost.exit_code())
    {
        return outcome;
    }
    // The answer came: the request arrived, whatever its QoS.
    let _ = close_within(session, deadline).await;
    outcome
}

/// What the wait for the answer has seen so far.
#[derive(Default)]
struct Waiting {
    /// Messages on the response topic that were not the answer.
    skipped: u64,
    /// When the request was handed to the connection (`--latency` counts from there).
    sent: Option<Instant>,
}

/// One event while waiting: `Some` with the run's outcome once it is decided (the answer
/// printed, a refusal, the connection lost); the request goes out once the SUBACK is in.
async fn answer_or_end(
    session: &mut crate::client::Session,
    settings: &RrSettings,
    event: Option<SessionEvent>,
    waiting: &mut Waiting,
) -> Option<Result<()>> {
    let refused = match event {
        Some(SessionEvent::Subscribed(granted)) => match granted.first() {
            Some(Err(reason)) => format!(
                "the broker refused the subscription to '{}': {reason}",
                settings.response_topic
            ),
            _ => {
                waiting.sent = Some(Instant::now());
                session.publish_in_background(settings.request.clone());
                return None;
            }
        },
        Some(SessionEvent::Message(received)) if is_answer(settings, &received) => {
            let latency = waiting.sent.map(|sent| sent.elapsed());
            return Some(print_answer(settings, &received, latency).await);
        }
        Some(SessionEvent::Message(_)) => {
            waiting.skipped += 1;
            return None;
        }
        Some(SessionEvent::Published(Err(reason))) => format!(
            "the broker refused the request to '{}': {reason}",
            settings.request.topic
        ),
        Some(SessionEvent::Lost(err)) => return Some(Err(err)),
        Some(_) => return None,
        None => return Some(Err(failure(ErrorKind::Lost, "connection lost"))),
    };
    Some(Err(failure(ErrorKind::Rejected, refused)))
}

/// The answer as `-F`/`-v`/`--decode` say, then `--latency`'s line.
async fn print_answer(
    settings: &RrSettings,
    received: &Received,
    latency: Option<std::time::Duration>,
) -> Result<()> {
    let mut printer = Printer::stdout(settings.printing.format.clone(), settings.printing.newline);
    let decoded = Decoder::new(settings.printing.decode.clone())
        .decode(&received.message.topic, &received.message.payload);
    printer
        .print(received, &decoded)
        .await
        .context("writing to standard output")?;
    printer
        .finish()
        .await
        .context("writing to standard output")?;
    if let (true, Some(latency)) = (settings.latency, latency) {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        // After -N's answer too, on a line of its own.
        let before = if settings.printing.newline { "" } else { "\n" };
        let ms = latency.as_secs_f64() * 1000.0;
        writeln!(stdout, "{before}latency: {ms:.3} ms")
            .and_then(|()| stdout.flush())
            .context("writing to standard output")?;
    }
    Ok(())
}

/// `-W` came first: said with what was skipped meanwhile.
fn no_answer(settings: &RrSettings, skipped: u64) -> anyhow::Error {
    let mut why = format!(
        "no answer on '{}' within {}",
        settings.response_topic,
        humantime::format_duration(settings.timeout.unwrap_or_default())
    );
    if skipped > 0 {
        why.push_str(&format!(" ({skipped} other message(s) skipped: retained, another request's, or not matching --match)"));
    }
    failure(ErrorKind::Timeout, why)
}

fn is_answer(settings: &RrSettings, received: &Received) -> bool {
    let message = &received.message;
    if message.retain {
        return false;
    }
    let ours = &settings.request.properties.correlation_data;
    if let (Some(ours), Some(theirs)) = (ours, &message.properties.correlation_data)
        && ours != theirs
    {
        return false;
    }
    settings
        .printing
        .payload_match
        .as_ref()
        .is_none_or(|regex| regex.is_match(&message.payload))
}
