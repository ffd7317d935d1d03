//! The one loop that drives a connection, for both protocol versions: it polls rumqttc's event
//! loop (behind [`Link`]), turns what happens into [`SessionEvent`]s, reconnects by the policy
//! of `reconnect.rs`, accounts for QoS 0 messages the broker may not have read, and after our
//! DISCONNECT waits for the broker to close the connection. `v4.rs` and `v5.rs` supply only what
//! differs: how to poll and what each packet means.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::debug;

use super::errors::{self, Broken};
use super::events::{ConnectInfo, SessionEvent};
use super::reconnect::Outage;
use crate::error::{ErrorKind, failure};
use crate::settings::ConnectSettings;
use crate::types::Reconnect;

/// What one event of a protocol's event loop means for the session. (Moved once per event:
/// boxing the large variant would cost an allocation per message.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Step {
    /// Tell the command.
    Forward(SessionEvent),
    /// A CONNACK after a reconnect.
    Reconnected { session_present: bool },
    /// A QoS 0 PUBLISH was written: complete for the command, unconfirmed for us.
    Qos0Written,
    /// A PINGRESP: the broker has read everything we wrote before the PINGREQ.
    PingResp,
    /// Our DISCONNECT was written: wait for the broker to close, then stop.
    Disconnected,
    /// Nothing the session needs.
    Nothing,
}

/// One protocol version's rumqttc event loop, as the drive loop sees it.
pub(super) trait Link: Send + 'static {
    /// The next event, translated (and traced with `-d`); `connection` numbers the messages.
    /// An error says what broke in the words of either version ([`Broken`]).
    fn next_step(&mut self, connection: u64) -> impl Future<Output = Result<Step, Broken>> + Send;

    /// The first CONNACK, and what it says; an error in our words (`connect_error`).
    fn connack(
        &mut self,
        settings: &ConnectSettings,
    ) -> impl Future<Output = anyhow::Result<ConnectInfo>> + Send;
}

/// Waits for the first CONNACK on `link`, then drives it on a task of its own.
pub(super) async fn start<L: Link>(
    mut link: L,
    settings: &ConnectSettings,
    shared: Shared,
) -> anyhow::Result<(ConnectInfo, tokio::task::JoinHandle<()>)> {
    let info = link.connack(settings).await?;
    Ok((info, tokio::spawn(drive(Box::new(link), shared))))
}

/// Polls `link` until the connection ends, forwarding what the command needs. (`link` is
/// boxed: an async fn's future holds its arguments twice, and the event loop is large.)
pub(super) async fn drive<L: Link>(mut link: Box<L>, shared: Shared) {
    let mut outage = Outage::default();
    let mut unconfirmed = Unconfirmed::default();
    loop {
        let connection = shared.connection.load(Ordering::Acquire);
        let step = match link.next_step(connection).await {
            Ok(step) => step,
            Err(err) => {
                debug!("connection closed: {err}");
                unconfirmed.lost(&shared);
                let recoverable = errors::recoverable(&err);
                match outage.next_wait(shared.reconnect, errors::lost_error(err), recoverable) {
                    Ok(wait) => {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(error) => {
                        let _ = shared.events.send(SessionEvent::Lost(error)).await;
                        return;
                    }
                }
            }
        };
        let forward = match step {
            Step::Forward(event) => Some(event),
            Step::Reconnected { session_present } => {
                // What is still unconfirmed was written on the connection that broke (its
                // events come before the new CONNACK): the broker may never have read it.
                unconfirmed.lost(&shared);
                shared.connection.fetch_add(1, Ordering::AcqRel);
                if let Some(away) = outage.ended() {
                    debug!(
                        "reconnected after {} (session present {session_present})",
                        humantime::format_duration(Duration::from_millis(
                            u64::try_from(away.as_millis()).unwrap_or(u64::MAX)
                        ))
                    );
                }
                Some(SessionEvent::Reconnected { session_present })
            }
            Step::Qos0Written => {
                unconfirmed.written();
                Some(SessionEvent::Published(Ok(())))
            }
            Step::PingResp => {
                unconfirmed.confirmed();
                None
            }
            Step::Disconnected => {
                match Box::pin(wait_for_close(&mut *link)).await {
                    Ok(()) => unconfirmed.confirmed(),
                    Err(why) => {
                        unconfirmed.lost(&shared);
                        let lost = SessionEvent::Lost(failure(ErrorKind::Lost, why));
                        let _ = shared.events.send(lost).await;
                    }
                }
                return;
            }
            Step::Nothing => None,
        };
        if let Some(forward) = forward
            && shared.events.send(forward).await.is_err()
        {
            return;
        }
    }
}

/// After our DISCONNECT: the broker closes the connection once it has processed everything
/// before it. Poll (without reconnecting: we stop at the first error) until then. `Err` says
/// why the close was not in order (a reset: the broker may not have read everything).
async fn wait_for_close<L: Link>(link: &mut L) -> Result<(), String> {
    let closed = tokio::time::timeout(DISCONNECT_GRACE, async {
        loop {
            if let Err(err) = link.next_step(0).await {
                return err;
            }
        }
    })
    .await;
    debug!("connection closed after DISCONNECT");
    match closed {
        // The broker kept the connection open: nothing says it lost anything.
        Err(_) => Ok(()),
        Ok(err) => errors::closed_in_order(&err),
    }
}

/// The error for a request made after the event loop ended.
pub(super) fn closed() -> anyhow::Error {
    failure(ErrorKind::Lost, "the connection is closed")
}

/// What the drive loops share with the session.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) events: mpsc::Sender<SessionEvent>,
    pub(super) reconnect: Option<Reconnect>,
    /// The number of the current connection (see [`Received::connection`]).
    pub(super) connection: Arc<AtomicU64>,
    /// QoS 0 messages written on a connection that then broke (or was not closed in order after
    /// our DISCONNECT) before the broker showed it had read them: they may not have arrived.
    pub(super) unconfirmed_lost: Arc<AtomicU64>,
}

/// QoS 0 messages written on the current connection and not yet known to be read by the broker.
/// The broker handles packets in order, so a PINGRESP (our PINGREQ went after them) or its
/// orderly close after our DISCONNECT proves it has read them all.
#[derive(Default)]
pub(super) struct Unconfirmed(u64);

impl Unconfirmed {
    fn written(&mut self) {
        self.0 += 1;
    }

    fn confirmed(&mut self) {
        self.0 = 0;
    }

    /// The connection broke: those messages may not have arrived.
    fn lost(&mut self, shared: &Shared) {
        if self.0 > 0 {
            debug!(
                "{} QoS 0 message(s) written on the broken connection were not confirmed",
                self.0
            );
            shared.unconfirmed_lost.fetch_add(self.0, Ordering::AcqRel);
        }
        self.0 = 0;
    }
}

/// How many events may wait for the command.
pub(super) const EVENT_CAPACITY: usize = 1024;
/// How long to wait for the broker to close the connection after our DISCONNECT, reading
/// meanwhile. Closing with its packets unread makes the kernel reset the connection, and the
/// broker then drops what it had not read yet (our last acknowledgements): a loaded broker
/// took more than 2 s to get there.
pub(super) const DISCONNECT_GRACE: Duration = Duration::from_secs(10);
