//! `--metrics-listen`: the run's figures at `/metrics` for Prometheus while it runs (and the
//! final ones once it ended); `--push-gateway`: the final figures pushed to a Pushgateway, for
//! a run that ends before a scrape. HTTP/1.1 parsed by httparse, a request at a time per
//! connection, bounded in size and time.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::tally::Tally;
use crate::error::{ErrorKind, failure};
use crate::measure::openmetrics::{Format, render};
use crate::measure::report::Report;
use crate::settings::bench::BenchRun;

/// The largest request head read (a scrape's is a few hundred bytes).
const MAX_HEAD: usize = 8 << 10;
/// A client gets this long to send its request, and the Pushgateway to answer.
const HTTP_WAIT: Duration = Duration::from_secs(10);

/// What the endpoint serves: the tally so far, or the final report.
struct Source {
    tally: Arc<Tally>,
    kind: &'static str,
    requested: u64,
    labels: Vec<(&'static str, String)>,
    last: Mutex<Option<Report>>,
}

impl Source {
    fn text(&self, format: Format) -> String {
        let report = match &*self.last.lock().expect("report lock") {
            Some(report) => report.clone(),
            None => self.tally.report(self.kind, String::new(), self.requested),
        };
        let labels: Vec<(&str, &str)> = self
            .labels
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        render(&report, &labels, format)
    }
}

/// The labels of a run's samples: its shard (0 when not sharded), its id, and the bench kind.
fn labels(run: &BenchRun, kind: &str) -> Vec<(&'static str, String)> {
    vec![
        ("shard", run.shard.map_or(0, |(index, _)| index).to_string()),
        ("run", run.run_id.clone()),
        ("bench", kind.to_string()),
    ]
}

/// The metrics of a run: served while it runs, pushed at its end.
pub(crate) struct Metrics {
    source: Arc<Source>,
    server: Option<tokio::task::JoinHandle<()>>,
    push_gateway: Option<url::Url>,
}

impl Metrics {
    /// Listens on `--metrics-listen` (refusing in words an address it cannot take).
    pub async fn start(
        run: &BenchRun,
        tally: Arc<Tally>,
        kind: &'static str,
        requested: u64,
    ) -> Result<Metrics> {
        let source = Arc::new(Source {
            tally,
            kind,
            requested,
            labels: labels(run, kind),
            last: Mutex::new(None),
        });
        let server = match run.metrics_listen {
            Some(address) => Some(serve(address, source.clone()).await?),
            None => None,
        };
        Ok(Metrics {
            source,
            server,
            push_gateway: run.push_gateway.clone(),
        })
    }

    /// The run's end: `/metrics` serves the final figures from now on, and they are pushed
    /// to `--push-gateway`.
    pub async fn end(&self, report: &Report) -> Result<()> {
        *self.source.last.lock().expect("report lock") = Some(report.clone());
        match &self.push_gateway {
            Some(url) => push(url, &self.source).await,
            None => Ok(()),
        }
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn serve(address: SocketAddr, source: Arc<Source>) -> Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(address).await.map_err(|err| {
        failure(
            ErrorKind::Usage,
            format!("--metrics-listen {address}: cannot listen there: {err}"),
        )
    })?;
    // Port 0 takes a free one: said with the port taken.
    let address = listener.local_addr().unwrap_or(address);
    tracing::info!("metrics at http://{address}/metrics");
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let source = source.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(HTTP_WAIT, answer(stream, &source)).await;
            });
        }
    }))
}

/// One request: `GET /metrics` (or `HEAD`) gets the figures, anything else a 404 or 405.
async fn answer(mut stream: TcpStream, source: &Source) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream).await? else {
        return reply(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
        )
        .await;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(&head), Ok(httparse::Status::Complete(_))) {
        return reply(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
        )
        .await;
    }
    let path = request.path.unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    if path != "/metrics" {
        return reply(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"see /metrics\n",
        )
        .await;
    }
    let method = request.method.unwrap_or("");
    if method != "GET" && method != "HEAD" {
        return reply(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        )
        .await;
    }
    let accept = request
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("accept"))
        .map(|header| String::from_utf8_lossy(header.value).into_owned())
        .unwrap_or_default();
    let format = Format::accepted(&accept);
    let body = source.text(format);
    let body = if method == "HEAD" { "" } else { body.as_str() };
    reply(
        &mut stream,
        "200 OK",
        format.content_type(),
        body.as_bytes(),
    )
    .await
}

/// The request's head (to the blank line), or `None` when it is larger than `MAX_HEAD` or
/// the connection closes first.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&chunk[..read]);
        if head.windows(4).any(|window| window == b"\r\n\r\n") {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

async fn reply(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

/// PUT of the final figures (text format) to `{url}/metrics/job/mqtt_bench/run/ID/shard/K`:
/// a push replaces that group, so a shard pushed twice is not counted twice.
async fn push(url: &url::Url, source: &Source) -> Result<()> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut path = url.path().trim_end_matches('/').to_string();
    path.push_str("/metrics/job/mqtt_bench");
    for (name, value) in &source.labels[..2] {
        path.push_str(&format!(
            "/{name}/{}",
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
        ));
    }
    let body = source.text(Format::Text);
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        Format::Text.content_type(),
        body.len()
    );
    let exchange = async {
        let mut stream = TcpStream::connect((host, port)).await.map_err(|err| {
            failure(
                ErrorKind::Connect,
                format!("--push-gateway: cannot connect to {host}:{port}: {err}"),
            )
        })?;
        // A server that answers early (a 404) may close before taking the whole body: its
        // answer is read all the same.
        let written = stream.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        let read = (&mut stream).take(64 << 10).read_to_end(&mut answer).await;
        if answer.is_empty() {
            let err = written.err().or(read.err()).map_or_else(
                || "the connection closed without an answer".to_string(),
                |err| err.to_string(),
            );
            return Err(failure(
                ErrorKind::Lost,
                format!("--push-gateway: {host}:{port}: {err}"),
            ));
        }
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(HTTP_WAIT, exchange)
        .await
        .map_err(|_| {
            failure(
                ErrorKind::Timeout,
                format!("--push-gateway: no answer from {host}:{port} within 10s"),
            )
        })??;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let code = match response.parse(&answer) {
        Ok(_) => response.code.unwrap_or(0),
        Err(_) => 0,
    };
    if (200..300).contains(&code) {
        tracing::info!("pushed the final figures to {url}");
        return Ok(());
    }
    let said = String::from_utf8_lossy(&answer);
    let said = said.split("\r\n\r\n").nth(1).unwrap_or("").trim();
    Err(failure(
        ErrorKind::Rejected,
        format!(
            "--push-gateway: {host}:{port} answered {code}{}{}",
            if said.is_empty() { "" } else { ": " },
            said.chars().take(200).collect::<String>()
        ),
    ))
}
