//! MQTT 3.1.1 through rumqttc's v4 client: options, requests, and the event loop translated into
//! [`SessionEvent`]s.

use anyhow::Result;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, QoS, SubscribeFilter,
    SubscribeReasonCode,
};
use tracing::debug;

use super::driver::{self, REQUEST_CAPACITY, Shared, Step, closed};
use super::errors;
use super::events::{ConnectInfo, SessionEvent, SessionOptions};
use super::reason::Reason;
use super::trace::{describe_granted, describe_publish, trace_outgoing};
use crate::settings::ConnectSettings;
use crate::vocabulary::{MAX_PACKET_SIZE, Message, Qos, Received, SubscribeOptions};

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

/// Connects, waits for the CONNACK, and starts the event loop task feeding `events`.
pub(super) async fn connect(
    settings: &ConnectSettings,
    options: SessionOptions,
    transport: rumqttc::Transport,
    shared: Shared,
) -> Result<(AsyncClient, ConnectInfo, tokio::task::JoinHandle<()>)> {
    let mut mqtt = MqttOptions::new(
        settings.client_id.clone(),
        driver::broker_address(settings),
        settings.port,
    );
    mqtt.set_keep_alive(settings.keepalive)
        .set_clean_session(settings.clean_session)
        .set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE)
        .set_inflight(options.max_inflight.max(1))
        .set_request_channel_capacity(REQUEST_CAPACITY)
        .set_manual_acks(options.manual_acks)
        .set_transport(transport);
    if let Some(connector) = super::connector::connector(settings) {
        mqtt.set_socket_connector(connector);
    }
    if let Some(username) = &settings.username {
        let password = settings
            .password
            .as_ref()
            .map_or("", |secret| secret.expose());
        mqtt.set_credentials(username.clone(), password);
    }
    if let Some(will) = &settings.will {
        let message = &will.message;
        mqtt.set_last_will(LastWill::new(
            message.topic.clone(),
            message.payload.to_vec(),
            message.qos.into(),
            message.retain,
        ));
    }

    let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CAPACITY);
    eventloop.set_network_options(driver::network_options(settings));
    eventloop.state.trace_packets = tracing::enabled!(tracing::Level::DEBUG);
    let info = match eventloop.poll().await {
        Err(err) => return Err(errors::connect_error(err, settings)),
        Ok(Event::Incoming(Packet::ConnAck(ack))) => ConnectInfo {
            session_present: ack.session_present,
            ..ConnectInfo::default()
        },
        Ok(other) => anyhow::bail!("expected CONNACK, got {other:?}"),
    };
    let driver = tokio::spawn(driver::drive(Link(eventloop), shared));
    Ok((client, info, driver))
}

pub(super) async fn publish(client: &AsyncClient, message: Message) -> Result<()> {
    client
        .publish_bytes(
            message.topic,
            message.qos.into(),
            message.retain,
            message.payload,
        )
        .await
        .map_err(|_| closed())
}

pub(super) async fn subscribe(
    client: &AsyncClient,
    filters: &[String],
    options: SubscribeOptions,
) -> Result<()> {
    let filters = filters
        .iter()
        .map(|filter| SubscribeFilter::new(filter.clone(), options.qos.into()));
    client.subscribe_many(filters).await.map_err(|_| closed())
}

pub(super) async fn ack(client: &AsyncClient, qos: Qos, packet_id: u16) -> Result<()> {
    let mut publish = rumqttc::Publish::new("", qos.into(), Vec::new());
    publish.pkid = packet_id;
    client.ack(&publish).await.map_err(|_| closed())
}

/// rumqttc's v4 event loop as the drive loop sees it (`driver.rs`).
struct Link(EventLoop);

impl driver::Link for Link {
    type Error = rumqttc::ConnectionError;

    async fn next_step(&mut self, connection: u64) -> Result<Step, Self::Error> {
        let event = self.0.poll().await?;
        trace_event(&event);
        Ok(match event {
            // Only a reconnect gets here: the first CONNACK was read by `connect`.
            Event::Incoming(Packet::ConnAck(ack)) => Step::Reconnected {
                session_present: ack.session_present,
            },
            Event::Incoming(Packet::Publish(publish)) => {
                Step::Forward(SessionEvent::Message(Box::new(Received {
                    packet_id: publish.pkid,
                    connection,
                    message: Message::new(
                        publish.topic,
                        publish.payload,
                        publish.qos.into(),
                        publish.retain,
                    ),
                })))
            }
            Event::Incoming(Packet::PubAck(_)) | Event::Incoming(Packet::PubComp(_)) => {
                Step::Forward(SessionEvent::Published(Ok(())))
            }
            Event::Outgoing(Outgoing::Publish(0)) => Step::Qos0Written,
            Event::Incoming(Packet::PingResp) => Step::PingResp,
            Event::Incoming(Packet::SubAck(suback)) => {
                Step::Forward(SessionEvent::Subscribed(granted(&suback.return_codes)))
            }
            Event::Incoming(Packet::UnsubAck(_)) => {
                Step::Forward(SessionEvent::Unsubscribed(Ok(())))
            }
            Event::Outgoing(Outgoing::Disconnect) => Step::Disconnected,
            _ => Step::Nothing,
        })
    }

    fn recoverable(err: &Self::Error) -> bool {
        errors::recoverable(err)
    }

    fn lost(err: Self::Error) -> anyhow::Error {
        errors::lost_error(err)
    }

    fn closed_in_order(err: &Self::Error) -> Result<(), String> {
        errors::closed_in_order(err)
    }
}

/// A SUBACK's return codes: the QoS granted, or MQTT 3.1.1's "Failure".
fn granted(codes: &[SubscribeReasonCode]) -> Vec<Result<Qos, Reason>> {
    codes
        .iter()
        .map(|code| match code {
            SubscribeReasonCode::Success(qos) => Ok((*qos).into()),
            SubscribeReasonCode::Failure => Err(Reason::v311_subscribe_failure()),
        })
        .collect()
}

fn trace_event(event: &Event) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    match event {
        Event::Incoming(packet) => debug!("received {}", describe_packet(packet)),
        Event::Outgoing(outgoing) => trace_outgoing(outgoing),
    }
}

fn describe_packet(packet: &Packet) -> String {
    match packet {
        Packet::Publish(publish) => describe_publish(&rumqttc::PublishTrace {
            topic: publish.topic.clone(),
            qos: publish.qos as u8,
            retain: publish.retain,
            dup: publish.dup,
            pkid: publish.pkid,
            payload_len: publish.payload.len(),
            topic_alias: None,
        }),
        Packet::ConnAck(ack) => format!("CONNACK ({:?})", ack.code),
        Packet::PubAck(ack) => format!("PUBACK (packet id {})", ack.pkid),
        Packet::PubRec(ack) => format!("PUBREC (packet id {})", ack.pkid),
        Packet::PubRel(ack) => format!("PUBREL (packet id {})", ack.pkid),
        Packet::PubComp(ack) => format!("PUBCOMP (packet id {})", ack.pkid),
        Packet::SubAck(ack) => format!(
            "SUBACK (packet id {}, {})",
            ack.pkid,
            describe_granted(&granted(&ack.return_codes))
        ),
        Packet::UnsubAck(ack) => format!("UNSUBACK (packet id {})", ack.pkid),
        Packet::PingResp => "PINGRESP".to_string(),
        Packet::Disconnect => "DISCONNECT".to_string(),
        other => format!("{other:?}"),
    }
}
