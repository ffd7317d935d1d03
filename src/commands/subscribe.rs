//! `mqtt-cli sub`: prints messages until Ctrl+C, `-C` messages, or the `-W` deadline.
//!
//! With a persistent session and `-C`, messages are acknowledged only once printed, so a message
//! that arrives after the last one wanted stays with the broker for the next run instead of being
//! acknowledged and dropped.

use anyhow::{Context, Result};
use tokio::time::Instant;

use crate::client::{Session, SessionEvent, SessionOptions};
use crate::commands::Interrupts;
use crate::error::{ErrorKind, failure};
use crate::output::Printer;
use crate::settings::SubSettings;

pub async fn run(settings: SubSettings) -> Result<()> {
    let mut interrupts = Interrupts::listen()?;
    let manual_acks = !settings.connect.clean_session && settings.count.is_some();
    let options = SessionOptions {
        manual_acks,
        ..SessionOptions::default()
    };
    let mut session = Session::connect(&settings.connect, options).await?;
    session.subscribe(&settings.filters, settings.qos).await?;

    let mut printer = Printer::stdout(settings.format.clone(), settings.newline);
    let deadline = settings.timeout.map(|timeout| Instant::now() + timeout);
    let mut printed: u64 = 0;
    let outcome = loop {
        // `biased`: events first; the other branches cost nothing while events keep coming.
        tokio::select! {
            biased;
            event = session.next_event() => match event {
                Some(SessionEvent::Subscribed(granted)) => {
                    if let Some((filter, _)) = settings
                        .filters
                        .iter()
                        .zip(&granted)
                        .find(|(_, qos)| qos.is_none())
                    {
                        break Err(failure(
                            ErrorKind::Rejected,
                            format!("the broker refused the subscription to '{filter}'"),
                        ));
                    }
                    if settings.exit_on_subscribe {
                        break Ok(());
                    }
                }
                Some(SessionEvent::Message(received)) => {
                    if !(settings.no_retained && received.message.retain) {
                        printer.print(&received).context("writing to standard output")?;
                        printed += 1;
                    }
                    if manual_acks {
                        session.ack(&received);
                    }
                    if settings.count == Some(printed) {
                        break Ok(());
                    }
                    if session.is_idle() {
                        printer.flush().context("writing to standard output")?;
                    }
                }
                Some(SessionEvent::Published) => {}
                Some(SessionEvent::Lost(err)) => break Err(err),
                None => break Err(failure(ErrorKind::Lost, "connection lost")),
            },
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
            () = interrupts.recv() => break Ok(()),
        }
    };
    printer.flush().context("writing to standard output")?;
    let lost = outcome
        .as_ref()
        .err()
        .is_some_and(|err| crate::error::exit_code_of(err) == ErrorKind::Lost.exit_code());
    if !lost {
        session.disconnect().await;
    }
    outcome
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
