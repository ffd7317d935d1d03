//! Through a proxy to the broker: the SOCKS5 handshake (RFC 1928, user name and password by
//! RFC 1929) and HTTP CONNECT (RFC 9110 §9.3.6, Basic authentication), over any byte stream.
//! Every failure is a `Unreachable` in words, naming the proxy (never its password) and what
//! it answered.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::types::Proxy;

/// The broker could not be reached, in words (the proxy's, the Unix socket's, the source
/// address's): the message is the whole story, and connecting exits 3.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

impl From<Unreachable> for std::io::Error {
    fn from(err: Unreachable) -> std::io::Error {
        std::io::Error::other(err)
    }
}

/// Where the proxy is to connect: the broker's name (socks5h, HTTP) or its address (socks5).
#[derive(Debug, Clone)]
pub enum Target {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Name(name) if name.contains(':') => write!(f, "[{name}]"),
            Target::Name(name) => f.write_str(name),
            Target::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Target::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn credentials(proxy: &Proxy) -> Option<(&str, &str)> {
    let user = proxy.username.as_deref()?;
    Some((user, proxy.password.as_ref().map_or("", |p| p.expose())))
}

/// Up to 24 bytes of what a server sent, printable, for an error message.
fn shown(bytes: &[u8]) -> String {
    let text: String = bytes
        .iter()
        .take(24)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    let text = text.trim_end_matches("\\r\\n").to_string();
    if bytes.len() > 24 {
        format!("{text}...")
    } else {
        text
    }
}

/// Reads exactly `buf.len()` bytes, or says the proxy hung up `when`.
async fn read_exact<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    proxy: &Proxy,
    when: &str,
) -> Result<(), Unreachable> {
    stream.read_exact(buf).await.map(|_| ()).map_err(|err| {
        Unreachable(match err.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                format!("the proxy {proxy} closed the connection {when}")
            }
            _ => format!("the proxy {proxy} failed {when}: {err}"),
        })
    })
}

async fn write_all<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    proxy: &Proxy,
) -> Result<(), Unreachable> {
    stream
        .write_all(bytes)
        .await
        .map_err(|err| Unreachable(format!("the proxy {proxy} closed the connection: {err}")))
}

/// SOCKS5 reply codes (RFC 1928 §6) in words.
fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply",
    }
}

/// The SOCKS5 handshake: asks `proxy` (already connected on `stream`) to connect to
/// `target:port`.
pub async fn socks5<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    target: &Target,
    port: u16,
) -> Result<(), Unreachable> {
    let credentials = credentials(proxy);
    // Methods: 0 (none), and 2 (user name and password) when we have them.
    let greeting: &[u8] = if credentials.is_some() {
        &[5, 2, 0, 2]
    } else {
        &[5, 1, 0]
    };
    write_all(stream, greeting, proxy).await?;
    let mut choice = [0u8; 2];
    if let Err(err) = read_exact(stream, &mut choice, proxy, "at the SOCKS5 greeting").await {
        return Err(Unreachable(format!("{err}: is it a SOCKS5 proxy?")));
    }
    if choice[0] != 5 {
        let mut rest = [0u8; 22];
        let more = stream.read(&mut rest).await.unwrap_or(0);
        let answer = [&choice[..], &rest[..more]].concat();
        let like = if answer.starts_with(b"HT") {
            " (it answered like an HTTP server: use http:// for an HTTP proxy)"
        } else {
            ""
        };
        return Err(Unreachable(format!(
            "{proxy} is not a SOCKS5 proxy: it answered '{}'{like}",
            shown(&answer)
        )));
    }
    authenticate(stream, proxy, choice[1], credentials).await?;
    let request = connect_request(target, port)?;
    write_all(stream, &request, proxy).await?;
    let mut reply = [0u8; 4];
    read_exact(stream, &mut reply, proxy, "before connecting to the broker").await?;
    if reply[1] != 0 {
        return Err(Unreachable(format!(
            "the SOCKS5 proxy {proxy} could not connect to {target}:{port}: {} (SOCKS reply {})",
            socks_reply(reply[1]),
            reply[1]
        )));
    }
    // The address the proxy bound, which we do not need.
    let length = match reply[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut length = [0u8; 1];
            read_exact(stream, &mut length, proxy, "in its reply").await?;
            usize::from(length[0])
        }
        other => {
            return Err(Unreachable(format!(
                "the SOCKS5 proxy {proxy} answered with an unknown address type {other}"
            )));
        }
    };
    let mut bound = vec![0u8; length + 2];
    read_exact(stream, &mut bound, proxy, "in its reply").await?;
    Ok(())
}

/// The SOCKS5 authentication the proxy chose (`method`): none, or the user name and password.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    method: u8,
    credentials: Option<(&str, &str)>,
) -> Result<(), Unreachable> {
    match (method, credentials) {
        (0, _) => {}
        (2, Some((user, password))) => {
            if user.len() > 255 || password.len() > 255 {
                return Err(Unreachable(format!(
                    "the SOCKS5 proxy {proxy}: its user name and password are limited to 255 bytes each"
                )));
            }
            let mut request = vec![1, user.len() as u8];
            request.extend_from_slice(user.as_bytes());
            request.push(password.len() as u8);
            request.extend_from_slice(password.as_bytes());
            write_all(stream, &request, proxy).await?;
            let mut status = [0u8; 2];
            read_exact(stream, &mut status, proxy, "at authentication").await?;
            if status[1] != 0 {
                return Err(Unreachable(format!(
                    "proxy authentication failed: the SOCKS5 proxy {proxy} refused user '{user}' and its password"
                )));
            }
        }
        (0xff, Some(_)) => {
            return Err(Unreachable(format!(
                "the SOCKS5 proxy {proxy} accepts neither no authentication nor a user name and password"
            )));
        }
        (0xff, None) => {
            return Err(Unreachable(format!(
                "proxy authentication failed: the SOCKS5 proxy {proxy} wants a user name and password (socks5://USER@HOST:PORT, the password in the URL or MQTT_PROXY_PASSWORD)"
            )));
        }
        (method, _) => {
            return Err(Unreachable(format!(
                "the SOCKS5 proxy {proxy} chose authentication method {method}, which we did not offer"
            )));
        }
    }
    Ok(())
}

/// SOCKS5's CONNECT request for `target:port`.
fn connect_request(target: &Target, port: u16) -> Result<Vec<u8>, Unreachable> {
    let mut request = vec![5, 1, 0];
    match target {
        Target::Ip(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Target::Ip(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Target::Name(name) => {
            if name.len() > 255 {
                return Err(Unreachable(format!(
                    "the host name is too long for a SOCKS5 proxy (over 255 bytes): {name}"
                )));
            }
            request.push(3);
            request.push(name.len() as u8);
            request.extend_from_slice(name.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    Ok(request)
}

/// The longest answer to CONNECT we read.
const MAX_HEADER: usize = 16 * 1024;

/// HTTP CONNECT: asks `proxy` (already connected on `stream`) for a tunnel to `host:port`.
pub async fn http_connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    target: &Target,
    port: u16,
) -> Result<(), Unreachable> {
    let authority = format!("{target}:{port}");
    let mut request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: mqtt-cli/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some((user, password)) = credentials(proxy) {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    write_all(stream, request.as_bytes(), proxy).await?;

    let header = read_header(stream, proxy).await?;
    let text = String::from_utf8_lossy(&header);
    let status_line = text.lines().next().unwrap_or("").trim();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().and_then(|code| code.parse::<u16>().ok());
    let (Some(code), true) = (code, version.starts_with("HTTP/")) else {
        return Err(Unreachable(format!(
            "{proxy} is not an HTTP proxy: it answered '{}'",
            shown(&header)
        )));
    };
    let status = status_line[version.len()..].trim();
    match code {
        200..=299 => Ok(()),
        401 | 407 => Err(Unreachable(match credentials(proxy) {
            Some((user, _)) => format!(
                "proxy authentication failed: the proxy {proxy} refused user '{user}' and its password ({status})"
            ),
            None => format!(
                "proxy authentication failed: the proxy {proxy} wants a user name and password ({status}): give http://USER@HOST:PORT, the password in the URL or MQTT_PROXY_PASSWORD"
            ),
        })),
        403 => Err(Unreachable(format!(
            "the proxy {proxy} refused to connect to {authority} ({status})"
        ))),
        500..=599 => Err(Unreachable(format!(
            "the proxy {proxy} could not reach {authority} ({status})"
        ))),
        _ => Err(Unreachable(format!(
            "the proxy {proxy} answered CONNECT {authority} with '{status}'"
        ))),
    }
}

/// The proxy's answer to CONNECT, up to the blank line and no further.
async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
) -> Result<Vec<u8>, Unreachable> {
    // One byte at a time: what follows the header belongs to the tunnel.
    let mut header = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !header.ends_with(b"\r\n\r\n") && !header.ends_with(b"\n\n") {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) if header.is_empty() => {
                return Err(Unreachable(format!(
                    "the proxy {proxy} closed the connection without answering CONNECT: is it an HTTP proxy?"
                )));
            }
            Ok(0) => break,
            Ok(_) => header.push(byte[0]),
            Err(err) => {
                return Err(Unreachable(format!(
                    "the proxy {proxy} failed answering CONNECT: {err}"
                )));
            }
        }
        if header.len() == 5 && !header.starts_with(b"HTTP/") {
            let mut rest = [0u8; 19];
            let more = stream.read(&mut rest).await.unwrap_or(0);
            header.extend_from_slice(&rest[..more]);
            return Err(Unreachable(format!(
                "{proxy} is not an HTTP proxy: it answered '{}'",
                shown(&header)
            )));
        }
        if header.len() > MAX_HEADER {
            return Err(Unreachable(format!(
                "the proxy {proxy} answered CONNECT with a header over {} KiB",
                MAX_HEADER / 1024
            )));
        }
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ProxyScheme, Secret};

    fn proxy(scheme: ProxyScheme, user: Option<(&str, &str)>) -> Proxy {
        Proxy {
            scheme,
            host: "127.0.0.1".into(),
            port: 1080,
            username: user.map(|(user, _)| user.to_string()),
            password: user.map(|(_, password)| Secret::new(password)),
        }
    }

    /// Runs `handshake` against a scripted server that answers `answer` and records what
    /// it was sent.
    async fn against<F, Fut>(
        answer: &'static [u8],
        handshake: F,
    ) -> (Result<(), Unreachable>, Vec<u8>)
    where
        F: FnOnce(tokio::io::DuplexStream) -> Fut,
        Fut: std::future::Future<Output = Result<(), Unreachable>>,
    {
        let (client, mut server) = tokio::io::duplex(4096);
        let serve = tokio::spawn(async move {
            server.write_all(answer).await.expect("test setup");
            server.shutdown().await.expect("test setup");
            let mut sent = Vec::new();
            let _ = server.read_to_end(&mut sent).await;
            sent
        });
        let result = handshake(client).await;
        (result, serve.await.expect("test setup"))
    }

    /// Each answer of `cases` fails the handshake `p` calls for with an error that says `expected`.
    async fn each_failure_named(p: &Proxy, target: &Target, cases: &[(&'static [u8], &str)]) {
        for (answer, expected) in cases {
            let (p, target) = (p.clone(), target.clone());
            let (result, _) = against(answer, |mut s| async move {
                match p.scheme {
                    ProxyScheme::Http | ProxyScheme::Https => {
                        http_connect(&mut s, &p, &target, 1883).await
                    }
                    _ => socks5(&mut s, &p, &target, 1883).await,
                }
            })
            .await;
            let message = result.expect_err("an error").0;
            assert!(message.contains(expected), "{message}");
        }
    }

    #[tokio::test]
    async fn socks5_sends_the_name_and_the_credentials() {
        let p = proxy(ProxyScheme::Socks5h, Some(("alice", "secret")));
        let answer: &[u8] = &[5, 2, 1, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x07, 0x5b];
        let (result, sent) = against(answer, |mut s| async move {
            socks5(&mut s, &p, &Target::Name("broker".into()), 1883).await
        })
        .await;
        result.expect("test setup");
        let mut expected = vec![5, 2, 0, 2, 1, 5];
        expected.extend_from_slice(b"alice");
        expected.push(6);
        expected.extend_from_slice(b"secret");
        expected.extend_from_slice(&[5, 1, 0, 3, 6]);
        expected.extend_from_slice(b"broker");
        expected.extend_from_slice(&1883u16.to_be_bytes());
        assert_eq!(sent, expected);
    }

    #[tokio::test]
    async fn socks5_failures_are_named() {
        let p = proxy(ProxyScheme::Socks5, None);
        let target = Target::Ip("127.0.0.1".parse().expect("test setup"));
        let cases: [(&'static [u8], &str); 5] = [
            (
                &[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
                "connection refused (SOCKS reply 5)",
            ),
            (&[5, 0xff], "wants a user name and password"),
            (
                b"HTTP/1.0 400 Bad Request\r\n",
                "is not a SOCKS5 proxy: it answered 'HTTP/1.0 400 Bad Reques",
            ),
            (
                b"",
                "closed the connection at the SOCKS5 greeting: is it a SOCKS5 proxy?",
            ),
            (
                &[5, 0, 5],
                "closed the connection before connecting to the broker",
            ),
        ];
        each_failure_named(&p, &target, &cases).await;
        let p = proxy(ProxyScheme::Socks5, Some(("alice", "wrong")));
        let (result, _) = against(&[5, 2, 1, 1], |mut s| async move {
            socks5(&mut s, &p, &target, 1883).await
        })
        .await;
        let message = result.expect_err("an error").0;
        assert!(message.contains("refused user 'alice'"), "{message}");
        assert!(!message.contains("wrong"), "{message}");
    }

    #[tokio::test]
    async fn http_connect_asks_for_the_tunnel_and_reads_only_the_header() {
        let p = proxy(ProxyScheme::Http, Some(("alice", "secret")));
        let (client, mut server) = tokio::io::duplex(4096);
        let serve = tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let n = server.read(&mut request).await.expect("test setup");
            server
                .write_all(b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nMQTT")
                .await
                .expect("test setup");
            String::from_utf8(request[..n].to_vec()).expect("test setup")
        });
        let mut client = client;
        http_connect(
            &mut client,
            &p,
            &Target::Ip("::1".parse().expect("test setup")),
            8883,
        )
        .await
        .expect("test setup");
        let request = serve.await.expect("test setup");
        assert!(request.starts_with("CONNECT [::1]:8883 HTTP/1.1\r\nHost: [::1]:8883\r\n"));
        assert!(request.contains("Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"));
        let mut rest = [0u8; 4];
        client.read_exact(&mut rest).await.expect("test setup");
        assert_eq!(&rest, b"MQTT");
    }

    #[tokio::test]
    async fn http_connect_failures_are_named() {
        let p = proxy(ProxyScheme::Http, None);
        let target = Target::Name("broker".into());
        let cases: [(&'static [u8], &str); 6] = [
            (
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
                "wants a user name and password (407 Proxy Authentication Required)",
            ),
            (
                b"HTTP/1.0 401 Unauthorized\r\n\r\n",
                "proxy authentication failed",
            ),
            (
                b"HTTP/1.1 403 Forbidden\r\n\r\n",
                "refused to connect to broker:1883 (403 Forbidden)",
            ),
            (
                b"HTTP/1.1 502 Bad Gateway\r\n\r\n",
                "could not reach broker:1883 (502 Bad Gateway)",
            ),
            (
                b" \x02\x00\x05",
                "is not an HTTP proxy: it answered ' \\x02\\x00\\x05'",
            ),
            (b"", "without answering CONNECT: is it an HTTP proxy?"),
        ];
        each_failure_named(&p, &target, &cases).await;
    }
}
