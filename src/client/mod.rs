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

mod errors;
mod reason;
mod v4;
mod v5;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use rumqttc::{NetworkOptions, Outgoing, TlsConfiguration};
use tokio::sync::mpsc;
use tracing::debug;

pub use reason::Reason;

use crate::cli::ProtocolVersion;
use crate::error::{ErrorKind, failure};
use crate::settings::{ConnectSettings, Transport};

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Qos {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

/// MQTT 5 message properties (all empty on MQTT 3.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// 1: the payload is UTF-8 text; 0: unspecified bytes.
    pub payload_format_indicator: Option<u8>,
    /// Seconds the broker keeps the message for subscribers that are away.
    pub message_expiry_interval: Option<u32>,
    /// A number standing for the topic on this connection.
    pub topic_alias: Option<u16>,
    /// Where an answer should go (request/response).
    pub response_topic: Option<String>,
    /// Ties an answer to its request.
    pub correlation_data: Option<Bytes>,
    /// Key/value pairs, in order; a key may repeat.
    pub user_properties: Vec<(String, String)>,
    /// Identifiers of the subscriptions the message matched (received messages only).
    pub subscription_identifiers: Vec<usize>,
    /// MIME type of the payload.
    pub content_type: Option<String>,
}

impl Properties {
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }
}

/// One application message, the same for every protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5 properties; must stay empty on an MQTT 3.1.1 session.
    pub properties: Properties,
}

impl Message {
    /// A message without properties.
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<Bytes>,
        qos: Qos,
        retain: bool,
    ) -> Self {
        Message {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
            properties: Properties::default(),
        }
    }
}

/// A message received from the broker, with what is needed to acknowledge it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message: Message,
    pub packet_id: u16,
    /// Which connection of the session brought it (0 first, then one more per reconnect):
    /// an acknowledgement goes only to that connection, where its packet id means it.
    pub connection: u64,
}

/// What happened on the session, in order. More kinds may come: match with a catch-all.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A message arrived.
    Message(Received),
    /// One of our publishes is complete: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP; or the
    /// broker refused it (MQTT 5: a PUBACK, PUBREC or PUBCOMP reason code of 0x80 or more).
    Published(Result<(), Reason>),
    /// A SUBACK: one result per filter, in the order subscribed.
    Subscribed(Vec<Result<Qos, Reason>>),
    /// An UNSUBACK: the first failure among its reason codes, if any (MQTT 5).
    Unsubscribed(Result<(), Reason>),
    /// The connection dropped and came back (see [`Reconnect`]); without a session on the
    /// broker the subscriptions were made again, and unacknowledged publishes are sent again.
    Reconnected { session_present: bool },
    /// The connection failed or the broker ended it (a DISCONNECT), and was not recovered;
    /// the error says why.
    Lost(anyhow::Error),
}

/// How a session survives a dropped connection: reconnect after a wait that starts short and
/// doubles up to `max_delay` (with jitter, so many clients do not return at once), until
/// `give_up_after` without a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    pub max_delay: Duration,
    /// `None`: never give up.
    pub give_up_after: Option<Duration>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            max_delay: Duration::from_secs(10),
            give_up_after: Some(Duration::from_secs(60)),
        }
    }
}

/// The first wait before reconnecting.
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(250);

/// A connection that drops this soon after it was made counts as refused.
const QUICK_DROP: Duration = Duration::from_secs(1);
/// After this many quick drops in a row, reconnecting is pointless.
const QUICK_DROPS_TO_GIVE_UP: u32 = 3;

/// Tracks one outage of the connection, for the drive loops.
struct Outage {
    since: Option<std::time::Instant>,
    attempts: u32,
    /// When the current connection was made; `None` while disconnected.
    connected_at: Option<std::time::Instant>,
    /// Connections in a row that dropped within [`QUICK_DROP`]: a broker that refuses
    /// something we send (MQTT 3.1.1 has no way to say what) closes each one at once.
    quick_drops: u32,
}

impl Default for Outage {
    fn default() -> Self {
        Outage {
            since: None,
            attempts: 0,
            connected_at: Some(std::time::Instant::now()),
            quick_drops: 0,
        }
    }
}

impl Outage {
    /// After a failed poll: how long to wait before polling (reconnecting) again, or the error
    /// that ends the session. The first failure of an outage prints one notice.
    fn next_wait(
        &mut self,
        policy: Option<Reconnect>,
        error: anyhow::Error,
        recoverable: bool,
    ) -> Result<Duration, anyhow::Error> {
        let Some(policy) = policy.filter(|_| recoverable) else {
            return Err(error);
        };
        if let Some(connected_at) = self.connected_at.take() {
            if connected_at.elapsed() < QUICK_DROP {
                self.quick_drops += 1;
            } else {
                self.quick_drops = 0;
            }
            if self.quick_drops >= QUICK_DROPS_TO_GIVE_UP {
                return Err(failure(
                    ErrorKind::Lost,
                    format!(
                        "{error:#}; the broker closed the connection {} times in a row right after \
                         it was made, so it refuses something this client sends (a message over \
                         its maximum packet size? a topic its ACL denies? the client id in use \
                         by another client?)",
                        self.quick_drops
                    ),
                ));
            }
        }
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        if self.attempts == 0 {
            tracing::info!("{error:#}; reconnecting");
        } else {
            debug!("reconnecting failed: {error:#}");
        }
        if let Some(limit) = policy.give_up_after
            && since.elapsed() >= limit
        {
            return Err(failure(
                ErrorKind::Lost,
                format!(
                    "could not reconnect within {} (--reconnect-timeout): {error:#}",
                    humantime::format_duration(limit)
                ),
            ));
        }
        let doubled = FIRST_RECONNECT_DELAY.saturating_mul(1 << self.attempts.min(16));
        let wait = doubled.min(policy.max_delay);
        self.attempts += 1;
        // +-25% jitter.
        Ok(wait.mul_f64(0.75 + fastrand::f64() * 0.5))
    }

    /// After a failed poll: waits before the next attempt and returns true, or reports why the
    /// session ends and returns false.
    async fn retry_or_end(
        &mut self,
        shared: &Shared,
        error: anyhow::Error,
        recoverable: bool,
    ) -> bool {
        match self.next_wait(shared.reconnect, error, recoverable) {
            Ok(wait) => {
                tokio::time::sleep(wait).await;
                true
            }
            Err(error) => {
                let _ = shared.events.send(SessionEvent::Lost(error)).await;
                false
            }
        }
    }

    /// The CONNACK of a reconnect: a new connection number, and the event for the session.
    fn reconnected(&mut self, shared: &Shared, session_present: bool) -> SessionEvent {
        shared.connection.fetch_add(1, Ordering::AcqRel);
        if let Some(away) = self.ended() {
            debug!(
                "reconnected after {} (session present {session_present})",
                humantime::format_duration(Duration::from_millis(
                    u64::try_from(away.as_millis()).unwrap_or(u64::MAX)
                ))
            );
        }
        SessionEvent::Reconnected { session_present }
    }

    /// The connection is back: returns how long it was away, if it was.
    fn ended(&mut self) -> Option<Duration> {
        self.attempts = 0;
        self.connected_at = Some(std::time::Instant::now());
        self.since.take().map(|since| since.elapsed())
    }
}

/// What the broker said in its CONNACK.
#[derive(Debug, Clone, Default)]
pub struct ConnectInfo {
    pub session_present: bool,
    /// What an MQTT 5 CONNACK announced; all `None` on MQTT 3.1.1.
    pub announced: Announced,
}

/// The CONNACK properties of MQTT 5 that describe what the broker allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announced {
    pub maximum_qos: Option<u8>,
    pub retain_available: Option<bool>,
    pub maximum_packet_size: Option<u32>,
    pub receive_maximum: Option<u16>,
    pub topic_alias_maximum: Option<u16>,
    pub wildcard_subscription_available: Option<bool>,
    pub subscription_identifiers_available: Option<bool>,
    pub shared_subscription_available: Option<bool>,
    pub server_keep_alive: Option<u16>,
    pub session_expiry_interval: Option<u32>,
    pub assigned_client_identifier: Option<String>,
}

/// Options of the session itself, as opposed to the broker's address and credentials.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Acknowledge incoming QoS 1/2 messages only when the command says so (see [`Session::ack`]).
    pub manual_acks: bool,
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once (at least 1). On MQTT 5 the
    /// broker's Receive Maximum lowers it further.
    pub max_inflight: u16,
}

/// What the drive loops share with the session.
#[derive(Clone)]
struct Shared {
    events: mpsc::Sender<SessionEvent>,
    reconnect: Option<Reconnect>,
    /// The number of the current connection (see [`Received::connection`]).
    connection: Arc<AtomicU64>,
    /// QoS 0 messages written on a connection that then broke (or was not closed in order after
    /// our DISCONNECT) before the broker showed it had read them: they may not have arrived.
    unconfirmed_lost: Arc<AtomicU64>,
}

/// QoS 0 messages written on the current connection and not yet known to be read by the broker.
/// The broker handles packets in order, so a PINGRESP (our PINGREQ went after them) or its
/// orderly close after our DISCONNECT proves it has read them all.
#[derive(Default)]
struct Unconfirmed(u64);

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

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            manual_acks: false,
            max_inflight: default_max_inflight(Qos::ExactlyOnce),
        }
    }
}

/// How to subscribe: the QoS, and MQTT 5's subscription options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeOptions {
    pub qos: Qos,
    /// Do not send us our own publishes (MQTT 5).
    pub no_local: bool,
    /// Keep the retain flag of live messages as published (MQTT 5).
    pub retain_as_published: bool,
    /// 0: send retained messages at subscribe; 1: only for a new subscription; 2: never (MQTT 5).
    pub retain_handling: u8,
    /// A number the broker attaches to the messages this subscription matches (MQTT 5).
    pub subscription_identifier: Option<usize>,
}

impl From<Qos> for SubscribeOptions {
    fn from(qos: Qos) -> Self {
        SubscribeOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: 0,
            subscription_identifier: None,
        }
    }
}

/// The in-flight window for publishing at `qos`. MQTT 3.1.1 cannot negotiate a receive maximum:
/// mosquitto accepts 20 unacknowledged QoS 2 messages by default (`max_inflight_messages`) and
/// drops the connection at the 21st, so QoS 2 stays at 20; QoS 1 is not limited that way, and
/// 100 (AWS IoT Core's limit) keeps the pipe full on a fast link.
pub fn default_max_inflight(qos: Qos) -> u16 {
    match qos {
        Qos::ExactlyOnce => 20,
        _ => 100,
    }
}

/// How many requests may wait for the event loop; bounds memory for `pub -l` on endless input.
const REQUEST_CAPACITY: usize = 256;
/// How many events may wait for the command.
const EVENT_CAPACITY: usize = 1024;
/// How long to wait for the broker to close the connection after our DISCONNECT.
const DISCONNECT_GRACE: Duration = Duration::from_secs(2);

/// What a version's `connect` hands back: the client, the CONNACK, and the event loop's task.
type Connected = (Client, ConnectInfo, tokio::task::JoinHandle<()>);

/// A connected MQTT session. Dropping it without [`Session::disconnect`] closes the connection
/// abruptly (no DISCONNECT: the broker publishes the will).
pub struct Session {
    client: Client,
    events: mpsc::Receiver<SessionEvent>,
    control: mpsc::UnboundedSender<Control>,
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
    V4(rumqttc::AsyncClient),
    V5(v5::Client),
}

/// The error for a request made after the event loop ended.
fn closed() -> anyhow::Error {
    failure(ErrorKind::Lost, "the connection is closed")
}

impl Client {
    async fn publish(&self, message: Message) -> Result<()> {
        match self {
            Client::V4(client) => v4::publish(client, message).await,
            Client::V5(client) => client.publish(message).await,
        }
    }

    async fn subscribe(&self, filters: &[String], options: SubscribeOptions) -> Result<()> {
        match self {
            Client::V4(client) => v4::subscribe(client, filters, options).await,
            Client::V5(client) => client.subscribe(filters, options).await,
        }
    }

    async fn unsubscribe(&self, filter: &str) -> Result<()> {
        match self {
            Client::V4(client) => client.unsubscribe(filter).await.map_err(|_| closed()),
            Client::V5(client) => client.unsubscribe(filter).await,
        }
    }

    async fn ack(&self, qos: Qos, packet_id: u16) -> Result<()> {
        match self {
            Client::V4(client) => v4::ack(client, qos, packet_id).await,
            Client::V5(client) => client.ack(qos, packet_id).await,
        }
    }

    async fn disconnect(&self) -> Result<()> {
        match self {
            Client::V4(client) => client.disconnect().await.map_err(|_| closed()),
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

impl Session {
    /// Connects and waits for a successful CONNACK.
    pub async fn connect(settings: &ConnectSettings, options: SessionOptions) -> Result<Session> {
        let transport = transport(settings)?;
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
        trace_connect(settings);

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
            match settings.protocol {
                ProtocolVersion::V311 => v4::connect(settings, options, transport, shared).await,
                ProtocolVersion::V5 => v5::connect(settings, options, transport, shared).await,
            }
        };
        let (client, info, driver) =
            match tokio::time::timeout(settings.connect_timeout, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(failure(
                    ErrorKind::Connect,
                    format!(
                        "no CONNACK within {} (--connect-timeout)",
                        humantime::format_duration(settings.connect_timeout)
                    ),
                )),
            }
            .with_context(|| format!("connecting to {}", settings.address()))?;
        debug!(
            "received CONNACK (session present {}{})",
            info.session_present,
            describe_announced(&info.announced)
        );

        let (control, mut control_rx) = mpsc::unbounded_channel();
        let control_client = client.clone();
        tokio::spawn(async move {
            while let Some(request) = control_rx.recv().await {
                let sent = match request {
                    // An acknowledgement for an earlier connection would hit another message
                    // that happens to have the same packet id now: the broker sends the
                    // unacknowledged one again instead.
                    Control::Ack(_, _, on) if on != connection.load(Ordering::Acquire) => Ok(()),
                    Control::Ack(qos, packet_id, _) => control_client.ack(qos, packet_id).await,
                    Control::Subscribe(filters, options) => {
                        control_client.subscribe(&filters, options).await
                    }
                    Control::Publish(message) => control_client.publish(*message).await,
                    Control::Disconnect => control_client.disconnect().await,
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(Session {
            client,
            events,
            control,
            driver,
            subscriptions: Vec::new(),
            info,
            unconfirmed_lost,
        })
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
        let _ = self.control.send(Control::Ack(
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
        let _ = self.control.send(Control::Publish(Box::new(message)));
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
                        .control
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
        if self.control.send(Control::Disconnect).is_ok() {
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

/// The "host" rumqttc connects to: the host, or the whole URL for WebSockets.
fn broker_address(settings: &ConnectSettings) -> String {
    settings
        .websocket_url()
        .unwrap_or_else(|| settings.host.clone())
}

fn network_options(settings: &ConnectSettings) -> NetworkOptions {
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    // rumqttc's timeout (whole seconds) also bounds each flush; ours in `connect` is the
    // precise one.
    network.set_connection_timeout(settings.connect_timeout.as_secs().max(1) + 1);
    network
}

fn trace_connect(settings: &ConnectSettings) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let mut v5 = String::new();
    if settings.protocol == ProtocolVersion::V5 {
        if let Some(expiry) = settings.session_expiry {
            v5.push_str(&format!(", session expiry {expiry}s"));
        }
        if let Some(maximum) = settings.receive_maximum {
            v5.push_str(&format!(", receive maximum {maximum}"));
        }
        if let Some(size) = settings.maximum_packet_size {
            v5.push_str(&format!(", maximum packet size {size}"));
        }
        if !settings.user_properties.is_empty() {
            v5.push_str(&format!(", user properties {:?}", settings.user_properties));
        }
    }
    debug!(
        "sending CONNECT to {} (MQTT {}, client id {:?}, keepalive {}s, clean {}, user {}, password {}, will {}{v5})",
        settings.address(),
        match settings.protocol {
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5",
        },
        settings.client_id,
        settings.keepalive.as_secs(),
        settings.clean_session,
        settings.username.as_deref().unwrap_or("none"),
        if settings.password.is_some() {
            "<redacted>"
        } else {
            "none"
        },
        settings
            .will
            .as_ref()
            .map_or("none", |will| will.message.topic.as_str()),
    );
}

/// The CONNACK's limits in words, e.g. ", receive maximum 20, topic alias maximum 10".
fn describe_announced(announced: &Announced) -> String {
    let mut text = String::new();
    let mut add = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            text.push_str(&format!(", {name} {value}"));
        }
    };
    let show = |value: Option<u32>| value.map(|value| value.to_string());
    add("maximum QoS", show(announced.maximum_qos.map(u32::from)));
    add(
        "retain available",
        announced.retain_available.map(|v| v.to_string()),
    );
    add("maximum packet size", show(announced.maximum_packet_size));
    add(
        "receive maximum",
        show(announced.receive_maximum.map(u32::from)),
    );
    add(
        "topic alias maximum",
        show(announced.topic_alias_maximum.map(u32::from)),
    );
    add(
        "wildcard subscriptions",
        announced
            .wildcard_subscription_available
            .map(|v| v.to_string()),
    );
    add(
        "subscription identifiers",
        announced
            .subscription_identifiers_available
            .map(|v| v.to_string()),
    );
    add(
        "shared subscriptions",
        announced
            .shared_subscription_available
            .map(|v| v.to_string()),
    );
    add(
        "server keepalive",
        show(announced.server_keep_alive.map(u32::from)),
    );
    add("session expiry", show(announced.session_expiry_interval));
    add(
        "assigned client id",
        announced
            .assigned_client_identifier
            .as_ref()
            .map(|id| format!("{id:?}")),
    );
    text
}

/// A PUBLISH in words, both ways, with what mosquitto's `-d` shows: topic (or the topic alias
/// standing for it), QoS, retain, DUP, packet id and payload size.
fn describe_publish(trace: &rumqttc::PublishTrace) -> String {
    let topic = match (trace.topic.as_str(), trace.topic_alias) {
        ("", Some(alias)) => format!("topic alias {alias} alone"),
        (topic, Some(alias)) => format!("topic {topic:?}, setting topic alias {alias}"),
        (topic, None) => format!("topic {topic:?}"),
    };
    format!(
        "PUBLISH ({topic}, QoS {}, retain {}, DUP {}, packet id {}, {} bytes)",
        trace.qos,
        u8::from(trace.retain),
        u8::from(trace.dup),
        trace.pkid,
        trace.payload_len
    )
}

/// A SUBACK's return codes in words: the QoS granted, or why not.
fn describe_granted(granted: &[Result<Qos, Reason>]) -> String {
    granted
        .iter()
        .map(|result| match result {
            Ok(qos) => format!("granted QoS {}", *qos as u8),
            Err(reason) => format!("refused: {reason}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Describes what was sent or received on the wire, for `--debug`. The detail events come just
/// before the bare ones (which then say nothing more), when the state traces packets.
fn trace_outgoing(outgoing: &Outgoing) {
    let text = match outgoing {
        Outgoing::PublishDetail(trace) => describe_publish(trace),
        Outgoing::SubscribeDetail(id, filters) => format!(
            "SUBSCRIBE (packet id {id}, {})",
            filters
                .iter()
                .map(|(filter, qos)| format!("{filter:?} QoS {qos}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outgoing::Publish(_) | Outgoing::Subscribe(_) => return,
        Outgoing::Unsubscribe(id) => format!("UNSUBSCRIBE (packet id {id})"),
        Outgoing::PubAck(id) => format!("PUBACK (packet id {id})"),
        Outgoing::PubRec(id) => format!("PUBREC (packet id {id})"),
        Outgoing::PubRel(id) => format!("PUBREL (packet id {id})"),
        Outgoing::PubComp(id) => format!("PUBCOMP (packet id {id})"),
        Outgoing::PingReq => "PINGREQ".to_string(),
        Outgoing::PingResp => "PINGRESP".to_string(),
        Outgoing::Disconnect => "DISCONNECT".to_string(),
        Outgoing::AwaitAck(id) => format!("nothing: waiting for the ack of packet id {id}"),
    };
    debug!("sent {text}");
}
