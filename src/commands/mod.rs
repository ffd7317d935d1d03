//! One module per subcommand, written against `client` and `output` only.

pub mod publish;
pub mod subscribe;

use anyhow::{Context, Result};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Ctrl+C (SIGINT) and SIGTERM, listened to from the start so that none is missed between polls.
pub(crate) struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    pub(crate) fn listen() -> Result<Interrupts> {
        Ok(Interrupts {
            interrupt: signal(SignalKind::interrupt()).context("installing the Ctrl+C handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
