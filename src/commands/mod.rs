//! One module per subcommand, written against `client` and `output` only.

pub mod bench;
pub mod check;
pub mod completions_and_man;
pub mod profile;
pub mod publish;
pub mod request;
pub mod stats;
pub mod subscribe;

use anyhow::{Context, Result};

/// Ctrl+C (SIGINT) and SIGTERM, listened to from the start so that none is missed between polls.
pub(crate) struct Interrupts {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Interrupts {
    pub(crate) fn listen() -> Result<Interrupts> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupts {
                interrupt: signal(SignalKind::interrupt())
                    .context("installing the Ctrl+C handler")?,
                terminate: signal(SignalKind::terminate())
                    .context("installing the SIGTERM handler")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    /// Resolves at the next SIGINT or SIGTERM (Ctrl+C elsewhere).
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Sleeps until `deadline`, or forever without one (a `select!` branch that may never fire).
pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// How long past a `-W` deadline the close may take: the run ends within `-W` plus this (or
/// a moment after what ran past the deadline, such as `--remove-retained`'s verification).
pub(crate) const CLOSE_MARGIN: std::time::Duration = std::time::Duration::from_millis(900);

/// `work`, unless `deadline` comes first (`None` then).
pub(crate) async fn within<F: std::future::Future>(
    deadline: Option<tokio::time::Instant>,
    work: F,
) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, work).await.ok(),
        None => Some(work.await),
    }
}

/// Connects, inside the run's `-W` deadline (connecting is part of the run): past it, exit 3
/// naming the flag.
pub(crate) async fn connect_within(
    settings: &crate::settings::ConnectSettings,
    options: crate::client::SessionOptions,
    deadline: Option<tokio::time::Instant>,
    timeout: Option<std::time::Duration>,
) -> Result<crate::client::Session> {
    match within(deadline, crate::client::Session::connect(settings, options)).await {
        Some(connected) => connected,
        None => Err(crate::error::failure(
            crate::error::ErrorKind::Connect,
            format!(
                "no CONNACK within -W {}",
                humantime::format_duration(timeout.unwrap_or_default())
            ),
        ))
        .with_context(|| format!("connecting to {}", settings.place())),
    }
}

/// Disconnects; with a `-W` deadline, the wait for the broker's close ends at the deadline plus
/// [`CLOSE_MARGIN`] (a stopped broker never closes: the run still ends in time).
pub(crate) async fn close_within(
    session: crate::client::Session,
    deadline: Option<tokio::time::Instant>,
) -> Result<()> {
    let now = tokio::time::Instant::now();
    let by = deadline
        .map(|deadline| (deadline + CLOSE_MARGIN).max(now + std::time::Duration::from_millis(100)));
    match within(by, session.disconnect()).await {
        Some(closed) => closed,
        None => {
            tracing::debug!("the broker did not close the connection before -W: leaving");
            Ok(())
        }
    }
}
