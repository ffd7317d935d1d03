//! MQTT 3.1.1 through rumqttc's v4 client: options, requests, and the event loop translated into
//! [`SessionEvent`]s.

use anyhow::Result;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, LastWill, MqttOptions,
    Outgoing, Packet, QoS, StateError, SubscribeFilter, SubscribeReasonCode,
};

use super::driver::{self, Step, closed};
use super::errors::{self, Broken, Failure};
use super::events::{ConnectInfo, SessionEvent};
use super::options::{Connected, Dial, REQUEST_CAPACITY, mqtt_options, qos_conversions};
use super::reason::Reason;
use super::trace::{describe_granted, describe_publish, trace_events};
use crate::settings::ConnectSettings;
use crate::types::{MAX_PACKET_SIZE, Message, ProtocolVersion, Qos, Received, SubscribeOptions};

qos_conversions!(QoS);
trace_events!();

/// The v4 client.
#[derive(Clone)]
pub(super) struct Client(AsyncClient);

/// Connects, waits for the CONNACK, and starts the event loop task feeding `events`.
pub(super) async fn connect(dial: Dial<'_>) -> Connected<Client> {
    let (settings, options) = (dial.settings, dial.options);
    let (mut mqtt, network, trace_packets) =
        mqtt_options!(MqttOptions, settings, options, dial.transport);
    mqtt.set_clean_session(settings.clean_session)
        .set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE)
        .set_inflight(options.max_inflight.max(1));
    mqtt.v31 = settings.protocol == ProtocolVersion::V31;
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
    eventloop.set_network_options(network);
    eventloop.state.trace_packets = trace_packets;
    let (info, driver) = driver::start(Link(eventloop), settings, dial.shared).await?;
    Ok((Client(client), info, driver))
}

impl Client {
    pub(super) async fn publish(&self, message: Message) -> Result<()> {
        let Message {
            topic,
            payload,
            qos,
            retain,
            ..
        } = message;
        let sent = self.0.publish_bytes(topic, qos.into(), retain, payload);
        sent.await.map_err(|_| closed())
    }

    pub(super) async fn subscribe(
        &self,
        filters: &[String],
        options: SubscribeOptions,
    ) -> Result<()> {
        let filters = filters
            .iter()
            .map(|filter| SubscribeFilter::new(filter.clone(), options.qos.into()));
        self.0.subscribe_many(filters).await.map_err(|_| closed())
    }

    pub(super) async fn unsubscribe(&self, filter: &str) -> Result<()> {
        self.0.unsubscribe(filter).await.map_err(|_| closed())
    }

    pub(super) async fn ack(&self, qos: Qos, packet_id: u16) -> Result<()> {
        let mut publish = rumqttc::Publish::new("", qos.into(), Vec::new());
        publish.pkid = packet_id;
        self.0.ack(&publish).await.map_err(|_| closed())
    }

    pub(super) async fn disconnect(&self) -> Result<()> {
        self.0.disconnect().await.map_err(|_| closed())
    }
}

/// rumqttc's v4 event loop as the drive loop sees it (`driver.rs`).
struct Link(EventLoop);

impl driver::Link for Link {
    async fn next_step(&mut self, connection: u64) -> Result<Step, Broken> {
        let event = self.0.poll().await.map_err(broken)?;
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
                    property_order: Vec::new(),
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

    async fn connack(&mut self, settings: &ConnectSettings) -> Result<ConnectInfo> {
        match self.0.poll().await {
            Err(err) => Err(errors::connect_error(broken(err), settings)),
            Ok(Event::Incoming(Packet::ConnAck(ack))) => Ok(ConnectInfo {
                session_present: ack.session_present,
                ..ConnectInfo::default()
            }),
            Ok(other) => Err(anyhow::anyhow!("expected CONNACK, got {other:?}")),
        }
    }
}

/// rumqttc's MQTT 3.1.1 error, as the session's [`Failure`].
pub(super) fn broken(err: ConnectionError) -> Broken {
    Broken::from_error(err, |err| match err {
        ConnectionError::ConnectionRefused(code) => Failure::Refused {
            words: refusal(code).to_string(),
            about_credentials: matches!(
                code,
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
            ),
            retry: code == ConnectReturnCode::ServiceUnavailable,
        },
        ConnectionError::Tls(tls) => Failure::Tls(tls),
        ConnectionError::NetworkTimeout => Failure::Timeout,
        ConnectionError::FlushTimeout => Failure::FlushTimeout,
        ConnectionError::Io(io) => Failure::Io(io),
        ConnectionError::MqttState(StateError::Io(io)) => Failure::StateIo(io),
        ConnectionError::MqttState(StateError::ConnectionAborted) => Failure::Aborted,
        ConnectionError::MqttState(StateError::AwaitPingResp) => Failure::NoPingResp,
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(io))) => {
            Failure::CodecIo(io)
        }
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::NotMqtt(bytes))) => {
            Failure::NotMqtt(bytes.to_vec())
        }
        ConnectionError::MqttState(StateError::Deserialization(what)) => Failure::Malformed {
            what: what.to_string(),
            protocol: "MQTT",
        },
        ConnectionError::Websocket(err) => Failure::Websocket(err.to_string()),
        ConnectionError::NotConnAck(packet) => Failure::NotConnAck(format!("{packet:?}")),
        _ => Failure::Other,
    })
}

/// A CONNACK's refusal, in words.
fn refusal(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "success",
        ConnectReturnCode::RefusedProtocolVersion => {
            "unacceptable protocol version (try the other -V)"
        }
        ConnectReturnCode::BadClientId => "client identifier rejected (try another -i)",
        ConnectReturnCode::ServiceUnavailable => "server unavailable",
        ConnectReturnCode::BadUserNamePassword => {
            "bad user name or password (check the user name and password)"
        }
        ConnectReturnCode::NotAuthorized => {
            "not authorised (check the user name and password, and the broker's ACL)"
        }
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

fn describe_packet(packet: &Packet) -> String {
    match packet {
        Packet::Publish(publish) => describe_publish(&publish.into()),
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
