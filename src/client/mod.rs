//! The MQTT session: the only code that knows rumqttc.
//!
//! Commands see one message model and a stream of [`SessionEvent`]s. The rumqttc event loop runs
//! in its own task and is never cancelled mid-poll (that can drop a request it already took), and
//! requests are fed from the command's task, so a full request channel cannot deadlock (rumqtt
//! #1025). QoS 1 and 2 publishes complete at their PUBACK / PUBCOMP, never at
//! `Outgoing::Publish` (rumqtt #1031); QoS 0 ones once written. Transports (TCP, TLS, ws, wss)
//! come from the settings' scheme, never from rumqttc's guess (rumqtt #1065).

mod errors;

use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Outgoing, Packet, QoS,
    SubscribeFilter, SubscribeReasonCode, TlsConfiguration,
};
use tokio::sync::mpsc;
use tracing::debug;

use crate::error::{ErrorKind, failure};
use crate::settings::{ConnectSettings, MAX_PACKET_SIZE, Transport};

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Qos {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl From<Qos> for QoS {
    fn from(qos: Qos) -> QoS {
        match qos {
            Qos::AtMostOnce => QoS::AtMostOnce,
            Qos::AtLeastOnce => QoS::AtLeastOnce,
            Qos::ExactlyOnce => QoS::ExactlyOnce,
        }
    }
}

impl From<QoS> for Qos {
    fn from(qos: QoS) -> Qos {
        match qos {
            QoS::AtMostOnce => Qos::AtMostOnce,
            QoS::AtLeastOnce => Qos::AtLeastOnce,
            QoS::ExactlyOnce => Qos::ExactlyOnce,
        }
    }
}

/// One application message, the same for every protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
}

/// A message received from the broker, with what is needed to acknowledge it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message: Message,
    pub packet_id: u16,
}

/// What happened on the session, in order. More kinds may come: match with a catch-all.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A message arrived.
    Message(Received),
    /// One of our publishes is complete: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP.
    Published,
    /// A SUBACK: one result per filter, in the order subscribed (`None` = refused).
    Subscribed(Vec<Option<Qos>>),
    /// An UNSUBACK.
    Unsubscribed,
    /// The connection failed; the error says why.
    Lost(anyhow::Error),
}

/// What the broker said in its CONNACK.
#[derive(Debug, Clone, Copy)]
pub struct ConnectInfo {
    pub session_present: bool,
}

/// Options of the session itself, as opposed to the broker's address and credentials.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Acknowledge incoming QoS 1/2 messages only when the command says so (see [`Session::ack`]).
    pub manual_acks: bool,
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once (at least 1).
    pub max_inflight: u16,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            manual_acks: false,
            max_inflight: default_max_inflight(Qos::ExactlyOnce),
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

/// A connected MQTT session.
pub struct Session {
    client: AsyncClient,
    events: mpsc::Receiver<SessionEvent>,
    control: mpsc::UnboundedSender<Control>,
    pub info: ConnectInfo,
}

/// Requests that must never block the command's task, sent in order by a task of their own:
/// awaiting a full request channel while the event loop waits on a full event channel would
/// deadlock.
enum Control {
    Ack(rumqttc::Publish),
    Publish(Message),
    Disconnect,
}

/// A cheap handle that sends publishes; use it from the task that produces messages.
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
}

impl Publisher {
    /// Queues a message; waits while the request channel is full. Completion arrives later as
    /// [`SessionEvent::Published`].
    pub async fn publish(&self, message: Message) -> Result<()> {
        self.client
            .publish_bytes(
                message.topic,
                message.qos.into(),
                message.retain,
                message.payload,
            )
            .await
            .map_err(|_| failure(ErrorKind::Lost, "the connection is closed"))
    }
}

impl Session {
    /// Connects and waits for a successful CONNACK.
    pub async fn connect(settings: &ConnectSettings, options: SessionOptions) -> Result<Session> {
        // For WebSockets rumqttc takes the whole URL as the "host"; the scheme we chose, not
        // rumqttc, decides between ws and wss (rumqtt #1065).
        let broker = settings
            .websocket_url()
            .unwrap_or_else(|| settings.host.clone());
        let mut mqtt = MqttOptions::new(settings.client_id.clone(), broker, settings.port);
        mqtt.set_keep_alive(settings.keepalive)
            .set_clean_session(settings.clean_session)
            .set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE)
            .set_inflight(options.max_inflight.max(1))
            .set_request_channel_capacity(REQUEST_CAPACITY)
            .set_manual_acks(options.manual_acks);
        if let Some(username) = &settings.username {
            let password = settings
                .password
                .as_ref()
                .map_or("", |secret| secret.expose());
            mqtt.set_credentials(username.clone(), password);
        }
        if let Some(will) = &settings.will {
            mqtt.set_last_will(LastWill::new(
                will.topic.clone(),
                will.payload.to_vec(),
                will.qos.into(),
                will.retain,
            ));
        }

        let tls_configuration = settings.tls.as_ref().map(|tls| {
            let config = tls.config.clone();
            match &tls.options.server_name {
                Some(name) => TlsConfiguration::RustlsWithServerName(config, name.clone()),
                None => TlsConfiguration::Rustls(config),
            }
        });
        mqtt.set_transport(match (&settings.transport, tls_configuration) {
            (Transport::Tcp, None) => rumqttc::Transport::Tcp,
            (Transport::Ws { .. }, None) => rumqttc::Transport::Ws,
            (Transport::Tls, Some(tls)) => rumqttc::Transport::Tls(tls),
            (Transport::Wss { .. }, Some(tls)) => rumqttc::Transport::Wss(tls),
            (transport, _) => {
                // Never fall back to plaintext, nor encrypt what was asked in the clear.
                anyhow::bail!("internal error: no TLS setup matching transport {transport:?}");
            }
        });
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

        let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CAPACITY);
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        // rumqttc's timeout (whole seconds) also bounds each flush; ours below is the precise one.
        network.set_connection_timeout(settings.connect_timeout.as_secs().max(1) + 1);
        eventloop.set_network_options(network);

        debug!(
            "sending CONNECT to {} (client id {:?}, keepalive {}s, clean session {}, user {}, password {}, will {})",
            settings.address(),
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
                .map_or("none", |will| will.topic.as_str()),
        );
        let first = tokio::time::timeout(settings.connect_timeout, eventloop.poll()).await;
        let info = match first {
            Err(_) => {
                return Err(failure(
                    ErrorKind::Connect,
                    format!(
                        "no CONNACK within {} (--connect-timeout)",
                        humantime::format_duration(settings.connect_timeout)
                    ),
                ))
                .with_context(|| format!("connecting to {}", settings.address()));
            }
            Ok(Err(err)) => {
                return Err(errors::connect_error(err, settings))
                    .with_context(|| format!("connecting to {}", settings.address()));
            }
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => ConnectInfo {
                session_present: ack.session_present,
            },
            Ok(Ok(other)) => {
                return Err(anyhow::anyhow!("expected CONNACK, got {other:?}"))
                    .with_context(|| format!("connecting to {}", settings.address()));
            }
        };
        debug!(
            "received CONNACK (session present {})",
            info.session_present
        );

        let (events_tx, events) = mpsc::channel(EVENT_CAPACITY);
        tokio::spawn(drive(eventloop, events_tx));
        let (control, mut control_rx) = mpsc::unbounded_channel();
        let control_client = client.clone();
        let publisher = Publisher {
            client: client.clone(),
        };
        tokio::spawn(async move {
            while let Some(request) = control_rx.recv().await {
                let sent = match request {
                    Control::Ack(publish) => control_client.ack(&publish).await.is_ok(),
                    Control::Publish(message) => publisher.publish(message).await.is_ok(),
                    Control::Disconnect => control_client.disconnect().await.is_ok(),
                };
                if !sent {
                    return;
                }
            }
        });
        Ok(Session {
            client,
            events,
            control,
            info,
        })
    }

    /// A handle for publishing from another task.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            client: self.client.clone(),
        }
    }

    /// Sends one SUBSCRIBE for all filters; the SUBACK arrives as [`SessionEvent::Subscribed`].
    pub async fn subscribe(&self, filters: &[String], qos: Qos) -> Result<()> {
        let filters = filters
            .iter()
            .map(|filter| SubscribeFilter::new(filter.clone(), qos.into()));
        self.client
            .subscribe_many(filters)
            .await
            .map_err(|_| failure(ErrorKind::Lost, "the connection is closed"))
    }

    /// Sends one UNSUBSCRIBE per filter; each UNSUBACK arrives as [`SessionEvent::Unsubscribed`].
    pub async fn unsubscribe(&self, filters: &[String]) -> Result<()> {
        for filter in filters {
            self.client
                .unsubscribe(filter.clone())
                .await
                .map_err(|_| failure(ErrorKind::Lost, "the connection is closed"))?;
        }
        Ok(())
    }

    /// Acknowledges a message received with manual acks on (see [`SessionOptions`]).
    pub fn ack(&self, received: &Received) {
        if received.message.qos == Qos::AtMostOnce {
            return;
        }
        let mut publish = rumqttc::Publish::new("", received.message.qos.into(), Vec::new());
        publish.pkid = received.packet_id;
        // A closed control channel means the connection is gone; the event stream says so.
        let _ = self.control.send(Control::Ack(publish));
    }

    /// Queues a publish without waiting, for a task that must keep reading events meanwhile
    /// (awaiting a full request channel there could deadlock). Completion arrives as
    /// [`SessionEvent::Published`], in order with other publishes.
    pub fn publish_in_background(&self, message: Message) {
        // A closed control channel means the connection is gone; the event stream says so.
        let _ = self.control.send(Control::Publish(message));
    }

    /// The next event; `None` once the connection is closed and every event was read.
    pub async fn next_event(&mut self) -> Option<SessionEvent> {
        self.events.recv().await
    }

    /// True when no event is waiting: a good moment to flush output.
    pub fn is_idle(&self) -> bool {
        self.events.is_empty()
    }

    /// Sends DISCONNECT after every queued request and waits until the broker has closed the
    /// connection (so it has read everything before it), at most a short grace period.
    pub async fn disconnect(mut self) {
        if self.control.send(Control::Disconnect).is_err() {
            return;
        }
        // The event loop task ends (closing the channel) once the broker has closed the
        // connection; keep draining so it never blocks on a full channel meanwhile.
        let _ = tokio::time::timeout(DISCONNECT_GRACE * 2, async {
            while self.events.recv().await.is_some() {}
        })
        .await;
    }
}

/// Polls the event loop until the connection ends, forwarding what the commands need.
async fn drive(mut eventloop: EventLoop, events: mpsc::Sender<SessionEvent>) {
    loop {
        let event = match eventloop.poll().await {
            Ok(event) => event,
            Err(err) => {
                debug!("connection closed: {err}");
                let _ = events
                    .send(SessionEvent::Lost(errors::lost_error(err)))
                    .await;
                return;
            }
        };
        trace_event(&event);
        let forward = match event {
            Event::Incoming(Packet::Publish(publish)) => Some(SessionEvent::Message(Received {
                packet_id: publish.pkid,
                message: Message {
                    topic: publish.topic,
                    payload: publish.payload,
                    qos: publish.qos.into(),
                    retain: publish.retain,
                },
            })),
            Event::Incoming(Packet::PubAck(_)) | Event::Incoming(Packet::PubComp(_)) => {
                Some(SessionEvent::Published)
            }
            Event::Outgoing(Outgoing::Publish(0)) => Some(SessionEvent::Published),
            Event::Incoming(Packet::SubAck(suback)) => Some(SessionEvent::Subscribed(
                suback
                    .return_codes
                    .iter()
                    .map(|code| match code {
                        SubscribeReasonCode::Success(qos) => Some((*qos).into()),
                        SubscribeReasonCode::Failure => None,
                    })
                    .collect(),
            )),
            Event::Incoming(Packet::UnsubAck(_)) => Some(SessionEvent::Unsubscribed),
            Event::Outgoing(Outgoing::Disconnect) => {
                wait_for_close(&mut eventloop).await;
                return;
            }
            _ => None,
        };
        if let Some(forward) = forward
            && events.send(forward).await.is_err()
        {
            return;
        }
    }
}

/// After our DISCONNECT: the broker closes the connection once it has processed everything
/// before it. Poll (without reconnecting: we stop at the first error) until then.
async fn wait_for_close(eventloop: &mut EventLoop) {
    let _ = tokio::time::timeout(DISCONNECT_GRACE, async {
        while eventloop.poll().await.is_ok() {}
    })
    .await;
    debug!("connection closed after DISCONNECT");
}

fn trace_event(event: &Event) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    match event {
        Event::Incoming(Packet::Publish(publish)) => debug!(
            "received PUBLISH (topic {:?}, qos {}, retain {}, packet id {}, {} bytes)",
            publish.topic,
            publish.qos as u8,
            publish.retain,
            publish.pkid,
            publish.payload.len()
        ),
        Event::Incoming(packet) => debug!("received {}", describe_packet(packet)),
        Event::Outgoing(outgoing) => debug!("sent {}", describe_outgoing(outgoing)),
    }
}

fn describe_packet(packet: &Packet) -> String {
    match packet {
        Packet::ConnAck(ack) => format!("CONNACK ({:?})", ack.code),
        Packet::PubAck(ack) => format!("PUBACK (packet id {})", ack.pkid),
        Packet::PubRec(ack) => format!("PUBREC (packet id {})", ack.pkid),
        Packet::PubRel(ack) => format!("PUBREL (packet id {})", ack.pkid),
        Packet::PubComp(ack) => format!("PUBCOMP (packet id {})", ack.pkid),
        Packet::SubAck(ack) => format!("SUBACK (packet id {}, {:?})", ack.pkid, ack.return_codes),
        Packet::UnsubAck(ack) => format!("UNSUBACK (packet id {})", ack.pkid),
        Packet::PingResp => "PINGRESP".to_string(),
        Packet::Disconnect => "DISCONNECT".to_string(),
        other => format!("{other:?}"),
    }
}

fn describe_outgoing(outgoing: &Outgoing) -> String {
    match outgoing {
        Outgoing::Publish(id) => format!("PUBLISH (packet id {id})"),
        Outgoing::Subscribe(id) => format!("SUBSCRIBE (packet id {id})"),
        Outgoing::Unsubscribe(id) => format!("UNSUBSCRIBE (packet id {id})"),
        Outgoing::PubAck(id) => format!("PUBACK (packet id {id})"),
        Outgoing::PubRec(id) => format!("PUBREC (packet id {id})"),
        Outgoing::PubRel(id) => format!("PUBREL (packet id {id})"),
        Outgoing::PubComp(id) => format!("PUBCOMP (packet id {id})"),
        Outgoing::PingReq => "PINGREQ".to_string(),
        Outgoing::PingResp => "PINGRESP".to_string(),
        Outgoing::Disconnect => "DISCONNECT".to_string(),
        Outgoing::AwaitAck(id) => format!("nothing: waiting for the ack of packet id {id}"),
    }
}
