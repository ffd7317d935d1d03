//! Turns flags, environment variables and files into one validated value before any network I/O.
//!
//! Everything a user can get wrong dies here with a one-line message and exit 2, so the network
//! layer never sees a bad topic, an unreadable file or a keepalive rumqttc would panic on.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use regex::bytes::Regex;
use url::Url;

use crate::cli::{
    CheckArgs, CheckName, ConnectArgs, OutputArgs, PayloadFormat, PubArgs, RrArgs, SubArgs, TlsArgs,
};
use crate::error::usage;
use crate::output::{Format, Template};
use crate::tls::{TlsOptions, TlsSetup, Trust};
use crate::topic::{validate_topic_filter, validate_topic_name};
pub use crate::vocabulary::MAX_PACKET_SIZE;
use crate::vocabulary::ProtocolVersion;
use crate::vocabulary::{
    Message, Properties, Qos, Reconnect, SubscribeOptions, default_max_inflight,
};

/// A password: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it to the broker.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How bytes travel to the broker. Chosen from the URL scheme, never guessed by rumqttc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Tls,
    Ws { path: String },
    Wss { path: String },
}

impl fmt::Display for Transport {
    /// The transport's short name, as `check` reports it: tcp, tls, ws or wss.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws { .. } => "ws",
            Transport::Wss { .. } => "wss",
        })
    }
}

/// The message the broker publishes for us if we drop off.
#[derive(Debug, Clone)]
pub struct Will {
    pub message: Message,
    /// MQTT 5: seconds the broker waits before publishing it.
    pub delay: Option<u32>,
}

/// Everything needed to open one MQTT session.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub host: String,
    pub port: u16,
    pub transport: Transport,
    pub client_id: String,
    pub keepalive: Duration,
    pub clean_session: bool,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub will: Option<Will>,
    pub connect_timeout: Duration,
    pub protocol: ProtocolVersion,
    /// MQTT 5: seconds the broker keeps the session after we leave (`u32::MAX`: never expires).
    pub session_expiry: Option<u32>,
    /// MQTT 5: QoS 1/2 messages the broker may send us before we acknowledge them.
    pub receive_maximum: Option<u16>,
    /// MQTT 5: the largest packet we accept.
    pub maximum_packet_size: Option<u32>,
    /// MQTT 5: user properties of the CONNECT.
    pub user_properties: Vec<(String, String)>,
    /// Reconnect after a dropped connection (`None`: a drop ends the session).
    pub reconnect: Option<Reconnect>,
    /// The TLS configuration, for `Transport::Tls` and `Transport::Wss`.
    pub tls: Option<TlsSetup>,
}

impl ConnectSettings {
    /// The WebSocket URL for `Transport::Ws`/`Wss`, built from host, port and path.
    pub fn websocket_url(&self) -> Option<String> {
        let (scheme, path) = match &self.transport {
            Transport::Ws { path } => ("ws", path),
            Transport::Wss { path } => ("wss", path),
            Transport::Tcp | Transport::Tls => return None,
        };
        Some(format!("{scheme}://{}{path}", self.address()))
    }

    /// Plain TCP to `host:port` with the command-line defaults: a random client id, keepalive
    /// 60 s, clean session, no credentials, 10 s connect timeout, MQTT 3.1.1.
    pub fn tcp(host: impl Into<String>, port: u16) -> ConnectSettings {
        ConnectSettings {
            host: host.into(),
            port,
            transport: Transport::Tcp,
            client_id: random_client_id(),
            keepalive: Duration::from_secs(60),
            clean_session: true,
            username: None,
            password: None,
            will: None,
            connect_timeout: Duration::from_secs(10),
            protocol: ProtocolVersion::V311,
            session_expiry: None,
            receive_maximum: None,
            maximum_packet_size: None,
            user_properties: Vec::new(),
            reconnect: Some(Reconnect::default()),
            tls: None,
        }
    }

    /// `host:port` as people write it (IPv6 in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Where `pub` takes its payloads from.
#[derive(Debug, Clone)]
pub enum Payloads {
    /// A fixed list of payloads sent in turn, `repeat` times over (0 = until interrupted).
    Cycle { payloads: Vec<Bytes>, repeat: u64 },
    /// One message per line of standard input, streamed.
    Lines,
    /// Complete messages from a capture, each after its delay.
    Replay(Vec<(Duration, Message)>),
}

#[derive(Debug, Clone)]
pub struct PubSettings {
    pub connect: ConnectSettings,
    /// The topic; empty with `--replay`, whose messages carry their own.
    pub topic: String,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5 properties of every message (replayed messages carry their own).
    pub properties: Properties,
    pub payloads: Payloads,
    pub interval: Option<Duration>,
    pub max_inflight: u16,
}

#[derive(Debug, Clone)]
pub struct SubSettings {
    pub connect: ConnectSettings,
    pub filters: Vec<String>,
    pub subscribe: SubscribeOptions,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub format: Format,
    pub newline: bool,
    /// `--match`: only messages whose payload matches are printed and counted.
    pub payload_match: Option<Regex>,
    pub no_retained: bool,
    pub exit_on_subscribe: bool,
    pub filter_out: Vec<String>,
    pub retained_only: bool,
    pub remove_retained: bool,
    pub unsubscribe: Vec<String>,
}

/// Reads environment variables; a seam so tests need not touch the process environment.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

/// What a `-L` URL contributes; every part is optional except the transport.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UrlParts {
    pub transport: Option<Transport>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub topic: Option<String>,
}

/// Parses a `-L` URL: `mqtt://[user[:password]@]host[:port][/topic]`, `mqtts://`, `ws://`,
/// `wss://` (bad input: exit 2, the password masked in the message).
pub fn parse_url(text: &str) -> Result<UrlParts> {
    let bad = |why: &str| usage(format!("invalid URL '{}': {why}", redact_url(text)));
    let url = Url::parse(text).map_err(|err| {
        let why = match err {
            url::ParseError::RelativeUrlWithoutBase => "it has no scheme".to_string(),
            other => other.to_string(),
        };
        bad(&format!(
            "{why} (a URL looks like mqtt://[user[:password]@]host[:port][/topic], or mqtts://, \
             ws://, wss://)"
        ))
    })?;
    let (transport, default_port) = match url.scheme() {
        "mqtt" | "tcp" => (Transport::Tcp, 1883),
        "mqtts" | "ssl" | "tls" => (Transport::Tls, 8883),
        "ws" => (
            Transport::Ws {
                path: ws_path(&url),
            },
            80,
        ),
        "wss" => (
            Transport::Wss {
                path: ws_path(&url),
            },
            443,
        ),
        other => {
            return Err(bad(&format!(
                "unknown scheme '{other}' (use mqtt, mqtts, ws or wss)"
            )));
        }
    };
    let host = match url.host() {
        Some(url::Host::Domain(name)) if !name.is_empty() => name.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(bad("it has no host")),
    };
    let decode = |part: &str, what: &str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| bad(&format!("the {what} is not valid UTF-8")))
    };
    let username = match url.username() {
        "" => None,
        name => Some(decode(name, "user name")?),
    };
    let password = url
        .password()
        .map(|secret| decode(secret, "password"))
        .transpose()?;
    let topic = match transport {
        Transport::Tcp | Transport::Tls => {
            // `#` and `?` are topic characters here, not a URL's fragment and query
            // (`mqtt://host/home/#` is the filter `home/#`, as for mosquitto_sub -L).
            let mut path = url.path().trim_start_matches('/').to_string();
            if let Some(query) = url.query() {
                path = format!("{path}?{query}");
            }
            if let Some(fragment) = url.fragment() {
                path = format!("{path}#{fragment}");
            }
            if path.is_empty() {
                None
            } else {
                Some(decode(&path, "topic")?)
            }
        }
        _ => None,
    };
    let port = url.port().unwrap_or(default_port);
    if port == 0 {
        return Err(bad("port 0 is not a port a broker can listen on"));
    }
    Ok(UrlParts {
        transport: Some(transport),
        host: Some(host),
        port: Some(port),
        username,
        password: password.map(Secret::new),
        topic,
    })
}

fn ws_path(url: &Url) -> String {
    match url.path() {
        "" | "/" => "/mqtt".to_string(),
        path => path.to_string(),
    }
}

/// The URL with any password replaced, fit for an error message.
fn redact_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => text.to_string(),
        // Unparseable: cut anything between "://" and "@", which is where a password would be.
        Err(_) => match (text.find("://"), text.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                format!("{}***{}", &text[..start + 3], &text[at..])
            }
            _ => text.to_string(),
        },
    }
}

/// A host given as a URL or as `host:port` fails name resolution with a puzzling message: say
/// what was meant instead, before connecting.
fn check_host(host: &str) -> Result<()> {
    if host.contains("://") {
        return Err(usage(format!(
            "-h '{host}' is a URL, not a host name: use -L {host} for a URL, or -h HOST -p PORT"
        )));
    }
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]:1883`, or `name:1883` with one colon (more would be an IPv6 address).
        Some((name, port)) if name.starts_with('[') && name.ends_with(']') => {
            (&name[1..name.len() - 1], port)
        }
        Some((name, port)) if !name.contains(':') => (name, port),
        _ => return Ok(()),
    };
    if !name.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(usage(format!(
            "-h '{host}' has a port in it: did you mean -h {name} -p {port}?"
        )));
    }
    Ok(())
}

/// `mqtt-cli-` and ten random letters and digits.
fn random_client_id() -> String {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(10)
        .collect();
    format!("mqtt-cli-{suffix}")
}

fn qos(level: u8) -> Qos {
    match level {
        0 => Qos::AtMostOnce,
        1 => Qos::AtLeastOnce,
        _ => Qos::ExactlyOnce,
    }
}

fn read_password_file(path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        usage(format!(
            "cannot read password file {}: {err}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(usage(format!(
            "password file {} is empty: put the password on its first line",
            path.display()
        )));
    }
    Ok(Secret::new(line))
}

/// TLS is on for mqtts:// and wss:// URLs, with --tls, with any certificate option, and on port
/// 8883; --no-tls turns it off (and contradicts a TLS URL).
fn choose_transport(
    from_url: Option<Transport>,
    tls: &TlsArgs,
    port: Option<u16>,
) -> Result<Transport> {
    let wants_tls = tls.tls
        || !tls.cafile.is_empty()
        || tls.capath.is_some()
        || tls.native_roots
        || tls.cert.is_some()
        || tls.insecure
        || tls.tls_server_name.is_some()
        || !tls.alpn.is_empty();
    match from_url {
        Some(Transport::Tls | Transport::Wss { .. }) if tls.no_tls => Err(usage(
            "--no-tls contradicts the URL's scheme (mqtts:// or wss://)",
        )),
        Some(Transport::Ws { path }) if wants_tls => Ok(Transport::Wss { path }),
        Some(Transport::Tcp) | None if tls.no_tls => Ok(Transport::Tcp),
        Some(Transport::Tcp) | None if wants_tls || port == Some(8883) => Ok(Transport::Tls),
        Some(transport) => Ok(transport),
        None => Ok(Transport::Tcp),
    }
}

fn tls_options(args: &TlsArgs) -> Result<TlsOptions> {
    let trust = if args.native_roots {
        Trust::NativeRoots
    } else if !args.cafile.is_empty() || args.capath.is_some() {
        let mut files = args.cafile.clone();
        if let Some(dir) = &args.capath {
            files.extend(crate::tls::capath_files(dir)?);
        }
        Trust::Files(files)
    } else {
        Trust::MozillaRoots
    };
    if let Some(name) = &args.tls_server_name {
        crate::tls::server_name(name)?;
    }
    Ok(TlsOptions {
        trust,
        client_cert: args.cert.clone().zip(args.key.clone()),
        insecure: args.insecure,
        server_name: args.tls_server_name.clone(),
        alpn: args.alpn.clone(),
        min_version: args.tls_version,
    })
}

/// Refuses MQTT 5 options on an MQTT 3.1.1 connection, naming the first one given.
fn needs_v5(v5: bool, options: &[(&str, bool)]) -> Result<()> {
    match options.iter().find(|(_, given)| *given) {
        Some((name, _)) if !v5 => Err(usage(format!(
            "{name} is an MQTT 5 feature: add -V 5 (the broker must support MQTT 5)"
        ))),
        _ => Ok(()),
    }
}

/// The message property flags, shared by `pub` and the will.
struct PropertyArgs<'a> {
    payload_format: Option<PayloadFormat>,
    message_expiry: Option<u32>,
    content_type: &'a Option<String>,
    response_topic: &'a Option<String>,
    correlation_data: &'a Option<String>,
    user_properties: &'a [(String, String)],
    topic_alias: Option<u16>,
}

fn properties(args: PropertyArgs<'_>, flag_prefix: &str) -> Result<Properties> {
    if let Some(topic) = args.response_topic {
        validate_topic_name(topic)
            .map_err(|err| usage(format!("{flag_prefix}response-topic: {err}")))?;
    }
    let correlation_data = match args.correlation_data {
        None => None,
        Some(text) => Some(Bytes::from(match text.strip_prefix("hex:") {
            Some(digits) => crate::hex::decode(digits)
                .map_err(|err| usage(format!("{flag_prefix}correlation-data: {err}")))?,
            None => text.clone().into_bytes(),
        })),
    };
    Ok(Properties {
        payload_format_indicator: args.payload_format.map(|format| match format {
            PayloadFormat::Utf8 => 1,
            PayloadFormat::Binary => 0,
        }),
        message_expiry_interval: args.message_expiry,
        topic_alias: args.topic_alias,
        response_topic: args.response_topic.clone(),
        correlation_data,
        user_properties: args.user_properties.to_vec(),
        subscription_identifiers: Vec::new(),
        content_type: args.content_type.clone(),
    })
}

/// With `--payload-format utf8` a payload must be UTF-8 (the broker may refuse it otherwise).
fn check_payload_format(properties: &Properties, payload: &[u8], what: &str) -> Result<()> {
    if properties.payload_format_indicator == Some(1) && std::str::from_utf8(payload).is_err() {
        return Err(usage(format!(
            "{what} is not UTF-8 text, but the payload format says utf8"
        )));
    }
    Ok(())
}

/// Builds the connection settings (URL and flags; flags win, then the URL, then the environment).
pub fn connect_settings(
    args: &ConnectArgs,
    env: &dyn Environment,
) -> Result<(ConnectSettings, Option<String>)> {
    let url = match args.url.clone().or_else(|| env.var("MQTT_URL")) {
        Some(text) => parse_url(&text)?,
        None => UrlParts::default(),
    };

    let host = args
        .host
        .clone()
        .or(url.host)
        .or_else(|| env.var("MQTT_HOST"))
        .unwrap_or_else(|| "localhost".to_string());
    if host.is_empty() {
        return Err(usage("the host name is empty"));
    }
    check_host(&host)?;
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(&host)
        .to_string();

    let explicit_port = match (args.port, url.port, env.var("MQTT_PORT")) {
        (Some(port), _, _) | (None, Some(port), _) => Some(port),
        (None, None, Some(text)) => match text.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => return Err(usage(format!("invalid MQTT_PORT '{text}': use 1-65535"))),
        },
        (None, None, None) => None,
    };
    let mut transport = choose_transport(url.transport, &args.tls, explicit_port)?;
    if let Some(ws_path) = &args.ws_path {
        match &mut transport {
            Transport::Ws { path } | Transport::Wss { path } => {
                if !ws_path.starts_with('/') {
                    return Err(usage(format!("--ws-path '{ws_path}' must start with '/'")));
                }
                path.clone_from(ws_path);
            }
            _ => return Err(usage("--ws-path needs a ws:// or wss:// URL (-L)")),
        }
    }
    let port = explicit_port.unwrap_or(match transport {
        Transport::Tcp => 1883,
        Transport::Tls => 8883,
        Transport::Ws { .. } => 80,
        Transport::Wss { .. } => 443,
    });
    let tls = match transport {
        Transport::Tls | Transport::Wss { .. } => Some(crate::tls::build(tls_options(&args.tls)?)?),
        Transport::Tcp | Transport::Ws { .. } => None,
    };

    let v5 = args.protocol_version == ProtocolVersion::V5;
    needs_v5(
        v5,
        &[
            ("-x/--session-expiry", args.session_expiry.is_some()),
            ("--receive-maximum", args.receive_maximum.is_some()),
            ("--maximum-packet-size", args.maximum_packet_size.is_some()),
            (
                "--connect-user-property",
                !args.connect_user_property.is_empty(),
            ),
            ("--will-delay", args.will_delay.is_some()),
            ("--will-message-expiry", args.will_message_expiry.is_some()),
            ("--will-content-type", args.will_content_type.is_some()),
            ("--will-response-topic", args.will_response_topic.is_some()),
            (
                "--will-correlation-data",
                args.will_correlation_data.is_some(),
            ),
            ("--will-user-property", !args.will_user_property.is_empty()),
            ("--will-payload-format", args.will_payload_format.is_some()),
        ],
    )?;
    let resumes = args.no_clean || args.session_expiry.is_some_and(|expiry| expiry > 0);

    let client_id = match &args.client_id {
        Some(id) if id.is_empty() => {
            return Err(usage("the client id (-i) is empty"));
        }
        Some(id) if id.len() > crate::topic::MAX_TOPIC_LEN => {
            return Err(usage("the client id (-i) is longer than 65535 bytes"));
        }
        Some(id) => id.clone(),
        None if resumes => {
            return Err(usage(
                "a persistent session (-c, or -x above 0) needs --id (-i): the broker finds it by its client id",
            ));
        }
        None => random_client_id(),
    };

    let username = args
        .username
        .clone()
        .or(url.username)
        .or_else(|| env.var("MQTT_USERNAME"));
    let explicit_password = match (&args.password, &args.password_file) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "give the password once: -P or --password-file, not both",
            ));
        }
        (Some(password), None) => Some(Secret::new(password.as_str())),
        (None, Some(path)) => Some(read_password_file(path)?),
        (None, None) => match env.var("MQTT_PASSWORD_FILE") {
            Some(path) => Some(read_password_file(Path::new(&path))?),
            None => url.password,
        },
    };
    let password = match (explicit_password, &username) {
        // MQTT 5 allows a password alone (some brokers take a token that way).
        (Some(secret), None) if v5 => Some(secret),
        (Some(_), None) => {
            return Err(usage(
                "a password needs a user name (-u or MQTT_USERNAME) in MQTT 3.1.1",
            ));
        }
        (Some(secret), Some(_)) => Some(secret),
        // MQTT_PASSWORD is only used together with a user name, so a stray one in the
        // environment cannot break anonymous connections.
        (None, Some(_)) => env.var("MQTT_PASSWORD").map(Secret::new),
        (None, None) => None,
    };

    let will_properties = properties(
        PropertyArgs {
            payload_format: args.will_payload_format,
            message_expiry: args.will_message_expiry,
            content_type: &args.will_content_type,
            response_topic: &args.will_response_topic,
            correlation_data: &args.will_correlation_data,
            user_properties: &args.will_user_property,
            topic_alias: None,
        },
        "--will-",
    )?;
    let will = match &args.will_topic {
        Some(topic) => {
            validate_topic_name(topic).map_err(|err| usage(format!("--will-topic: {err}")))?;
            let payload = Bytes::from(args.will_payload.clone().unwrap_or_default());
            check_payload_format(&will_properties, &payload, "--will-payload")?;
            Some(Will {
                message: Message {
                    properties: will_properties,
                    ..Message::new(topic.clone(), payload, qos(args.will_qos), args.will_retain)
                },
                delay: args.will_delay,
            })
        }
        None if args.will_payload.is_some()
            || args.will_retain
            || args.will_qos != 0
            || args.will_delay.is_some()
            || !will_properties.is_empty() =>
        {
            return Err(usage("the --will-* options need --will-topic"));
        }
        None => None,
    };

    if args.connect_timeout.is_zero() {
        return Err(usage("--connect-timeout must be longer than 0"));
    }
    if args.reconnect_delay.is_zero() {
        return Err(usage("--reconnect-delay must be longer than 0"));
    }

    let settings = ConnectSettings {
        host,
        port,
        transport,
        client_id,
        keepalive: Duration::from_secs(u64::from(args.keepalive)),
        clean_session: !resumes,
        username,
        password,
        will,
        connect_timeout: args.connect_timeout,
        protocol: args.protocol_version,
        // -c alone on MQTT 5 keeps the session for good, as mosquitto's clients do.
        session_expiry: args
            .session_expiry
            .or((v5 && args.no_clean).then_some(u32::MAX)),
        receive_maximum: args.receive_maximum,
        maximum_packet_size: args.maximum_packet_size,
        user_properties: args.connect_user_property.clone(),
        reconnect: (!args.no_reconnect).then_some(Reconnect {
            max_delay: args.reconnect_delay,
            give_up_after: Some(args.reconnect_timeout).filter(|limit| !limit.is_zero()),
        }),
        tls,
    };
    Ok((settings, url.topic))
}

/// Validates `pub` arguments and loads file or stdin payloads.
pub fn pub_settings(args: &PubArgs, env: &dyn Environment) -> Result<PubSettings> {
    let (connect, url_topic) = connect_settings(&args.connect, env)?;
    let v5 = connect.protocol == ProtocolVersion::V5;
    needs_v5(
        v5,
        &[
            ("--content-type", args.content_type.is_some()),
            ("--user-property", !args.user_property.is_empty()),
            ("--message-expiry", args.message_expiry.is_some()),
            ("--response-topic", args.response_topic.is_some()),
            ("--correlation-data", args.correlation_data.is_some()),
            ("--payload-format", args.payload_format.is_some()),
            ("--topic-alias", args.topic_alias.is_some()),
        ],
    )?;
    let properties = properties(
        PropertyArgs {
            payload_format: args.payload_format,
            message_expiry: args.message_expiry,
            content_type: &args.content_type,
            response_topic: &args.response_topic,
            correlation_data: &args.correlation_data,
            user_properties: &args.user_property,
            topic_alias: args.topic_alias,
        },
        "--",
    )?;
    if let Some(path) = &args.replay {
        if !properties.is_empty() {
            return Err(usage(
                "--replay sends the properties recorded in the capture; leave out the property flags",
            ));
        }
        let messages = crate::replay::read_capture(path, args.replay_timing)?;
        if !v5
            && let Some(index) = messages
                .iter()
                .position(|(_, message)| !message.properties.is_empty())
        {
            return Err(usage(format!(
                "{}: message {} has MQTT 5 properties: replay it with -V 5",
                path.display(),
                index + 1
            )));
        }
        let highest = messages
            .iter()
            .map(|(_, m)| m.qos)
            .max()
            .unwrap_or(Qos::AtMostOnce);
        return Ok(PubSettings {
            connect,
            topic: String::new(),
            qos: highest,
            retain: false,
            properties,
            payloads: Payloads::Replay(messages),
            interval: args.interval.filter(|interval| !interval.is_zero()),
            max_inflight: args
                .max_inflight
                .unwrap_or_else(|| default_max_inflight(highest)),
        });
    }
    let topic =
        args.topic.clone().or(url_topic).ok_or_else(|| {
            usage("no topic: give one with -t TOPIC (or as the path of the -L URL)")
        })?;
    validate_topic_name(&topic).map_err(usage)?;

    let payloads = if args.lines {
        if args.repeat != 1 {
            return Err(usage(
                "--repeat does not go with --lines: each line is sent once",
            ));
        }
        Payloads::Lines
    } else {
        let payloads: Vec<Bytes> = if !args.messages.is_empty() {
            args.messages
                .iter()
                .map(|message| Bytes::from(message.clone()))
                .collect()
        } else if let Some(path) = &args.file {
            vec![read_payload_file(path)?]
        } else if args.stdin {
            vec![read_payload_stdin()?]
        } else if args.null {
            vec![Bytes::new()]
        } else {
            return Err(usage(
                "no message: give one with -m, -f FILE, -s (stdin), -l (lines), -n (empty) or --replay FILE",
            ));
        };
        // Fixed header (5) + topic length prefix (2) + topic + packet id (2).
        let overhead = 5 + 2 + topic.len() + 2;
        for payload in &payloads {
            check_payload_format(&properties, payload, "the message")?;
        }
        if let Some(big) = payloads
            .iter()
            .find(|payload| payload.len() + overhead > MAX_PACKET_SIZE)
        {
            return Err(usage(format!(
                "the message is {} bytes: MQTT packets are limited to {MAX_PACKET_SIZE} bytes",
                big.len()
            )));
        }
        Payloads::Cycle {
            payloads,
            repeat: args.repeat,
        }
    };

    Ok(PubSettings {
        connect,
        topic,
        qos: qos(args.qos),
        retain: args.retain,
        properties,
        payloads,
        interval: args.interval.filter(|interval| !interval.is_zero()),
        max_inflight: args
            .max_inflight
            .unwrap_or_else(|| default_max_inflight(qos(args.qos))),
    })
}

/// A whole file as one payload.
fn read_payload_file(path: &Path) -> Result<Bytes> {
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|err| usage(format!("cannot read {}: {err}", path.display())))
}

/// All of standard input as one payload.
fn read_payload_stdin() -> Result<Bytes> {
    let mut data = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut data)
        .map_err(|err| usage(format!("cannot read standard input: {err}")))?;
    // A closed or empty stdin is almost always a broken pipeline, not an empty message.
    if data.is_empty() {
        return Err(usage(
            "standard input (-s) is empty or closed: nothing to send (-n sends an empty message)",
        ));
    }
    Ok(Bytes::from(data))
}

/// What `rr` needs: the request, where the answer comes, and how to print it.
#[derive(Debug, Clone)]
pub struct RrSettings {
    pub connect: ConnectSettings,
    /// The request, with the response topic and correlation data on MQTT 5.
    pub request: Message,
    pub response_topic: String,
    pub payload_match: Option<Regex>,
    pub timeout: Option<Duration>,
    pub format: Format,
    pub newline: bool,
}

/// Validates `rr` arguments and reads the request's payload.
pub fn rr_settings(args: &RrArgs, env: &dyn Environment) -> Result<RrSettings> {
    let (connect, _) = connect_settings(&args.connect, env)?;
    validate_topic_name(&args.topic).map_err(usage)?;
    validate_topic_name(&args.response_topic)
        .map_err(|err| usage(format!("-e/--response-topic: {err}")))?;
    if args.topic == args.response_topic {
        return Err(usage(
            "-t and -e are the same topic: the request would be taken for its own answer",
        ));
    }
    let v5 = connect.protocol == ProtocolVersion::V5;
    needs_v5(
        v5,
        &[
            ("--correlation-data", args.correlation_data.is_some()),
            ("--user-property", !args.user_property.is_empty()),
            ("--content-type", args.content_type.is_some()),
        ],
    )?;
    let payload = if let Some(message) = &args.message {
        Bytes::from(message.clone())
    } else if let Some(path) = &args.file {
        read_payload_file(path)?
    } else if args.stdin {
        read_payload_stdin()?
    } else if args.null {
        Bytes::new()
    } else {
        return Err(usage(
            "no request: give one with -m, -f FILE, -s (stdin) or -n (empty)",
        ));
    };
    if args.timeout.is_some_and(|timeout| timeout.is_zero()) {
        return Err(usage("-W must be longer than 0"));
    }
    let mut properties = properties(
        PropertyArgs {
            payload_format: None,
            message_expiry: None,
            content_type: &args.content_type,
            response_topic: &None,
            correlation_data: &args.correlation_data,
            user_properties: &args.user_property,
            topic_alias: None,
        },
        "--",
    )?;
    if v5 {
        properties.response_topic = Some(args.response_topic.clone());
        if properties.correlation_data.is_none() {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(16)
                .collect();
            properties.correlation_data = Some(Bytes::from(random));
        }
    }
    Ok(RrSettings {
        connect,
        request: Message {
            properties,
            ..Message::new(args.topic.clone(), payload, qos(args.qos), false)
        },
        response_topic: args.response_topic.clone(),
        payload_match: payload_regex(args.r#match.as_deref())?,
        timeout: args.timeout,
        format: output_format(&args.output)?,
        newline: !args.output.no_newline,
    })
}

/// What `check` needs.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub connect: ConnectSettings,
    /// The checks to run, in order.
    pub checks: Vec<CheckName>,
    pub topic_prefix: String,
    pub count: u32,
    pub payload_size: usize,
    pub cert_expiry_warn: Option<u32>,
    pub timeout: Duration,
    pub json: bool,
    /// `--quiet`: no table on stderr.
    pub quiet: bool,
    /// Colour in the table on stderr.
    pub colour: bool,
}

/// Validates `check` arguments.
pub fn check_settings(args: &CheckArgs, env: &dyn Environment) -> Result<CheckSettings> {
    let (mut connect, _) = connect_settings(&args.connect, env)?;
    // The checks leave nothing behind: clean sessions that end with the connection.
    if !connect.clean_session || connect.will.is_some() {
        return Err(usage(
            "check uses its own clean sessions and will: leave out -c, -x and --will-*",
        ));
    }
    connect.session_expiry = None;
    // A check that breaks a connection on purpose (the will) or sees one broken must say so.
    connect.reconnect = None;
    let topic_prefix = match &args.topic_prefix {
        Some(prefix) => {
            validate_topic_name(prefix).map_err(|err| usage(format!("--topic-prefix: {err}")))?;
            prefix.trim_end_matches('/').to_string()
        }
        None => {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(10)
                .collect();
            format!("mqtt-cli/check/{random}")
        }
    };
    let all = [
        CheckName::Connect,
        CheckName::Tls,
        CheckName::Qos0,
        CheckName::Qos1,
        CheckName::Qos2,
        CheckName::Retained,
        CheckName::Will,
        CheckName::Wildcards,
        CheckName::LargePayload,
    ];
    let checks = all
        .into_iter()
        .filter(|check| args.only.is_empty() || args.only.contains(check))
        .filter(|check| !args.skip.contains(check))
        .collect::<Vec<_>>();
    if checks.is_empty() {
        return Err(usage("--skip leaves no check to run"));
    }
    if args.timeout.is_zero() {
        return Err(usage("-W must be longer than 0"));
    }
    use std::io::IsTerminal;
    Ok(CheckSettings {
        connect,
        checks,
        topic_prefix,
        count: args.count,
        payload_size: args.payload_size,
        cert_expiry_warn: args.cert_expiry_warn,
        timeout: args.timeout,
        json: args.json,
        quiet: args.connect.quiet,
        colour: std::io::stderr().is_terminal() && env.var("NO_COLOR").is_none(),
    })
}

/// The output format the flags ask for.
fn output_format(args: &OutputArgs) -> Result<Format> {
    Ok(if let Some(template) = &args.template {
        Format::Template(Template::parse(template).map_err(usage)?)
    } else if args.json {
        Format::Json {
            pretty: args.pretty,
            encoding: args.payload_encoding,
        }
    } else if args.verbose {
        Format::Verbose
    } else {
        Format::Raw
    })
}

/// `--match REGEX`, compiled for raw payload bytes (`.` does not match invalid UTF-8).
fn payload_regex(pattern: Option<&str>) -> Result<Option<Regex>> {
    pattern
        .map(|pattern| {
            Regex::new(pattern).map_err(|err| {
                let detail = err.to_string();
                let last = detail
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                usage(format!(
                    "--match '{pattern}' is not a valid regular expression: {last}"
                ))
            })
        })
        .transpose()
}

/// Validates `sub` arguments.
pub fn sub_settings(args: &SubArgs, env: &dyn Environment) -> Result<SubSettings> {
    let (connect, url_topic) = connect_settings(&args.connect, env)?;
    let mut filters = args.topics.clone();
    if filters.is_empty() {
        filters.extend(url_topic);
    }
    if filters.is_empty() && args.unsubscribe.is_empty() {
        return Err(usage(
            "no topic: give at least one filter with -t FILTER (e.g. -t 'sensors/#')",
        ));
    }
    for filter in filters
        .iter()
        .chain(&args.filter_out)
        .chain(&args.unsubscribe)
    {
        validate_topic_filter(filter).map_err(usage)?;
    }
    let format = output_format(&args.output)?;
    let payload_match = payload_regex(args.r#match.as_deref())?;
    if args.timeout.is_some_and(|timeout| timeout.is_zero()) {
        return Err(usage("-W must be longer than 0"));
    }
    needs_v5(
        connect.protocol == ProtocolVersion::V5,
        &[
            ("--no-local", args.no_local),
            ("--retain-as-published", args.retain_as_published),
            ("--retain-handling", args.retain_handling != 0),
            ("--subscription-id", args.subscription_id.is_some()),
        ],
    )?;
    Ok(SubSettings {
        connect,
        filters,
        subscribe: SubscribeOptions {
            qos: qos(args.qos),
            no_local: args.no_local,
            retain_as_published: args.retain_as_published,
            retain_handling: args.retain_handling,
            subscription_identifier: args.subscription_id.and_then(|id| usize::try_from(id).ok()),
        },
        count: args.count,
        timeout: args.timeout,
        format,
        newline: !args.output.no_newline,
        payload_match,
        no_retained: args.no_retained,
        exit_on_subscribe: args.exit_on_subscribe,
        filter_out: args.filter_out.clone(),
        retained_only: args.retained_only,
        remove_retained: args.remove_retained,
        unsubscribe: args.unsubscribe.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|value| value.to_string())
        }
    }

    fn sub(argv: &[&str], env: &[(&'static str, &'static str)]) -> Result<SubSettings> {
        let cli = Cli::try_parse_from(["mqtt-cli", "sub"].iter().chain(argv))
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        let Command::Sub(args) = cli.command else {
            unreachable!("parsed a sub command")
        };
        sub_settings(&args, &FakeEnv(env.iter().copied().collect()))
    }

    #[test]
    fn url_parts_fill_in_and_flags_win() {
        let settings = sub(
            &["-L", "mqtt://alice:s%40cret@broker.example:1884/a/b"],
            &[],
        )
        .expect("valid");
        assert_eq!(settings.connect.host, "broker.example");
        assert_eq!(settings.connect.port, 1884);
        assert_eq!(settings.connect.username.as_deref(), Some("alice"));
        assert_eq!(settings.connect.password, Some(Secret::new("s@cret")));
        assert_eq!(settings.filters, vec!["a/b".to_string()]);

        let settings = sub(
            &[
                "-L",
                "mqtt://broker.example/x",
                "-h",
                "other",
                "-p",
                "1",
                "-t",
                "y",
            ],
            &[("MQTT_HOST", "envhost")],
        )
        .expect("valid");
        assert_eq!(settings.connect.address(), "other:1");
        assert_eq!(settings.filters, vec!["y".to_string()]);
    }

    #[test]
    fn environment_is_the_last_resort() {
        let settings = sub(
            &["-t", "x"],
            &[
                ("MQTT_HOST", "envhost"),
                ("MQTT_PORT", "1999"),
                ("MQTT_USERNAME", "bob"),
                ("MQTT_PASSWORD", "pw"),
            ],
        )
        .expect("valid");
        assert_eq!(settings.connect.address(), "envhost:1999");
        assert_eq!(settings.connect.password, Some(Secret::new("pw")));
        // A password in the environment without a user name is ignored, not an error.
        let settings = sub(&["-t", "x"], &[("MQTT_PASSWORD", "pw")]).expect("valid");
        assert_eq!(settings.connect.password, None);
    }

    #[test]
    fn tls_follows_scheme_flags_and_port_8883() {
        let transport_and_port = |argv: &[&str]| {
            let settings = sub(argv, &[]).expect("valid");
            (
                settings.connect.transport,
                settings.connect.port,
                settings.connect.tls.is_some(),
            )
        };
        let ws = |path: &str| Transport::Ws {
            path: path.to_string(),
        };
        let wss = |path: &str| Transport::Wss {
            path: path.to_string(),
        };
        assert_eq!(
            transport_and_port(&["-t", "x"]),
            (Transport::Tcp, 1883, false)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "-p", "8883"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "--tls"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "--insecure"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "-p", "8883", "--no-tls"]),
            (Transport::Tcp, 8883, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "mqtts://h/x"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-L", "ws://h", "-t", "x"]),
            (ws("/mqtt"), 80, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "ws://h:9001/p", "-t", "x"]),
            (ws("/p"), 9001, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "wss://h", "-t", "x"]),
            (wss("/mqtt"), 443, true)
        );
        // A TLS option upgrades ws:// to wss://, never the other way round.
        assert_eq!(
            transport_and_port(&["-L", "ws://h:8080", "--tls", "-t", "x"]),
            (wss("/mqtt"), 8080, true)
        );
        let settings = sub(&["-L", "wss://[::1]:8081/mqtt", "-t", "x"], &[]).expect("valid");
        assert_eq!(
            settings.connect.websocket_url().as_deref(),
            Some("wss://[::1]:8081/mqtt")
        );
    }

    #[test]
    fn wildcards_and_question_marks_in_the_url_path_are_the_topic() {
        let filter = |url: &str| sub(&["-L", url], &[]).expect("valid").filters;
        assert_eq!(filter("mqtt://localhost:1883/home/#"), vec!["home/#"]);
        assert_eq!(filter("mqtt://localhost/#"), vec!["#"]);
        assert_eq!(filter("mqtt://localhost/+/temp"), vec!["+/temp"]);
        assert_eq!(filter("mqtt://localhost/a/%23"), vec!["a/#"]);
        assert_eq!(filter("mqtt://localhost/what?now"), vec!["what?now"]);
        let err = sub(&["-L", "mqtt://localhost/a/#/b"], &[]).expect_err("# not last");
        assert_eq!(crate::error::exit_code_of(&err), 2);
    }

    #[test]
    fn a_host_with_a_port_or_a_scheme_says_what_was_meant() {
        for (host, needle) in [
            ("localhost:1883", "did you mean -h localhost -p 1883?"),
            ("[::1]:1883", "did you mean -h ::1 -p 1883?"),
            (
                "mqtts://broker.example:8883",
                "use -L mqtts://broker.example:8883",
            ),
        ] {
            let err = sub(&["-h", host, "-t", "x"], &[]).expect_err("bad host");
            assert!(format!("{err:#}").contains(needle), "{host}: {err:#}");
        }
        for host in ["::1", "[::1]", "broker.example", "10.0.0.1"] {
            sub(&["-h", host, "-t", "x"], &[]).expect("valid host");
        }
    }

    #[test]
    fn ipv6_hosts() {
        let settings = sub(&["-L", "mqtt://[::1]:1884", "-t", "x"], &[]).expect("valid");
        assert_eq!(settings.connect.host, "::1");
        assert_eq!(settings.connect.address(), "[::1]:1884");
    }

    #[test]
    fn secrets_are_not_printed() {
        let settings = sub(&["-t", "x", "-u", "u", "-P", "hunter2"], &[]).expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2"));
        let err =
            sub(&["-L", "mqtt://u:hunter2@host:notaport", "-t", "x"], &[]).expect_err("bad port");
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
    }

    #[test]
    fn bad_input_is_usage() {
        for argv in [
            &["-t", "a/#/b"][..],
            &["-t", ""],
            &["-L", "http://host", "-t", "x"],
            &["-L", "mqtt://", "-t", "x"],
            &["-t", "x", "-c"],
            &["-t", "x", "-P", "pw"],
            &["-t", "x", "--will-payload", "bye"],
            &["-t", "x", "-W", "0s"],
            &["-t", "x", "--no-local"],
            &["-t", "x", "--retain-handling", "2"],
            &["-t", "x", "-x", "60"],
            &["-t", "x", "-V", "5", "-x", "60"],
            &["-t", "x", "--will-delay", "5s", "-V", "5"],
            &[
                "-t",
                "x",
                "--will-topic",
                "w",
                "--will-correlation-data",
                "hex:zz",
                "-V",
                "5",
            ],
        ] {
            let err = sub(argv, &[]).expect_err("must fail");
            assert_eq!(crate::error::exit_code_of(&err), 2, "{argv:?}: {err:#}");
        }
    }
}
