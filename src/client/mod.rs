//! The MQTT session: the only code that knows rumqttc.
//!
//! Commands see one message model and a stream of [`SessionEvent`]s. The rumqttc event loop runs
//! in its own task and is never cancelled mid-poll (that can drop a request it already took), and
//! requests are fed from the command's task, so a full request channel cannot deadlock (rumqtt
//! #1025). QoS 1 and 2 publishes complete at their PUBACK / PUBCOMP, never at
//! `Outgoing::Publish` (rumqtt #1031); QoS 0 ones once written. Transports (TCP, TLS, ws, wss)
//! come from the settings' scheme, never from rumqttc's guess (rumqtt #1065).

//! MQTT 3.1.1 (`v4`) and MQTT 5 (`v5`) differ only inside this module: the commands never
//! branch on the protocol version.

mod connector;
mod driver;
mod errors;
mod events;
mod options;
mod quickack;
mod reason;
mod reconnect;
mod source_port;
mod trace;
mod v4;
mod v5;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use rumqttc::TlsConfiguration;
use tokio::sync::mpsc;
use tracing::debug;

use driver::{DISCONNECT_GRACE, EVENT_CAPACITY, Shared};

pub use events::{
    Announced, AnnouncedField, AnnouncedValue, ConnectInfo, SessionEvent, SessionOptions,
};
pub use reason::Reason;

use crate::error::{ErrorKind, failure};
use crate::settings::{ConnectSettings, Transport};
use crate::types::ProtocolVersion;
pub use crate::types::{
    Message, Properties, Qos, Received, Reconnect, SubscribeOptions, default_max_inflight,
};

/// A connected MQTT session. Dropping it without [`Session::disconnect`] closes the connection
/// abruptly (no DISCONNECT: the broker publishes the will).
pub struct Session {
    client: Client,
    events: mpsc::Receiver<SessionEvent>,
    /// The control task, started at the first request that needs it (an idle connection,
    /// as `bench conn` holds thousands of, has none).
    control: OnceLock<mpsc::UnboundedSender<Control>>,
    /// The number of the current connection (see [`Received::connection`]).
    connection: Arc<AtomicU64>,
    driver: tokio::task::JoinHandle<()>,
    /// What was subscribed, to subscribe again after a reconnect without a session.
    subscriptions: Vec<(Vec<String>, SubscribeOptions)>,
    pub info: ConnectInfo,
    unconfirmed_lost: Arc<AtomicU64>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Requests that must never block the command's task, sent in order by a task of their own:
/// awaiting a full request channel while the event loop waits on a full event channel would
/// deadlock.
enum Control {
    /// QoS, packet id, and the connection the message came on.
    Ack(Qos, u16, u64),
    Publish(Box<Message>),
    Subscribe(Vec<String>, SubscribeOptions),
    Disconnect,
}

/// The rumqttc client of either protocol version; the only place commands' requests branch.
#[derive(Clone)]
enum Client {
    V4(v4::Client),
    V5(v5::Client),
}

impl Client {
    async fn publish(&self, message: Message) -> Result<()> {
        match self {
            Client::V4(client) => client.publish(message).await,
            Client::V5(client) => client.publish(message).await,
        }
    }

    async fn subscribe(&self, filters: &[String], options: SubscribeOptions) -> Result<()> {
        match self {
            Client::V4(client) => client.subscribe(filters, options).await,
            Client::V5(client) => client.subscribe(filters, options).await,
        }
    }

    async fn unsubscribe(&self, filter: &str) -> Result<()> {
        match self {
            Client::V4(client) => client.unsubscribe(filter).await,
            Client::V5(client) => client.unsubscribe(filter).await,
        }
    }

    async fn ack(&self, qos: Qos, packet_id: u16) -> Result<()> {
        match self {
            Client::V4(client) => client.ack(qos, packet_id).await,
            Client::V5(client) => client.ack(qos, packet_id).await,
        }
    }

    async fn disconnect(&self) -> Result<()> {
        match self {
            Client::V4(client) => client.disconnect().await,
            Client::V5(client) => client.disconnect().await,
        }
    }
}

/// A cheap handle that sends publishes; use it from the task that produces messages.
#[derive(Clone)]
pub struct Publisher {
    client: Client,
}

impl Publisher {
    /// Queues a message; waits while the request channel is full. Completion arrives later as
    /// [`SessionEvent::Published`].
    pub async fn publish(&self, message: Message) -> Result<()> {
        self.client.publish(message).await
    }
}

/// `--insecure` and `--proxy-insecure` are said on every run, `-q` or not: security
/// warnings, not notices.
fn warn_if_insecure(settings: &ConnectSettings) {
    if settings
        .tls
        .as_ref()
        .is_some_and(|tls| tls.options.insecure)
    {
        // A security warning, not a notice: --quiet does not hide it.
        eprintln!(
            "mqtt-cli: warning: --insecure: the server's certificate is not verified; \
             anyone on the path can read and change this connection"
        );
    }
    if settings
        .route
        .proxy_tls
        .as_ref()
        .is_some_and(|tls| tls.options.insecure)
    {
        eprintln!(
            "mqtt-cli: warning: --proxy-insecure: the proxy's certificate is not verified; \
             anyone on the path to the proxy can read and change this connection"
        );
    }
}

/// The connect timeout's error, naming the proxy when there is one.
fn no_connack(settings: &ConnectSettings) -> anyhow::Error {
    let within = humantime::format_duration(settings.connect_timeout);
    failure(
        ErrorKind::Connect,
        match &settings.route.proxy {
            Some(proxy) => format!(
                "no CONNACK within {within} (--connect-timeout) through the proxy {proxy}: is it a proxy, and does it reach the broker?"
            ),
            None => format!("no CONNACK within {within} (--connect-timeout)"),
        },
    )
}

/// The task that sends what the session asks for (acknowledgements, subscriptions,
/// publishes, the disconnect) in order, through `client`.
fn spawn_control(client: Client, connection: Arc<AtomicU64>) -> mpsc::UnboundedSender<Control> {
    let (control, mut control_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = control_rx.recv().await {
            let sent = match request {
                // An acknowledgement for an earlier connection would hit another message
                // that happens to have the same packet id now: the broker sends the
                // unacknowledged one again instead.
                Control::Ack(_, _, on) if on != connection.load(Ordering::Acquire) => Ok(()),
                Control::Ack(qos, packet_id, _) => client.ack(qos, packet_id).await,
                Control::Subscribe(filters, options) => client.subscribe(&filters, options).await,
                Control::Publish(message) => client.publish(*message).await,
                Control::Disconnect => client.disconnect().await,
            };
            if sent.is_err() {
                return;
            }
        }
    });
    control
}

impl Session {
    /// Connects and waits for a successful CONNACK.
    pub async fn connect(settings: &ConnectSettings, options: SessionOptions) -> Result<Session> {
        let transport = transport(settings)?;
        warn_if_insecure(settings);
        trace::trace_connect(settings);

        let (events_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let connection = Arc::new(AtomicU64::new(0));
        let unconfirmed_lost = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            events: events_tx,
            reconnect: settings.reconnect,
            connection: connection.clone(),
            unconfirmed_lost: unconfirmed_lost.clone(),
        };
        let connecting = async {
            let dial = options::Dial {
                settings,
                options,
                transport,
                shared,
            };
            match settings.protocol {
                ProtocolVersion::V31 | ProtocolVersion::V311 => v4::connect(dial)
                    .await
                    .map(|(client, info, driver)| (Client::V4(client), info, driver)),
                ProtocolVersion::V5 => v5::connect(dial)
                    .await
                    .map(|(client, info, driver)| (Client::V5(client), info, driver)),
            }
        };
        // Boxed: the connecting future is large and over once connected; inline, it would
        // stay in the future of every caller holding the session (bench conn holds thousands).
        let connecting = Box::pin(connecting);
        let (client, info, driver) =
            match tokio::time::timeout(settings.connect_timeout, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(no_connack(settings)),
            }
            .with_context(|| format!("connecting to {}", settings.place()))?;
        debug!(
            "received CONNACK ({}{})",
            match settings.protocol {
                // The byte is reserved in 3.1: whether a session was kept is not said.
                ProtocolVersion::V31 => "MQTT 3.1 has no session present flag".to_string(),
                _ => format!("session present {}", info.session_present),
            },
            trace::describe_announced(&info.announced)
        );

        Ok(Session {
            client,
            events,
            control: OnceLock::new(),
            connection,
            driver,
            subscriptions: Vec::new(),
            info,
            unconfirmed_lost,
        })
    }

    /// The control task's channel, starting the task the first time.
    fn control(&self) -> &mpsc::UnboundedSender<Control> {
        self.control
            .get_or_init(|| spawn_control(self.client.clone(), self.connection.clone()))
    }

    /// A handle for publishing from another task.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            client: self.client.clone(),
        }
    }

    /// Sends one SUBSCRIBE for all filters; the SUBACK arrives as [`SessionEvent::Subscribed`].
    pub async fn subscribe(
        &mut self,
        filters: &[String],
        options: impl Into<SubscribeOptions>,
    ) -> Result<()> {
        let options = options.into();
        self.subscriptions.push((filters.to_vec(), options));
        self.client.subscribe(filters, options).await
    }

    /// Sends one UNSUBSCRIBE per filter; each UNSUBACK arrives as [`SessionEvent::Unsubscribed`].
    pub async fn unsubscribe(&mut self, filters: &[String]) -> Result<()> {
        for filter in filters {
            for (subscribed, _) in &mut self.subscriptions {
                subscribed.retain(|kept| kept != filter);
            }
            self.client.unsubscribe(filter).await?;
        }
        Ok(())
    }

    /// Acknowledges a message received with manual acks on (see [`SessionOptions`]).
    pub fn ack(&self, received: &Received) {
        if received.message.qos == Qos::AtMostOnce {
            return;
        }
        // A closed control channel means the connection is gone; the event stream says so.
        let _ = self.control().send(Control::Ack(
            received.message.qos,
            received.packet_id,
            received.connection,
        ));
    }

    /// Queues a publish without waiting, for a task that must keep reading events meanwhile
    /// (awaiting a full request channel there could deadlock). Completion arrives as
    /// [`SessionEvent::Published`], in order with other publishes.
    pub fn publish_in_background(&self, message: Message) {
        // A closed control channel means the connection is gone; the event stream says so.
        let _ = self.control().send(Control::Publish(Box::new(message)));
    }

    /// The next event; `None` once the connection is closed and every event was read.
    pub async fn next_event(&mut self) -> Option<SessionEvent> {
        let event = self.events.recv().await;
        if let Some(SessionEvent::Reconnected {
            session_present: false,
        }) = &event
        {
            for (filters, options) in &self.subscriptions {
                if !filters.is_empty() {
                    let _ = self
                        .control()
                        .send(Control::Subscribe(filters.clone(), *options));
                }
            }
        }
        event
    }

    /// True when no event is waiting: a good moment to flush output.
    pub fn is_idle(&self) -> bool {
        self.events.is_empty()
    }

    /// Drops the connection without DISCONNECT, as a crash would: the broker publishes the will.
    pub fn abort(self) {
        // Drop aborts the event loop task, which closes the socket.
    }

    /// Sends DISCONNECT after every queued request and waits until the broker has closed the
    /// connection (so it has read everything before it), at most a short grace period.
    ///
    /// An error (exit 8) when QoS 0 messages may not have arrived: written on a connection that
    /// broke, or reset instead of closed in order after our DISCONNECT (a broker that refuses
    /// a packet, e.g. over its maximum packet size, drops the connection without a word).
    #[must_use = "an error means QoS 0 messages may not have arrived"]
    pub async fn disconnect(mut self) -> Result<()> {
        let mut lost = None;
        if self.control().send(Control::Disconnect).is_ok() {
            // The event loop task ends (closing the channel) once the broker has closed the
            // connection; keep draining so it never blocks on a full channel meanwhile.
            let _ = tokio::time::timeout(DISCONNECT_GRACE * 2, async {
                while let Some(event) = self.events.recv().await {
                    if let SessionEvent::Lost(err) = event {
                        lost = Some(err);
                    }
                }
            })
            .await;
        }
        match self.unconfirmed_lost.load(Ordering::Acquire) {
            0 => Ok(()),
            count => Err(failure(
                ErrorKind::Lost,
                format!(
                    "{count} QoS 0 message(s) may not have arrived: they were written on a \
                     connection that broke before the broker showed it had read them{}",
                    lost.map_or(String::new(), |err| format!(" ({err:#})"))
                ),
            )),
        }
    }
}

/// Connections opened from now on start with small read and write buffers (grown as packets
/// need them) instead of 8 KiB each, for a process that holds many idle connections (`bench
/// conn`): a stream of messages then reads in smaller pieces, so nothing else asks for it.
pub fn small_buffers() {
    rumqttc::SMALL_BUFFERS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A byte stream to the broker's host and port, made as a session makes it (proxy, `-A`,
/// `--unix`), for a protocol of the caller's own on top (`check`'s TLS inspection).
pub async fn open_stream(
    settings: &ConnectSettings,
) -> std::io::Result<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + use<>> {
    connector::open_stream(settings).await
}

/// The transport rumqttc is to use, from the scheme we chose: for WebSockets rumqttc takes the
/// whole URL as the "host", and our scheme, not rumqttc, decides between ws and wss (rumqtt
/// #1065).
fn transport(settings: &ConnectSettings) -> Result<rumqttc::Transport> {
    let tls_configuration = settings.tls.as_ref().map(|tls| {
        let config = tls.config.clone();
        match &tls.options.server_name {
            Some(name) => TlsConfiguration::RustlsWithServerName(config, name.clone()),
            None => TlsConfiguration::Rustls(config),
        }
    });
    Ok(match (&settings.transport, tls_configuration) {
        (Transport::Tcp, None) => rumqttc::Transport::Tcp,
        (Transport::Ws { .. }, None) => rumqttc::Transport::Ws,
        (Transport::Tls, Some(tls)) => rumqttc::Transport::Tls(tls),
        (Transport::Wss { .. }, Some(tls)) => rumqttc::Transport::Wss(tls),
        (transport, _) => {
            // Never fall back to plaintext, nor encrypt what was asked in the clear.
            anyhow::bail!("internal error: no TLS setup matching transport {transport:?}");
        }
    })
}
