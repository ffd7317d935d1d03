//! What the two protocol versions' rumqttc options share, built from the settings once: the
//! same setters on two types (`rumqttc::MqttOptions`, `rumqttc::v5::MqttOptions`) and the same
//! QoS names in two enums, written once here as macros that `v4.rs` and `v5.rs` expand.

use std::time::Duration;

use rumqttc::NetworkOptions;

use crate::settings::ConnectSettings;

/// How many requests may wait for the event loop; bounds memory for `pub -l` on endless input.
pub(super) const REQUEST_CAPACITY: usize = 256;

/// The options both versions take alike.
pub(super) struct Common {
    pub client_id: String,
    /// The "host" rumqttc connects to: the host, or the whole URL for WebSockets.
    pub address: String,
    pub port: u16,
    pub keepalive: Duration,
    pub credentials: Option<(String, String)>,
    pub network: NetworkOptions,
    /// Whether rumqttc records packets for `-d`.
    pub trace_packets: bool,
}

impl Common {
    pub(super) fn new(settings: &ConnectSettings) -> Common {
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        // rumqttc's timeout (whole seconds) also bounds each flush; ours in `connect` is the
        // precise one.
        network.set_connection_timeout(settings.connect_timeout.as_secs().max(1) + 1);
        Common {
            client_id: settings.client_id.clone(),
            address: settings
                .websocket_url()
                .unwrap_or_else(|| settings.host.clone()),
            port: settings.port,
            keepalive: settings.keepalive,
            credentials: settings.username.as_ref().map(|username| {
                let password = settings
                    .password
                    .as_ref()
                    .map_or("", |secret| secret.expose());
                (username.clone(), password.to_string())
            }),
            network,
            trace_packets: tracing::enabled!(tracing::Level::DEBUG),
        }
    }
}

/// `rumqttc::MqttOptions` or `rumqttc::v5::MqttOptions` from [`Common`], the session options
/// and the transport: every setter the two have alike.
/// What connecting takes, for either protocol version.
pub(super) struct Dial<'a> {
    pub settings: &'a ConnectSettings,
    pub options: super::events::SessionOptions,
    pub transport: rumqttc::Transport,
    pub shared: super::driver::Shared,
}

/// A connected session's parts: its client, what the CONNACK said, the drive loop's task.
pub(super) type Connected<C> =
    anyhow::Result<(C, super::events::ConnectInfo, tokio::task::JoinHandle<()>)>;

/// rumqttc's options (v4's or v5's `MqttOptions`) with what both versions set the same way,
/// and the network options and `-d` packet tracing its event loop takes.
macro_rules! mqtt_options {
    ($MqttOptions:ty, $settings:expr, $options:expr, $transport:expr) => {{
        let common = super::options::Common::new($settings);
        let (network, trace_packets) = (common.network.clone(), common.trace_packets);
        let mut mqtt = <$MqttOptions>::new(common.client_id, common.address, common.port);
        mqtt.set_keep_alive(common.keepalive)
            .set_request_channel_capacity(super::options::REQUEST_CAPACITY)
            .set_manual_acks($options.manual_acks)
            .set_transport($transport);
        mqtt.socket_connector = Some(super::connector::connector($settings));
        if let Some((username, password)) = common.credentials {
            mqtt.set_credentials(username, password);
        }
        (mqtt, network, trace_packets)
    }};
}
pub(super) use mqtt_options;

/// Our [`Qos`](crate::types::Qos) and a rumqttc `QoS` (v4's or v5's: the same names),
/// both ways.
macro_rules! qos_conversions {
    ($QoS:ty) => {
        impl From<crate::types::Qos> for $QoS {
            fn from(qos: crate::types::Qos) -> $QoS {
                match qos {
                    crate::types::Qos::AtMostOnce => <$QoS>::AtMostOnce,
                    crate::types::Qos::AtLeastOnce => <$QoS>::AtLeastOnce,
                    crate::types::Qos::ExactlyOnce => <$QoS>::ExactlyOnce,
                }
            }
        }

        impl From<$QoS> for crate::types::Qos {
            fn from(qos: $QoS) -> crate::types::Qos {
                match qos {
                    <$QoS>::AtMostOnce => crate::types::Qos::AtMostOnce,
                    <$QoS>::AtLeastOnce => crate::types::Qos::AtLeastOnce,
                    <$QoS>::ExactlyOnce => crate::types::Qos::ExactlyOnce,
                }
            }
        }
    };
}
pub(super) use qos_conversions;
