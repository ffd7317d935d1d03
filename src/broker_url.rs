//! `-L` URLs: `mqtt://[user[:password]@]host[:port][/topic]`, `mqtts://`, `ws://`, `wss://`.
//! `#`, `+` and `?` in the topic part are topic characters; passwords never reach a message.

use anyhow::Result;
use percent_encoding::percent_decode_str;
use url::Url;

use crate::error::usage;
use crate::types::{Secret, Transport};

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
    let url = Url::parse(text).map_err(|err| bad(&unparsed(text, err)))?;
    let (transport, default_port) = transport(&url).map_err(|why| bad(&why))?;
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

/// Why `text` is not a URL, with what a URL looks like.
fn unparsed(text: &str, err: url::ParseError) -> String {
    let why = match err {
        url::ParseError::RelativeUrlWithoutBase => "it has no scheme".to_string(),
        // mqtt://::1:1883: an IPv6 address without its brackets.
        url::ParseError::EmptyHost | url::ParseError::InvalidPort
            if text.contains("::") && !text.contains('[') =>
        {
            "an IPv6 address is written in brackets, as mqtt://[::1]:1883".to_string()
        }
        other => other.to_string(),
    };
    format!(
        "{why} (a URL looks like mqtt://[user[:password]@]host[:port][/topic], or mqtts://, \
         ws://, wss://)"
    )
}

/// The transport a URL's scheme names, and its default port.
fn transport(url: &Url) -> Result<(Transport, u16), String> {
    Ok(match url.scheme() {
        "mqtt" | "tcp" => (Transport::Tcp, 1883),
        "mqtts" | "ssl" | "tls" => (Transport::Tls, 8883),
        "ws" => (Transport::Ws { path: ws_path(url) }, 80),
        "wss" => (Transport::Wss { path: ws_path(url) }, 443),
        other => {
            return Err(format!(
                "unknown scheme '{other}' (use mqtt, mqtts, ws or wss)"
            ));
        }
    })
}

fn ws_path(url: &Url) -> String {
    match url.path() {
        "" | "/" => "/mqtt".to_string(),
        path => path.to_string(),
    }
}

/// The URL with its password (if any) shown as `***`.
pub fn redact_url(text: &str) -> String {
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
