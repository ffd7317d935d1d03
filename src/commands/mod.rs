//! One module per subcommand, written against `client` and `output` only.

pub mod bench;
pub mod check;
pub mod profile;
pub mod publish;
pub mod request;
pub mod shell;
pub mod stats;
pub mod subscribe;

use anyhow::Result;

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
            use anyhow::Context;
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
