//! A WebSocket-to-TCP gateway (tungstenite) in front of a real mosquitto, the way an ingress
//! fronts a broker (Debian's mosquitto has no WebSocket listener). It records the HTTP path of
//! each upgrade request.

use std::sync::{Arc, Mutex};

use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::handshake::server::{Request, Response};
use async_tungstenite::tungstenite::http::HeaderValue;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub struct Gateway {
    pub port: u16,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Gateway {
    /// Listens on a free loopback port, with TLS when `tls` is given, and forwards to `upstream`.
    pub fn start(upstream: u16, tls: Option<Arc<rustls::ServerConfig>>) -> Gateway {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let recorded = paths.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                while let Ok((tcp, _)) = listener.accept().await {
                    let (paths, tls) = (recorded.clone(), tls.clone());
                    tokio::spawn(async move {
                        match tls {
                            Some(config) => {
                                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                                if let Ok(stream) = acceptor.accept(tcp).await {
                                    relay(stream, upstream, paths).await;
                                }
                            }
                            None => relay(tcp, upstream, paths).await,
                        }
                    });
                }
            });
        });
        Gateway { port, paths }
    }

    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().expect("paths").clone()
    }
}

/// Completes the WebSocket upgrade (answering the `mqtt` subprotocol) and relays both ways.
// The callback's error type is tungstenite's; the write in the match reads better unguarded.
#[allow(clippy::result_large_err, clippy::collapsible_match)]
async fn relay<S>(stream: S, upstream: u16, paths: Arc<Mutex<Vec<String>>>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let callback = |request: &Request, mut response: Response| {
        paths
            .lock()
            .expect("paths")
            .push(request.uri().path().to_string());
        response
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        Ok(response)
    };
    let Ok(websocket) = async_tungstenite::tokio::accept_hdr_async(stream, callback).await else {
        return;
    };
    let Ok(broker) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut from_broker, mut to_broker) = broker.into_split();
    let (mut to_client, mut from_client) = websocket.split();
    let upstream = async {
        while let Some(Ok(message)) = from_client.next().await {
            match message {
                Message::Binary(data) => {
                    if to_broker.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = to_broker.shutdown().await;
    };
    let downstream = async {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(read @ 1..) = from_broker.read(&mut buffer).await {
            let data = buffer[..read].to_vec();
            if to_client.send(Message::binary(data)).await.is_err() {
                break;
            }
        }
        let _ = to_client.close().await;
    };
    tokio::join!(upstream, downstream);
}
