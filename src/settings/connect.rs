//! The connection: broker address and transport (flags, then the URL, then the environment),
//! TLS, client id, session, credentials, and the reconnect policy.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::origin::{Origin, first};
use super::properties::needs_v5;
use super::route::{Route, route};
use super::will::{Will, will_settings};
use crate::broker_url::{UrlParts, parse_url};
use crate::cli::config::{ProfileLayer, Sources};
use crate::cli::env::Environment;
use crate::cli::{ConnectArgs, TlsArgs};
use crate::error::usage;
use crate::input::check_string_length;
use crate::secrets::read_password_file;
use crate::tls::{TlsOptions, TlsSetup, Trust};
use crate::types::{ProtocolVersion, Reconnect, Secret, Transport};

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
    /// A proxy, a source address or a Unix socket, when not straight to host and port.
    pub route: Route,
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
            route: Route::default(),
        }
    }

    /// Where the session connects: `host:port`, or the Unix socket.
    pub fn place(&self) -> String {
        match &self.route.unix {
            Some(path) => format!("the Unix socket {}", path.display()),
            None => self.address(),
        }
    }

    /// `host:port` as people write it (IPv6 in brackets).
    pub fn address(&self) -> String {
        crate::types::host_port(&self.host, self.port)
    }
}

/// A host given as a URL or as `host:port` fails name resolution with a puzzling message: say
/// what was meant instead, before connecting.
pub(super) fn check_host(host: &str) -> Result<()> {
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
pub(super) fn random_client_id() -> String {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(10)
        .collect();
    format!("mqtt-cli-{suffix}")
}

/// TLS is on for mqtts:// and wss:// URLs, with --tls, with any certificate option, and on port
/// 8883; --no-tls turns it off (and contradicts a TLS URL).
pub(super) fn choose_transport(
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
        || !tls.alpn.is_empty()
        || tls.ciphers.is_some();
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

pub(super) fn tls_options(args: &TlsArgs) -> Result<TlsOptions> {
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
        ciphers: args.ciphers.clone().unwrap_or_default(),
        keylog: args.tls_keylog.clone(),
    })
}

/// Where each part of the address may come from, strongest first: the flags, the URL (`-L`,
/// else `MQTT_URL`), the environment, the profile (its own URL below its other keys).
struct Layers<'a> {
    args: &'a ConnectArgs,
    env: &'a dyn Environment,
    profile: Option<&'a ProfileLayer>,
    url: UrlParts,
    url_origin: Origin<'a>,
    profile_url: UrlParts,
    in_profile: Origin<'a>,
}

impl<'a> Layers<'a> {
    fn read(args: &'a ConnectArgs, from: Sources<'a>) -> Result<Layers<'a>> {
        let Sources { env, profile } = from;
        let profile_name = profile.map_or("", |profile| profile.name.as_str());
        let url = match args.url.clone().or_else(|| env.var("MQTT_URL")) {
            Some(text) => parse_url(&text)?,
            None => UrlParts::default(),
        };
        let profile_url = match profile.and_then(|profile| profile.url.as_deref()) {
            Some(text) => parse_url(text)
                .map_err(|err| usage(format!("profile '{profile_name}': url: {err:#}")))?,
            None => UrlParts::default(),
        };
        Ok(Layers {
            args,
            env,
            profile,
            url,
            url_origin: match args.url {
                Some(_) => Origin::Url,
                None => Origin::Env("MQTT_URL"),
            },
            profile_url,
            in_profile: Origin::Profile(profile_name),
        })
    }

    /// The broker's host, `[...]` of an IPv6 address taken off.
    fn host(&self) -> Result<String> {
        let profile_host = self.profile.and_then(|profile| profile.host.clone());
        let (host, origin) = first([
            (self.args.host.clone(), Origin::Flag),
            (self.url.host.clone(), self.url_origin),
            (self.env.var("MQTT_HOST"), Origin::Env("MQTT_HOST")),
            (
                profile_host.or(self.profile_url.host.clone()),
                self.in_profile,
            ),
        ])
        .unwrap_or_else(|| ("localhost".to_string(), Origin::Default));
        tracing::debug!("host {host} ({origin})");
        if host.is_empty() {
            return Err(usage("the host name is empty"));
        }
        check_host(&host)?;
        Ok(host
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(&host)
            .to_string())
    }

    /// The transport (from the URL's scheme and the TLS flags) and the port (given, else the
    /// transport's).
    fn transport_and_port(&self) -> Result<(Transport, u16)> {
        let env_port = match self.env.var("MQTT_PORT") {
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port > 0 => Some(port),
                _ => return Err(usage(format!("invalid MQTT_PORT '{text}': use 1-65535"))),
            },
            None => None,
        };
        let profile_port = self.profile.and_then(|profile| profile.port);
        let explicit_port = first([
            (self.args.port, Origin::Flag),
            (self.url.port, self.url_origin),
            (env_port, Origin::Env("MQTT_PORT")),
            (profile_port.or(self.profile_url.port), self.in_profile),
        ]);
        if let Some((port, origin)) = explicit_port {
            tracing::debug!("port {port} ({origin})");
        }
        let explicit_port = explicit_port.map(|(port, _)| port);
        let scheme = (self.url.transport.clone()).or(self.profile_url.transport.clone());
        let mut transport = choose_transport(scheme, &self.args.tls, explicit_port)?;
        // --ws (mosquitto 2.1): WebSockets on the port TCP would have used.
        let mut default_port = None;
        if self.args.ws {
            let path = "/mqtt".to_string();
            (transport, default_port) = match transport {
                Transport::Tcp => (Transport::Ws { path }, Some(1883)),
                Transport::Tls => (Transport::Wss { path }, Some(8883)),
                websockets => (websockets, None),
            };
        }
        if let Some(ws_path) = &self.args.ws_path {
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
        let port = explicit_port.or(default_port).unwrap_or(match transport {
            Transport::Tcp => 1883,
            Transport::Tls => 8883,
            Transport::Ws { .. } => 80,
            Transport::Wss { .. } => 443,
        });
        if explicit_port.is_none() {
            tracing::debug!("port {port} (default for {transport})");
        }
        Ok((transport, port))
    }
}

/// The MQTT 5 connect flags and `--will-delay`, refused on MQTT 3.1.1 (the will's properties
/// are refused where they are read).
fn check_v5_flags(args: &ConnectArgs) -> Result<()> {
    needs_v5(
        args.protocol_version == ProtocolVersion::V5,
        &[
            ("-x/--session-expiry", args.session_expiry.is_some()),
            ("--receive-maximum", args.receive_maximum.is_some()),
            ("--maximum-packet-size", args.maximum_packet_size.is_some()),
            (
                "--connect-user-property",
                !args.connect_user_property.is_empty(),
            ),
            ("--will-delay", args.will_delay.is_some()),
        ],
    )
}

/// `-i`, else `--id-prefix` and the process id, else a random id (not for a session to resume).
fn client_id(args: &ConnectArgs, resumes: bool) -> Result<String> {
    let prefixed = args
        .id_prefix
        .as_ref()
        .map(|prefix| format!("{prefix}{}", std::process::id()));
    match args.client_id.as_ref().or(prefixed.as_ref()) {
        Some(id) if id.is_empty() => Err(usage("the client id (-i) is empty")),
        Some(id) if id.len() > crate::topic::MAX_TOPIC_LEN => {
            Err(usage("the client id (-i) is longer than 65535 bytes"))
        }
        // MQTT 3.1 section 3.1: 1 to 23 characters (3.1.1 lifted the limit).
        Some(id) if args.protocol_version == ProtocolVersion::V31 && id.chars().count() > 23 => {
            Err(usage(format!(
                "MQTT 3.1 allows client ids of 1 to 23 characters; '{id}' has {}",
                id.chars().count()
            )))
        }
        Some(id) => Ok(id.clone()),
        None if resumes => Err(usage(
            "a persistent session (-c, or -x above 0) needs --id (-i): the broker finds it by its client id",
        )),
        None => Ok(random_client_id()),
    }
}

/// Limits before bytes: a longer string's two-byte length prefix would wrap, and the CONNECT
/// go out malformed. Zero timeouts are refused too.
fn check_limits(
    args: &ConnectArgs,
    username: Option<&String>,
    password: Option<&Secret>,
    will: Option<&Will>,
) -> Result<()> {
    if let Some(username) = username {
        check_string_length("the user name", username.len())?;
    }
    if let Some(password) = password {
        check_string_length("the password", password.expose().len())?;
    }
    if let Some(will) = will {
        check_string_length(
            "the will payload (--will-payload)",
            will.message.payload.len(),
        )?;
    }
    if args.connect_timeout.is_zero() {
        return Err(usage("--connect-timeout must be longer than 0"));
    }
    if args.reconnect_delay.is_zero() {
        return Err(usage("--reconnect-delay must be longer than 0"));
    }
    Ok(())
}

/// Builds the connection settings: flags win, then the URL (`-L`, else `MQTT_URL`), then the
/// environment, then the profile (its own URL below its other keys).
pub fn connect_settings(
    args: &ConnectArgs,
    from: Sources,
) -> Result<(ConnectSettings, Option<String>)> {
    if let Some(first) = args.property.first() {
        // What the command line's -D became is in the other flags; one left here was not
        // read as mosquitto's -D (it followed an option that takes a value).
        return Err(usage(format!(
            "-D {first} ...: give -D COMMAND PROPERTY VALUE on its own, as mosquitto's -D"
        )));
    }
    let layers = Layers::read(args, from)?;
    let host = layers.host()?;
    let (transport, port) = layers.transport_and_port()?;
    // The TLS flags (and the --capath listing) read once, for the broker and an https:// proxy.
    let tls_options = tls_options(&args.tls)?;
    let tls = match transport {
        Transport::Tls | Transport::Wss { .. } => Some(crate::tls::build(tls_options.clone())?),
        Transport::Tcp | Transport::Ws { .. } => None,
    };
    if tls.is_none() && args.tls.tls_keylog.is_some() {
        return Err(usage(
            "--tls-keylog writes TLS session keys, and this connection has no TLS: add --tls (or use mqtts://)",
        ));
    }
    let route = route(args, from.env, &transport, &host, tls_options)?;
    check_v5_flags(args)?;
    let v5 = args.protocol_version == ProtocolVersion::V5;
    let resumes = args.no_clean || args.session_expiry.is_some_and(|expiry| expiry > 0);
    let client_id = client_id(args, resumes)?;

    let Layers {
        url, profile_url, ..
    } = layers;
    let elsewhere = from.profile.is_some_and(|layer| layer.elsewhere.is_some());
    let (username, password) = credentials(
        args,
        url.username.or(profile_url.username.filter(|_| !elsewhere)),
        url.password.or(profile_url.password.filter(|_| !elsewhere)),
        from.env,
        from.profile,
        v5,
    )?;
    let will = will_settings(args)?;
    check_limits(args, username.as_ref(), password.as_ref(), will.as_ref())?;

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
        route,
    };
    Ok((settings, url.topic))
}

/// A profile's credentials go only to its own host: false (and `-d` says so) when the
/// command line named another.
fn stays_home(layer: &ProfileLayer) -> bool {
    let Some(elsewhere) = &layer.elsewhere else {
        return true;
    };
    if layer.username.is_some() || layer.password.is_some() {
        tracing::debug!(
            "profile {}: its user name and password are for {}, not sent to {elsewhere}",
            layer.name,
            layer.own_host().unwrap_or_default(),
        );
    }
    false
}

/// The password given for this run: `-P`, `--password-file`, `MQTT_PASSWORD_FILE`, the URL's.
fn explicit_password(
    args: &ConnectArgs,
    env: &dyn Environment,
    url_password: Option<Secret>,
) -> Result<Option<Secret>> {
    Ok(match (&args.password, &args.password_file) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "give the password once: -P or --password-file, not both",
            ));
        }
        (Some(password), None) => {
            tracing::debug!("password <redacted> (flag -P)");
            Some(Secret::new(password.as_str()))
        }
        (None, Some(path)) => {
            tracing::debug!("password from the file {} (flag)", path.display());
            Some(read_password_file(path)?)
        }
        (None, None) => match env.var("MQTT_PASSWORD_FILE") {
            Some(path) => {
                tracing::debug!("password from the file {path} (env MQTT_PASSWORD_FILE)");
                Some(read_password_file(Path::new(&path))?)
            }
            None => {
                if url_password.is_some() {
                    tracing::debug!("password <redacted> (URL)");
                }
                url_password
            }
        },
    })
}

/// The user name and password: flags first, then the URL, then the environment
/// (`MQTT_USERNAME`, `MQTT_PASSWORD_FILE`, `MQTT_PASSWORD`).
fn credentials(
    args: &ConnectArgs,
    url_username: Option<String>,
    url_password: Option<Secret>,
    env: &dyn Environment,
    profile: Option<&ProfileLayer>,
    v5: bool,
) -> Result<(Option<String>, Option<Secret>)> {
    let profile_name = profile.map_or("", |profile| profile.name.as_str());
    let profile = profile.filter(|layer| stays_home(layer));
    let user = first([
        (args.username.clone(), Origin::Flag),
        (url_username, Origin::Url),
        (env.var("MQTT_USERNAME"), Origin::Env("MQTT_USERNAME")),
        (
            profile.and_then(|profile| profile.username.clone()),
            Origin::Profile(profile_name),
        ),
    ]);
    if let Some((name, origin)) = &user {
        tracing::debug!("username {name} ({origin})");
    }
    let username = user.map(|(name, _)| name);
    let explicit_password = explicit_password(args, env, url_password)?;
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
        (None, Some(_)) => match (env.var("MQTT_PASSWORD"), profile) {
            (Some(password), _) => {
                tracing::debug!("password <redacted> (env MQTT_PASSWORD)");
                Some(Secret::new(password))
            }
            (None, Some(profile)) => match &profile.password {
                Some(source) => {
                    tracing::debug!("password {} (profile {profile_name})", source.describe());
                    Some(source.read(&|name| env.var(name), profile_name)?)
                }
                None => None,
            },
            (None, None) => None,
        },
        (None, None) => match profile.and_then(|profile| profile.password.as_ref()) {
            Some(source) if v5 => Some(source.read(&|name| env.var(name), profile_name)?),
            Some(_) => {
                return Err(usage(format!(
                    "profile '{profile_name}' has a password but no user name: add username (MQTT 3.1.1 needs one)"
                )));
            }
            None => None,
        },
    };
    Ok((username, password))
}
