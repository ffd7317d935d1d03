//! The connection and TLS flags every subcommand shares (and `bench` flattens too), with the
//! parsers of their values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::duration::{parse_duration, parse_interval, parse_session_expiry};
use crate::types::{ProtocolVersion, Qos};

/// `-V`: the versions we speak, by mosquitto's names too.
fn parse_protocol_version(text: &str) -> Result<ProtocolVersion, String> {
    ProtocolVersion::from_str(text.trim(), true).map_err(|_| {
        format!("'{text}' is not an MQTT version: use 311 (3.1.1, mqttv311), 5 (mqttv5) or 31 (3.1, mqttv31)")
    })
}

/// `-A`: one local address, or (for `bench`) several: a comma-separated list of addresses and
/// IPv4 ranges (`127.0.0.1-127.0.0.8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAddresses(pub Vec<std::net::IpAddr>);

/// The most addresses a list or range may hold.
const MAX_SOURCE_ADDRESSES: u32 = 65_536;

fn parse_source_addresses(text: &str) -> Result<SourceAddresses, String> {
    use std::net::{IpAddr, Ipv4Addr};
    let bad = |part: &str| {
        format!(
            "'{part}' is not a local address: an IP address, or (bench) a range like 127.0.0.1-127.0.0.8"
        )
    };
    let mut addresses = Vec::new();
    for part in text.split(',').map(str::trim) {
        match part.split_once('-') {
            None => addresses.push(part.parse::<IpAddr>().map_err(|_| bad(part))?),
            Some((first, last)) => {
                let first: Ipv4Addr = first.trim().parse().map_err(|_| bad(part))?;
                let last: Ipv4Addr = last.trim().parse().map_err(|_| bad(part))?;
                let (first, last) = (u32::from(first), u32::from(last));
                if last < first || last - first >= MAX_SOURCE_ADDRESSES {
                    return Err(format!(
                        "'{part}': a range goes up, and holds at most {MAX_SOURCE_ADDRESSES} addresses"
                    ));
                }
                addresses.extend((first..=last).map(|n| IpAddr::V4(Ipv4Addr::from(n))));
            }
        }
        if addresses.len() > MAX_SOURCE_ADDRESSES as usize {
            return Err(format!("-A: at most {MAX_SOURCE_ADDRESSES} addresses"));
        }
    }
    Ok(SourceAddresses(addresses))
}

/// `--psk`/`--psk-identity`: mosquitto's TLS-PSK, which rustls does not implement.
fn refuse_psk(_: &str) -> Result<String, String> {
    Err("TLS-PSK is not supported (rustls has no pre-shared keys): use certificates, --cafile with --cert and --key".to_string())
}

/// `--tls-engine`, `--tls-engine-kpass-sha1`: mosquitto's OpenSSL engines.
fn refuse_engine(_: &str) -> Result<String, String> {
    Err("OpenSSL engines are not supported (rustls reads keys from files): give the key as a PEM file with --key".to_string())
}

/// `--keyform`: `pem` is what mqtt-cli reads anyway; `engine` is refused.
fn parse_keyform(text: &str) -> Result<String, String> {
    if text.eq_ignore_ascii_case("pem") {
        Ok(text.to_string())
    } else {
        refuse_engine(text)
    }
}

/// MQTT 5's payload format indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayloadFormat {
    /// 1: the payload is UTF-8 text.
    Utf8,
    /// 0: unspecified bytes.
    #[value(alias = "unspecified")]
    Binary,
}

/// `KEY=VALUE`, split at the first `=`.
pub(super) fn parse_user_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) => Ok((key.to_string(), value.to_string())),
        None => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

/// Connection options shared by every subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Use the connection settings of this profile of the config file (env MQTT_PROFILE)
    /// [default: the file's default_profile].
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Broker host name or IP address (env MQTT_HOST) [default: localhost].
    #[arg(short = 'h', long)]
    pub host: Option<String>,

    /// Broker port (env MQTT_PORT) [default: 1883].
    #[arg(short = 'p', long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// Broker URL: mqtt://[user[:password]@]host[:port][/topic] (env MQTT_URL); flags given
    /// next to it win over its parts.
    #[arg(short = 'L', long, value_name = "URL")]
    pub url: Option<String>,

    /// Connect with MQTT over WebSockets instead of plain TCP (mosquitto 2.1's --ws): ws://,
    /// or wss:// with TLS, on the port TCP would use (1883, 8883) unless -p; path /mqtt unless
    /// --ws-path.
    #[arg(long)]
    pub ws: bool,

    /// Read options from FILE first (mosquitto 2.1's -o): one per line, `-option value`, `#`
    /// comments; the command line's win, repeatable ones (-t) add up. Secrets can live there.
    #[arg(short = 'o', value_name = "FILE")]
    pub options_file: Option<std::path::PathBuf>,

    /// HTTP path of a ws:// or wss:// URL's WebSocket endpoint [default: the URL's, else /mqtt].
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,

    /// Reach the broker through a proxy: socks5://, socks5h:// (names resolved by the proxy),
    /// http:// or https:// (HTTP CONNECT), with [user[:password]@]; '' for none [default: env
    /// HTTPS_PROXY for TLS, HTTP_PROXY otherwise, then ALL_PROXY, unless NO_PROXY names the host].
    #[arg(long, value_name = "URL", help_heading = "Network")]
    pub proxy: Option<String>,

    /// Trust these CA certificates (PEM) for an https:// proxy's own certificate, apart from the
    /// broker's (--cafile); repeatable [default: the Mozilla roots].
    #[arg(
        long,
        value_name = "FILE",
        alias = "proxy-cafile",
        help_heading = "Network"
    )]
    pub proxy_cacert: Vec<PathBuf>,

    /// Do not verify an https:// proxy's certificate (the broker's is still verified).
    #[arg(long, help_heading = "Network")]
    pub proxy_insecure: bool,

    /// Connect directly, whatever the proxy environment variables say.
    #[arg(long, conflicts_with = "proxy", help_heading = "Network")]
    pub no_proxy: bool,

    /// Connect from this local address (mosquitto's -A). bench: a list or range too
    /// (127.0.0.1-127.0.0.8, or a,b,c), spread over its clients, for more connections than
    /// one address has ports.
    #[arg(short = 'A', long, value_name = "ADDR", help_heading = "Network", value_parser = parse_source_addresses)]
    pub bind_address: Option<SourceAddresses>,

    /// Connect to the broker's Unix socket at PATH instead of host and port (mosquitto's --unix).
    #[arg(long, value_name = "PATH", help_heading = "Network")]
    pub unix: Option<std::path::PathBuf>,

    /// Client identifier [default: mqtt-cli- plus random characters].
    #[arg(short = 'i', long = "id", value_name = "ID")]
    pub client_id: Option<String>,

    /// Client identifier: this prefix and the process id (mosquitto's -I).
    #[arg(short = 'I', long, value_name = "PREFIX", conflicts_with = "client_id")]
    pub id_prefix: Option<String>,

    /// Keepalive interval in seconds (0 turns it off).
    #[arg(short = 'k', long, default_value_t = 60, value_name = "SECONDS")]
    pub keepalive: u16,

    /// Persistent session: the broker keeps subscriptions and queued messages (needs --id).
    #[arg(short = 'c', long, alias = "disable-clean-session")]
    pub no_clean: bool,

    /// User name (env MQTT_USERNAME).
    #[arg(short = 'u', long)]
    pub username: Option<String>,

    /// Password. Visible to other users in the process list: prefer the MQTT_PASSWORD
    /// environment variable or --password-file.
    #[arg(short = 'P', long, alias = "pw")]
    pub password: Option<String>,

    /// Read the password from the first line of FILE (env MQTT_PASSWORD_FILE).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Topic of the will message the broker publishes if this client drops off.
    #[arg(long, value_name = "TOPIC", help_heading = "Will")]
    pub will_topic: Option<String>,

    /// Payload of the will message [default: empty].
    #[arg(long, value_name = "PAYLOAD", help_heading = "Will")]
    pub will_payload: Option<String>,

    /// QoS of the will message.
    #[arg(long, default_value = "0", value_parser = parse_qos, help_heading = "Will")]
    pub will_qos: Qos,

    /// Retain the will message.
    #[arg(long, help_heading = "Will")]
    pub will_retain: bool,

    /// MQTT 5: publish the will only after this delay (e.g. 30s), and not at all if the client
    /// is back by then.
    #[arg(long, value_parser = parse_interval, value_name = "DURATION", help_heading = "Will")]
    pub will_delay: Option<u32>,

    /// MQTT 5: the will's message expiry interval (e.g. 1h).
    #[arg(long, value_parser = parse_interval, value_name = "DURATION", help_heading = "Will")]
    pub will_message_expiry: Option<u32>,

    /// MQTT 5: the will's content type.
    #[arg(long, value_name = "TYPE", help_heading = "Will")]
    pub will_content_type: Option<String>,

    /// MQTT 5: the will's response topic.
    #[arg(long, value_name = "TOPIC", help_heading = "Will")]
    pub will_response_topic: Option<String>,

    /// MQTT 5: the will's correlation data (text, or hex:0a0b... for bytes).
    #[arg(long, value_name = "DATA", help_heading = "Will")]
    pub will_correlation_data: Option<String>,

    /// MQTT 5: a user property KEY=VALUE of the will (repeatable).
    #[arg(long, value_parser = parse_user_property, value_name = "KEY=VALUE", help_heading = "Will")]
    pub will_user_property: Vec<(String, String)>,

    /// MQTT 5: the will's payload format indicator.
    #[arg(long, value_name = "FORMAT", help_heading = "Will")]
    pub will_payload_format: Option<PayloadFormat>,

    /// MQTT 5: keep the session this long after disconnecting (e.g. 1h, or never); above 0 it
    /// also resumes the session, so it needs --id. With -c alone: never expires.
    #[arg(short = 'x', long, value_parser = parse_session_expiry, value_name = "DURATION", help_heading = "MQTT 5", allow_negative_numbers = true)]
    pub session_expiry: Option<u32>,

    /// MQTT 5: QoS 1/2 messages the broker may send before we acknowledge them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "MQTT 5")]
    pub receive_maximum: Option<u16>,

    /// MQTT 5: the largest packet we accept; the broker drops larger messages for us.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..=268_435_460), help_heading = "MQTT 5")]
    pub maximum_packet_size: Option<u32>,

    /// MQTT 5: a user property KEY=VALUE sent with CONNECT (repeatable).
    #[arg(long, value_parser = parse_user_property, value_name = "KEY=VALUE", help_heading = "MQTT 5")]
    pub connect_user_property: Vec<(String, String)>,

    /// MQTT 5, as mosquitto: send PROPERTY with COMMAND's packet (connect, publish, subscribe,
    /// will; a user-property takes KEY VALUE), e.g. -D publish content-type text/plain. Each
    /// becomes the flag above that sends it; implies -V 5.
    #[arg(short = 'D', long = "property", num_args = 3..=4, value_names = ["COMMAND", "PROPERTY", "VALUE"], help_heading = "MQTT 5")]
    pub property: Vec<String>,

    /// A dropped connection ends the run (exit 8) instead of reconnecting.
    #[arg(long, help_heading = "Reconnecting")]
    pub no_reconnect: bool,

    /// Longest wait between reconnection attempts (the first is after about 250ms, then
    /// doubling, with jitter).
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Reconnecting")]
    pub reconnect_delay: Duration,

    /// Give up (exit 8) when the connection has not come back after this long; 0: never.
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Reconnecting")]
    pub reconnect_timeout: Duration,

    /// Give up connecting (TCP and CONNACK) after this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub connect_timeout: Duration,

    /// MQTT protocol version: 311 (3.1.1), 5, or 31 (3.1, for brokers that speak nothing newer).
    #[arg(short = 'V', long, default_value = "311", value_name = "VERSION", value_parser = parse_protocol_version)]
    pub protocol_version: ProtocolVersion,

    /// Accepted for mosquitto's command lines: mqtt-cli always turns Nagle's algorithm off.
    #[arg(long, hide_short_help = true)]
    pub nodelay: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Trace every packet sent and received on stderr (passwords are never shown).
    #[arg(short = 'd', long, help_heading = "Output")]
    pub debug: bool,

    /// Print no notices or warnings on stderr (errors are still printed).
    #[arg(long, help_heading = "Output", conflicts_with = "debug")]
    pub quiet: bool,
}

/// TLS options shared by every subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Use TLS (also on with mqtts:// and wss:// URLs, any of the options below, or port 8883).
    #[arg(long, conflicts_with = "no_tls")]
    pub tls: bool,

    /// Never use TLS, even on port 8883.
    #[arg(long)]
    pub no_tls: bool,

    /// Trust the CA certificate(s) in this PEM file instead of the Mozilla roots (repeatable).
    #[arg(long, value_name = "FILE")]
    pub cafile: Vec<PathBuf>,

    /// Trust the CA certificates in the .pem/.crt files of this directory.
    #[arg(long, value_name = "DIR")]
    pub capath: Option<PathBuf>,

    /// Trust the operating system's certificate store instead of the Mozilla roots.
    #[arg(long, alias = "tls-use-os-certs", conflicts_with_all = ["cafile", "capath"])]
    pub native_roots: bool,

    /// Client certificate (PEM) for mutual TLS, e.g. AWS IoT Core; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM: PKCS#1, PKCS#8 or SEC1) of the client certificate; needs --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Do not verify the server's certificate (says so on stderr every time).
    #[arg(long, conflicts_with = "no_tls")]
    pub insecure: bool,

    /// Check the server's certificate against NAME (also sent as SNI) instead of the host.
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// ALPN protocol to offer (repeatable), e.g. x-amzn-mqtt-ca for AWS IoT Core on port 443.
    #[arg(long, value_name = "PROTOCOL", alias = "tls-alpn")]
    pub alpn: Vec<String>,

    /// Append the TLS session keys to FILE (NSS key log format, as SSLKEYLOGFILE) so that
    /// Wireshark can decrypt a capture; whoever reads FILE can read the session.
    #[arg(long, value_name = "FILE")]
    pub tls_keylog: Option<PathBuf>,

    /// Lowest TLS version to accept.
    #[arg(long, value_name = "VERSION", default_value = "1.2")]
    pub tls_version: crate::tls::TlsVersion,

    /// Cipher suites to offer, as mosquitto's --ciphers (OpenSSL names, `:`-separated, e.g.
    /// ECDHE-RSA-AES128-GCM-SHA256; IANA names too). As OpenSSL's list: TLS 1.2 names
    /// replace the TLS 1.2 suites and leave TLS 1.3's alone (name TLS_AES_128_GCM_SHA256 ...
    /// for those).
    #[arg(long, value_name = "LIST", value_parser = crate::tls::parse_ciphers)]
    pub ciphers: Option<crate::tls::Ciphers>,

    /// mosquitto's TLS-PSK (--psk, --psk-identity): refused in words, rustls has no PSK.
    #[arg(long, value_name = "KEY", hide = true, value_parser = refuse_psk)]
    pub psk: Option<String>,

    /// mosquitto's TLS-PSK identity: refused in words, rustls has no PSK.
    #[arg(long, value_name = "IDENTITY", hide = true, value_parser = refuse_psk)]
    pub psk_identity: Option<String>,

    /// mosquitto's --keyform: pem is accepted (the only form read), engine refused in words.
    #[arg(long, value_name = "FORM", hide = true, value_parser = parse_keyform)]
    pub keyform: Option<String>,

    /// mosquitto's OpenSSL engine: refused in words.
    #[arg(long, value_name = "ENGINE", hide = true, value_parser = refuse_engine)]
    pub tls_engine: Option<String>,

    /// mosquitto's OpenSSL engine key password: refused in words.
    #[arg(long, value_name = "SHA1", hide = true, value_parser = refuse_engine)]
    pub tls_engine_kpass_sha1: Option<String>,
}

/// A QoS level, 0, 1 or 2, said as such when it is not one (clap's own words were
/// "3 is not in 0..=2").
pub fn parse_qos(text: &str) -> Result<Qos, String> {
    text.trim()
        .parse()
        .ok()
        .and_then(Qos::from_level)
        .ok_or_else(|| "QoS is 0, 1 or 2".to_string())
}

/// MQTT 5's retain handling: 0, 1 or 2, or mosquitto 2.1's names for them.
pub fn parse_retain_handling(text: &str) -> Result<u8, String> {
    match text.trim() {
        "0" | "always" => Ok(0),
        "1" | "new" => Ok(1),
        "2" | "never" => Ok(2),
        _ => Err(
            "retain handling is 0 or always (send), 1 or new (only for a new subscription), 2 or never"
                .into(),
        ),
    }
}
