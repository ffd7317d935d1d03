//! MQTT 5 through rumqttc's v5 client: properties both ways, reason codes never swallowed (a
//! PUBACK, PUBREC or PUBCOMP reason of 0x80 or more is a failed publish, a SUBACK failure names
//! its reason). A `--topic-alias` goes with its topic once per connection and alone after that:
//! the vendored rumqttc state keeps that map (PATCHES.md, patch 12).

use anyhow::Result;
use bytes::Bytes;
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAckProperties, ConnectProperties, Filter, LastWill, LastWillProperties, Packet, Publish,
    PublishProperties, RetainForwardRule, SubscribeProperties, SubscribeReasonCode,
};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, StateError};

use super::driver::{self, Step, closed};
use super::errors::{self, Broken, Failure};
use super::events::{Announced, ConnectInfo, SessionEvent};
use super::options::{Connected, Dial, REQUEST_CAPACITY, mqtt_options, qos_conversions};
use super::reason::Reason;
use super::trace::{describe_granted, describe_publish, trace_events};
use crate::settings::ConnectSettings;
use crate::types::{MAX_PACKET_SIZE, Message, Properties, Qos, Received, SubscribeOptions};

/// The v5 client.
#[derive(Clone)]
pub(super) struct Client {
    client: AsyncClient,
}

qos_conversions!(QoS);
trace_events!();

/// Connects, waits for the CONNACK, and starts the event loop task feeding `events`.
pub(super) async fn connect(dial: Dial<'_>) -> Connected<Client> {
    let (settings, options) = (dial.settings, dial.options);
    let (mut mqtt, network, trace_packets) =
        mqtt_options!(MqttOptions, settings, options, dial.transport);
    // The whole packet: remaining length plus at most 5 bytes of fixed header.
    let largest = u32::try_from(MAX_PACKET_SIZE + 5).unwrap_or(u32::MAX);
    mqtt.set_clean_start(settings.clean_session)
        .set_default_max_incoming_size(settings.maximum_packet_size.unwrap_or(largest))
        .set_outgoing_inflight_upper_limit(options.max_inflight.max(1));
    let mut properties = ConnectProperties::new();
    properties.session_expiry_interval = settings.session_expiry;
    properties.receive_maximum = settings.receive_maximum;
    properties.max_packet_size = settings.maximum_packet_size;
    properties.user_properties = settings.user_properties.clone();
    mqtt.set_connect_properties(properties);
    if let Some(will) = &settings.will {
        let message = &will.message;
        let properties = &message.properties;
        let will_properties = LastWillProperties {
            delay_interval: will.delay,
            payload_format_indicator: properties.payload_format_indicator,
            message_expiry_interval: properties.message_expiry_interval,
            content_type: properties.content_type.clone(),
            response_topic: properties.response_topic.clone(),
            correlation_data: properties.correlation_data.clone(),
            user_properties: properties.user_properties.clone(),
        };
        let empty = will.delay.is_none() && properties.is_empty();
        mqtt.set_last_will(LastWill::new(
            message.topic.clone(),
            message.payload.to_vec(),
            message.qos.into(),
            message.retain,
            (!empty).then_some(will_properties),
        ));
    }

    let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CAPACITY);
    eventloop.options.set_network_options(network);
    eventloop.state.trace_packets = trace_packets;
    let (info, driver) = driver::start(Link(eventloop), settings, dial.shared).await?;
    Ok((Client { client }, info, driver))
}

fn announced(properties: &ConnAckProperties) -> Announced {
    let flag = |value: Option<u8>| value.map(|value| value != 0);
    Announced {
        maximum_qos: properties.max_qos,
        retain_available: flag(properties.retain_available),
        maximum_packet_size: properties.max_packet_size,
        receive_maximum: properties.receive_max,
        topic_alias_maximum: properties.topic_alias_max,
        wildcard_subscription_available: flag(properties.wildcard_subscription_available),
        subscription_identifiers_available: flag(properties.subscription_identifiers_available),
        shared_subscription_available: flag(properties.shared_subscription_available),
        server_keep_alive: properties.server_keep_alive,
        session_expiry_interval: properties.session_expiry_interval,
        assigned_client_identifier: properties.assigned_client_identifier.clone(),
    }
}

fn publish_properties(properties: &Properties) -> PublishProperties {
    PublishProperties {
        order: Vec::new(),
        payload_format_indicator: properties.payload_format_indicator,
        message_expiry_interval: properties.message_expiry_interval,
        topic_alias: properties.topic_alias,
        response_topic: properties.response_topic.clone(),
        correlation_data: properties.correlation_data.clone(),
        user_properties: properties.user_properties.clone(),
        subscription_identifiers: Vec::new(),
        content_type: properties.content_type.clone(),
    }
}

fn our_properties(properties: PublishProperties) -> Properties {
    Properties {
        payload_format_indicator: properties.payload_format_indicator,
        message_expiry_interval: properties.message_expiry_interval,
        topic_alias: properties.topic_alias,
        response_topic: properties.response_topic,
        correlation_data: properties.correlation_data,
        user_properties: properties.user_properties,
        subscription_identifiers: properties.subscription_identifiers,
        content_type: properties.content_type,
    }
}

impl Client {
    /// Queues a publish. A topic alias is sent with its topic the first time on each network
    /// connection and alone after that: the vendored rumqttc state keeps that map, per
    /// connection, so a reconnect starts it afresh.
    pub(super) async fn publish(&self, message: Message) -> Result<()> {
        let topic = message.topic;
        let sent = if message.properties.is_empty() {
            self.client
                .publish_bytes(topic, message.qos.into(), message.retain, message.payload)
                .await
        } else {
            self.client
                .publish_bytes_with_properties(
                    topic,
                    message.qos.into(),
                    message.retain,
                    message.payload,
                    publish_properties(&message.properties),
                )
                .await
        };
        sent.map_err(|_| closed())
    }

    pub(super) async fn subscribe(
        &self,
        filters: &[String],
        options: SubscribeOptions,
    ) -> Result<()> {
        let filters = filters.iter().map(|path| Filter {
            path: path.clone(),
            qos: options.qos.into(),
            nolocal: options.no_local,
            preserve_retain: options.retain_as_published,
            retain_forward_rule: match options.retain_handling {
                0 => RetainForwardRule::OnEverySubscribe,
                1 => RetainForwardRule::OnNewSubscribe,
                _ => RetainForwardRule::Never,
            },
        });
        let sent = match options.subscription_identifier {
            Some(id) => {
                let properties = SubscribeProperties {
                    id: Some(id),
                    user_properties: Vec::new(),
                };
                self.client
                    .subscribe_many_with_properties(filters, properties)
                    .await
            }
            None => self.client.subscribe_many(filters).await,
        };
        sent.map_err(|_| closed())
    }

    pub(super) async fn unsubscribe(&self, filter: &str) -> Result<()> {
        self.client.unsubscribe(filter).await.map_err(|_| closed())
    }

    pub(super) async fn ack(&self, level: Qos, packet_id: u16) -> Result<()> {
        let mut publish = Publish::new("", level.into(), Bytes::new(), None);
        publish.pkid = packet_id;
        self.client.ack(&publish).await.map_err(|_| closed())
    }

    pub(super) async fn disconnect(&self) -> Result<()> {
        self.client.disconnect().await.map_err(|_| closed())
    }
}

/// A failure reason code with the packet's reason string, or `Ok` for success codes.
fn outcome(code: u8, reason_string: Option<&String>) -> Result<(), Reason> {
    let reason = Reason::new(code, reason_string.cloned());
    if reason.is_failure() {
        Err(reason)
    } else {
        Ok(())
    }
}

/// rumqttc's v5 event loop as the drive loop sees it (`driver.rs`).
struct Link(EventLoop);

impl driver::Link for Link {
    async fn next_step(&mut self, connection: u64) -> Result<Step, Broken> {
        let event = self.0.poll().await.map_err(broken)?;
        trace_event(&event);
        let forward = match event {
            // Only a reconnect gets here: the first CONNACK was read by `connect`.
            Event::Incoming(Packet::ConnAck(ack)) => {
                return Ok(Step::Reconnected {
                    session_present: ack.session_present,
                });
            }
            Event::Incoming(Packet::Publish(mut publish)) => {
                let property_order = publish
                    .properties
                    .as_mut()
                    .map(|properties| std::mem::take(&mut properties.order))
                    .unwrap_or_default();
                Some(SessionEvent::Message(Box::new(Received {
                    packet_id: publish.pkid,
                    connection,
                    property_order,
                    message: Message {
                        topic: String::from_utf8_lossy(&publish.topic).into_owned(),
                        payload: publish.payload,
                        qos: publish.qos.into(),
                        retain: publish.retain,
                        properties: publish.properties.map(our_properties).unwrap_or_default(),
                    },
                })))
            }
            Event::Incoming(Packet::PubAck(ack)) => Some(SessionEvent::Published(outcome(
                ack.reason.code(),
                ack.properties
                    .as_ref()
                    .and_then(|p| p.reason_string.as_ref()),
            ))),
            // A successful PUBREC is followed by PUBREL and PUBCOMP; a failed one ends it.
            Event::Incoming(Packet::PubRec(rec)) => outcome(
                rec.reason.code(),
                rec.properties
                    .as_ref()
                    .and_then(|p| p.reason_string.as_ref()),
            )
            .err()
            .map(|reason| SessionEvent::Published(Err(reason))),
            Event::Incoming(Packet::PubComp(comp)) => Some(SessionEvent::Published(outcome(
                comp.reason.code(),
                comp.properties
                    .as_ref()
                    .and_then(|p| p.reason_string.as_ref()),
            ))),
            Event::Outgoing(Outgoing::Publish(0)) => return Ok(Step::Qos0Written),
            Event::Incoming(Packet::PingResp(_)) => return Ok(Step::PingResp),
            Event::Incoming(Packet::SubAck(suback)) => {
                Some(SessionEvent::Subscribed(granted(&suback)))
            }
            Event::Incoming(Packet::UnsubAck(unsuback)) => {
                let text = unsuback
                    .properties
                    .as_ref()
                    .and_then(|p| p.reason_string.as_ref());
                let first_failure = unsuback
                    .reasons
                    .iter()
                    .find_map(|reason| outcome(reason.code(), text).err());
                Some(SessionEvent::Unsubscribed(
                    first_failure.map_or(Ok(()), Err),
                ))
            }
            Event::Outgoing(Outgoing::Disconnect) => return Ok(Step::Disconnected),
            _ => None,
        };
        Ok(forward.map_or(Step::Nothing, Step::Forward))
    }

    async fn connack(&mut self, settings: &ConnectSettings) -> Result<ConnectInfo> {
        match self.0.poll().await {
            Err(err) => Err(errors::connect_error(broken(err), settings)),
            Ok(Event::Incoming(Packet::ConnAck(ack))) => Ok(ConnectInfo {
                session_present: ack.session_present,
                announced: ack.properties.as_ref().map(announced).unwrap_or_default(),
            }),
            Ok(other) => Err(anyhow::anyhow!("expected CONNACK, got {other:?}")),
        }
    }
}

/// rumqttc's MQTT 5 error, as the session's [`Failure`]: a refusal and the broker's
/// DISCONNECT named by their reason codes.
pub(super) fn broken(err: ConnectionError) -> Broken {
    use rumqttc::v5::mqttbytes::Error as Codec;
    use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode as Code, DisconnectReasonCode as Why};
    Broken::from_error(err, |err| match err {
        ConnectionError::ConnectionRefused(code) => {
            let reason = Reason::new(code.code(), None);
            let hint = match reason.code {
                0x84 => " (try -V 311)",
                0x85 => " (try another -i)",
                0x86 | 0x87 => " (check the user name and password, and the broker's ACL)",
                _ => "",
            };
            Failure::Refused {
                words: format!("{reason}{hint}"),
                about_credentials: matches!(reason.code, 0x86 | 0x87),
                retry: matches!(
                    code,
                    Code::ServerUnavailable | Code::ServerBusy | Code::ServiceUnavailable
                ),
            }
        }
        ConnectionError::Tls(tls) => Failure::Tls(tls),
        ConnectionError::Timeout(_) => Failure::Timeout,
        ConnectionError::Io(io) => Failure::Io(io),
        ConnectionError::MqttState(StateError::Io(io)) => Failure::StateIo(io),
        ConnectionError::MqttState(StateError::ConnectionAborted) => Failure::Aborted,
        ConnectionError::MqttState(StateError::AwaitPingResp) => Failure::NoPingResp,
        // A reset or broken pipe, reading or writing (the v5 codec wraps socket errors so).
        ConnectionError::MqttState(StateError::Deserialization(Codec::Io(io))) => {
            Failure::CodecIo(io)
        }
        ConnectionError::MqttState(StateError::Deserialization(Codec::NotMqtt(bytes))) => {
            Failure::NotMqtt(bytes.to_vec())
        }
        ConnectionError::MqttState(
            StateError::OutgoingPacketTooLarge { pkt_size, max }
            | StateError::Deserialization(Codec::OutgoingPacketTooLarge { pkt_size, max }),
        ) => Failure::Rejected {
            words: format!(
                "a {pkt_size}-byte packet is over the broker's maximum packet size of {max} bytes (from its CONNACK)"
            ),
            retry: false,
        },
        ConnectionError::MqttState(StateError::Deserialization(what)) => Failure::Malformed {
            what: what.to_string(),
            protocol: "MQTT 5",
        },
        ConnectionError::MqttState(StateError::InvalidAlias { alias, max }) => Failure::Rejected {
            words: format!(
                "topic alias {alias} is over the broker's topic alias maximum of {max} (from its CONNACK)"
            ),
            retry: false,
        },
        ConnectionError::MqttState(StateError::ServerDisconnect {
            reason_code,
            reason_string,
        }) => {
            let reason = Reason::new(reason_code.code(), reason_string).to_string();
            // 0x00 in a DISCONNECT is "Normal disconnection", not "Success".
            let reason = if reason_code.code() == 0 {
                reason.replacen("Success", "Normal disconnection", 1)
            } else {
                reason
            };
            Failure::Rejected {
                words: format!("the broker ended the connection with DISCONNECT: {reason}"),
                retry: matches!(
                    reason_code,
                    Why::ServerShuttingDown
                        | Why::ServerBusy
                        | Why::KeepAliveTimeout
                        | Why::AdministrativeAction
                ),
            }
        }
        ConnectionError::Websocket(err) => Failure::Websocket(err.to_string()),
        ConnectionError::NotConnAck(packet) => Failure::NotConnAck(format!("{packet:?}")),
        _ => Failure::Other,
    })
}

/// A SUBACK's reason codes: the QoS granted, or the failure with the reason string.
fn granted(suback: &rumqttc::v5::mqttbytes::v5::SubAck) -> Vec<Result<Qos, Reason>> {
    let text = suback
        .properties
        .as_ref()
        .and_then(|p| p.reason_string.clone());
    suback
        .return_codes
        .iter()
        .map(|code| match code {
            SubscribeReasonCode::Success(granted) => Ok((*granted).into()),
            failed => Err(Reason::new(failed.code(), text.clone())),
        })
        .collect()
}

fn describe_packet(packet: &Packet) -> String {
    let reason = |code: u8| Reason::new(code, None).to_string();
    let acked =
        |name: &str, pkid: u16, code: u8| format!("{name} (packet id {pkid}, {})", reason(code));
    match packet {
        Packet::Publish(publish) => format!(
            "{}{}",
            describe_publish(&publish.into()),
            publish
                .properties
                .as_ref()
                .map_or(String::new(), |p| format!(" {p:?}"))
        ),
        Packet::ConnAck(ack) => format!("CONNACK ({})", reason(ack.code.code())),
        Packet::PubAck(ack) => acked("PUBACK", ack.pkid, ack.reason.code()),
        Packet::PubRec(ack) => acked("PUBREC", ack.pkid, ack.reason.code()),
        Packet::PubRel(ack) => acked("PUBREL", ack.pkid, ack.reason.code()),
        Packet::PubComp(ack) => acked("PUBCOMP", ack.pkid, ack.reason.code()),
        Packet::SubAck(ack) => format!(
            "SUBACK (packet id {}, {})",
            ack.pkid,
            describe_granted(&granted(ack))
        ),
        Packet::UnsubAck(ack) => format!("UNSUBACK (packet id {}, {:?})", ack.pkid, ack.reasons),
        Packet::Disconnect(disconnect) => format!(
            "DISCONNECT ({}{})",
            reason(disconnect.reason_code.code()),
            disconnect
                .properties
                .as_ref()
                .and_then(|p| p.reason_string.as_ref())
                .map_or(String::new(), |text| format!(": {text}"))
        ),
        other => format!("{other:?}"),
    }
}
