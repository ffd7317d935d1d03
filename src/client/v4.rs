//! MQTT 3.1.1 through rumqttc's v4 client: options, requests, and the event loop translated into
//! [`SessionEvent`]s.

use anyhow::Result;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, QoS, SubscribeFilter,
    SubscribeReasonCode,
};
use std::sync::atomic::Ordering;

use tracing::debug;

use super::{
    Client, ConnectInfo, DISCONNECT_GRACE, Message, Outage, Qos, REQUEST_CAPACITY, Reason,
    Received, SessionEvent, SessionOptions, Shared, SubscribeOptions, Unconfirmed, closed, errors,
};
use crate::error::{ErrorKind, failure};
use crate::settings::{ConnectSettings, MAX_PACKET_SIZE};

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
) -> Result<super::Connected> {
    let mut mqtt = MqttOptions::new(
        settings.client_id.clone(),
        super::broker_address(settings),
        settings.port,
    );
    mqtt.set_keep_alive(settings.keepalive)
        .set_clean_session(settings.clean_session)
        .set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE)
        .set_inflight(options.max_inflight.max(1))
        .set_request_channel_capacity(REQUEST_CAPACITY)
        .set_manual_acks(options.manual_acks)
        .set_transport(transport);
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
    eventloop.set_network_options(super::network_options(settings));
    eventloop.state.trace_packets = tracing::enabled!(tracing::Level::DEBUG);
    let info = match eventloop.poll().await {
        Err(err) => return Err(errors::connect_error(err, settings)),
        Ok(Event::Incoming(Packet::ConnAck(ack))) => ConnectInfo {
            session_present: ack.session_present,
            ..ConnectInfo::default()
        },
        Ok(other) => anyhow::bail!("expected CONNACK, got {other:?}"),
    };
    let driver = tokio::spawn(drive(eventloop, shared));
    Ok((Client::V4(client), info, driver))
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

/// Polls the event loop until the connection ends, forwarding what the commands need.
async fn drive(mut eventloop: EventLoop, shared: Shared) {
    let mut outage = Outage::default();
    let mut unconfirmed = Unconfirmed::default();
    loop {
        let event = match eventloop.poll().await {
            Ok(event) => event,
            Err(err) => {
                debug!("connection closed: {err}");
                unconfirmed.lost(&shared);
                let recoverable = errors::recoverable(&err);
                if outage
                    .retry_or_end(&shared, errors::lost_error(err), recoverable)
                    .await
                {
                    continue;
                }
                return;
            }
        };
        trace_event(&event);
        let forward = match event {
            // Only a reconnect gets here: the first CONNACK was read by `connect`.
            Event::Incoming(Packet::ConnAck(ack)) => {
                Some(outage.reconnected(&shared, ack.session_present))
            }
            Event::Incoming(Packet::Publish(publish)) => Some(SessionEvent::Message(Received {
                packet_id: publish.pkid,
                connection: shared.connection.load(Ordering::Acquire),
                message: Message::new(
                    publish.topic,
                    publish.payload,
                    publish.qos.into(),
                    publish.retain,
                ),
            })),
            Event::Incoming(Packet::PubAck(_)) | Event::Incoming(Packet::PubComp(_)) => {
                Some(SessionEvent::Published(Ok(())))
            }
            Event::Outgoing(Outgoing::Publish(0)) => {
                unconfirmed.written();
                Some(SessionEvent::Published(Ok(())))
            }
            Event::Incoming(Packet::PingResp) => {
                unconfirmed.confirmed();
                None
            }
            Event::Incoming(Packet::SubAck(suback)) => {
                Some(SessionEvent::Subscribed(granted(&suback.return_codes)))
            }
            Event::Incoming(Packet::UnsubAck(_)) => Some(SessionEvent::Unsubscribed(Ok(()))),
            Event::Outgoing(Outgoing::Disconnect) => {
                match wait_for_close(&mut eventloop).await {
                    Ok(()) => unconfirmed.confirmed(),
                    Err(why) => {
                        unconfirmed.lost(&shared);
                        let _ = shared
                            .events
                            .send(SessionEvent::Lost(failure(ErrorKind::Lost, why)))
                            .await;
                    }
                }
                return;
            }
            _ => None,
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
async fn wait_for_close(eventloop: &mut EventLoop) -> Result<(), String> {
    let closed = tokio::time::timeout(DISCONNECT_GRACE, async {
        loop {
            if let Err(err) = eventloop.poll().await {
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
        Event::Outgoing(outgoing) => super::trace_outgoing(outgoing),
    }
}

fn describe_packet(packet: &Packet) -> String {
    match packet {
        Packet::Publish(publish) => super::describe_publish(&rumqttc::PublishTrace {
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
            super::describe_granted(&granted(&ack.return_codes))
        ),
        Packet::UnsubAck(ack) => format!("UNSUBACK (packet id {})", ack.pkid),
        Packet::PingResp => "PINGRESP".to_string(),
        Packet::Disconnect => "DISCONNECT".to_string(),
        other => format!("{other:?}"),
    }
}
