//! Every byte stream under TLS, WebSockets and MQTT is opened here (rumqttc patch 19 calls
//! it for every connection, reconnections included): straight to the broker, through a
//! proxy, from a source address (`-A`), or to a Unix socket. A TCP socket gets TCP_NODELAY
//! and the broker's data acknowledged at once (`quickack.rs`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rumqttc::AsyncReadWrite;
use tokio::net::{TcpSocket, TcpStream, lookup_host};

use super::quickack::QuickAck;
use crate::proxy_handshake::{Target, Unreachable, http_connect, socks5};
use crate::settings::{ConnectSettings, Route};
use crate::types::{Proxy, ProxyScheme, host_port};

/// What rumqttc needs to open each connection our way.
pub(super) fn connector(settings: &ConnectSettings) -> rumqttc::SocketConnector {
    let direct = settings.route.is_direct();
    let route = Arc::new(settings.route.clone());
    // A tenth before the session's own timeout, so that the proxy is named as the one that
    // did not answer.
    let timeout = settings.connect_timeout * 9 / 10;
    Arc::new(move |host: String, port: u16| -> ConnectFuture {
        let route = route.clone();
        if direct {
            // Its errors as the system gives them (`errors.rs` words them); rumqttc's own
            // timeout bounds it.
            return Box::pin(async move {
                let tcp = tcp_direct(&host, port).await?;
                Ok(Box::new(QuickAck::new(tcp)) as Box<dyn AsyncReadWrite>)
            });
        }
        Box::pin(async move {
            match tokio::time::timeout(timeout, open(&route, &host, port)).await {
                Ok(opened) => opened.map_err(io::Error::from),
                Err(_) => Err(Unreachable(match &route.proxy {
                    Some(proxy) => format!(
                        "the proxy {proxy} did not open a way to {} in time (--connect-timeout): is it a {} proxy?",
                        host_port(&host, port),
                        match proxy.scheme {
                            ProxyScheme::Socks5 | ProxyScheme::Socks5h => "SOCKS5",
                            ProxyScheme::Http | ProxyScheme::Https => "HTTP",
                        }
                    ),
                    None => format!(
                        "timed out connecting to {}",
                        host_port(&host, port)
                    ),
                })
                .into()),
            }
        })
    })
}

/// TCP straight to the broker: each address of `host` in turn, as rumqttc would.
async fn tcp_direct(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = None;
    for address in lookup_host((host, port)).await? {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }?;
        socket.set_nodelay(true)?;
        match socket.connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// A connection to the broker's host and port the way the session makes it, for a look of
/// our own (`check`'s TLS inspection).
pub(super) async fn open_stream(settings: &ConnectSettings) -> io::Result<Box<dyn AsyncReadWrite>> {
    Ok(open(&settings.route, &settings.host, settings.port).await?)
}

use rumqttc::ConnectFuture;

async fn open(
    route: &Route,
    host: &str,
    port: u16,
) -> Result<Box<dyn AsyncReadWrite>, Unreachable> {
    #[cfg(unix)]
    if let Some(path) = &route.unix {
        let stream = tokio::net::UnixStream::connect(path).await.map_err(|err| {
            let path = path.display();
            Unreachable(match err.kind() {
                io::ErrorKind::NotFound => format!("no Unix socket at {path}"),
                io::ErrorKind::ConnectionRefused => {
                    format!("nothing listens on the Unix socket {path} (is the broker running?)")
                }
                io::ErrorKind::PermissionDenied => {
                    format!("no permission to connect to the Unix socket {path}")
                }
                _ => format!("cannot connect to the Unix socket {path}: {err}"),
            })
        })?;
        return Ok(Box::new(stream));
    }
    let Some(proxy) = &route.proxy else {
        let tcp = tcp_connect(
            host,
            port,
            route.bind_address,
            route.pick_source_port,
            String::new(),
        )
        .await?;
        return Ok(Box::new(QuickAck::new(tcp)));
    };
    let to_proxy = || {
        tcp_connect(
            &proxy.host,
            proxy.port,
            route.bind_address,
            route.pick_source_port,
            format!("the proxy {proxy}"),
        )
    };
    let target = match host.parse::<IpAddr>() {
        Ok(ip) => Target::Ip(ip),
        Err(_) => Target::Name(host.to_string()),
    };
    match proxy.scheme {
        // socks5: the name is resolved here, and the proxy is asked for each address in turn.
        ProxyScheme::Socks5 if matches!(target, Target::Name(_)) => {
            let mut last = None;
            for address in resolve(host, port).await? {
                let mut tcp = to_proxy().await?;
                match socks5(&mut tcp, proxy, &Target::Ip(address.ip()), port).await {
                    Ok(()) => return Ok(Box::new(QuickAck::new(tcp))),
                    Err(err) => last = Some(err),
                }
            }
            Err(last.unwrap_or_else(|| Unreachable(format!("cannot resolve host name '{host}'"))))
        }
        ProxyScheme::Socks5 | ProxyScheme::Socks5h => {
            let mut tcp = to_proxy().await?;
            socks5(&mut tcp, proxy, &target, port).await?;
            Ok(Box::new(QuickAck::new(tcp)))
        }
        ProxyScheme::Http => {
            let mut tcp = to_proxy().await?;
            http_connect(&mut tcp, proxy, &target, port).await?;
            Ok(Box::new(QuickAck::new(tcp)))
        }
        ProxyScheme::Https => {
            let mut tls = proxy_tls(route, proxy, to_proxy().await?).await?;
            http_connect(&mut tls, proxy, &target, port).await?;
            Ok(Box::new(tls))
        }
    }
}

/// TLS to an https:// proxy, verified against the proxy's name.
async fn proxy_tls(
    route: &Route,
    proxy: &Proxy,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Unreachable> {
    let Some(setup) = &route.proxy_tls else {
        return Err(Unreachable(format!(
            "no TLS configuration for the proxy {proxy}"
        )));
    };
    let name = rustls::pki_types::ServerName::try_from(proxy.host.clone()).map_err(|_| {
        Unreachable(format!(
            "the proxy's host '{}' is not a valid TLS name",
            proxy.host
        ))
    })?;
    tokio_rustls::TlsConnector::from(setup.config.clone())
        .connect(name, tcp)
        .await
        .map_err(|err| {
            let why = match err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>())
            {
                // The advice names the proxy's own trust flags.
                Some(rustls_error) => {
                    crate::tls::explain(rustls_error, &setup.options, &proxy.host)
                        .replace("--cafile", "--proxy-cacert")
                        .replace("--insecure", "--proxy-insecure")
                        .replace("the broker's", "the proxy's")
                }
                None => err.to_string(),
            };
            Unreachable(format!("TLS to the proxy {proxy} failed: {why}"))
        })
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Unreachable> {
    let addresses: Vec<SocketAddr> = lookup_host((host, port))
        .await
        .map_err(|_| Unreachable(format!("cannot resolve host name '{host}'")))?
        .collect();
    if addresses.is_empty() {
        return Err(Unreachable(format!("cannot resolve host name '{host}'")));
    }
    Ok(addresses)
}

/// TCP to `host:port` (each address in turn), from `bind` if given, from a port of our
/// choosing if `pick_port`. `what` names a proxy in errors; empty for the broker.
async fn tcp_connect(
    host: &str,
    port: u16,
    bind: Option<IpAddr>,
    pick_port: bool,
    what: String,
) -> Result<TcpStream, Unreachable> {
    let mut addresses = match resolve(host, port).await {
        Err(_) if !what.is_empty() => {
            return Err(Unreachable(format!(
                "{what}: cannot resolve its host name '{host}'"
            )));
        }
        resolved => resolved?,
    };
    let place = if what.is_empty() {
        host_port(host, port)
    } else {
        what.clone()
    };
    if let Some(bind) = bind {
        addresses.retain(|address| address.is_ipv4() == bind.is_ipv4());
        if addresses.is_empty() {
            let family = if bind.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(Unreachable(format!(
                "-A {bind} is an {family} address, and {host} has no {family} address"
            )));
        }
    }
    let mut last = None;
    for address in addresses {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|err| Unreachable(format!("cannot open a socket: {err}")))?;
        let picked = pick_port && super::source_port::bind(&socket, bind, address.is_ipv4());
        if let (Some(bind), false) = (bind, picked) {
            socket.bind(SocketAddr::new(bind, 0)).map_err(|err| {
                Unreachable(match err.kind() {
                    io::ErrorKind::AddrNotAvailable => {
                        format!("cannot connect from -A {bind}: no interface of this machine has that address")
                    }
                    _ => format!("cannot connect from -A {bind}: {err}"),
                })
            })?;
        }
        let _ = socket.set_nodelay(true);
        match socket.connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = Some(err),
        }
    }
    let err = last.unwrap_or_else(|| io::Error::other("no address"));
    Err(Unreachable(match (err.kind(), what.is_empty()) {
        (io::ErrorKind::ConnectionRefused, true) => {
            format!("connection refused: is a broker listening on {place}?")
        }
        (io::ErrorKind::ConnectionRefused, false) => {
            format!("{place} refused the connection: is the proxy running?")
        }
        (io::ErrorKind::TimedOut, _) => format!("timed out connecting to {place}"),
        _ => format!("cannot connect to {place}: {err}"),
    }))
}
