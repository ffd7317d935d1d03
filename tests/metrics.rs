//! `bench --metrics-listen` and `--push-gateway` with the real servers of Debian's packages:
//! Prometheus scrapes running shards (asking for OpenMetrics first) and answers a p99 across
//! them, `promtool check metrics` passes on the text format, the Pushgateway keeps each
//! shard's final figures.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// `GET path` over HTTP/1.0 (so no chunked answer): the status and the body.
fn http_get(port: u16, path: &str, accept: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: {accept}\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// A server of a Debian package on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(program: &str, args: impl Fn(&Path, u16) -> Vec<String>, ready: &str) -> Server {
        assert!(
            Command::new(program).arg("--version").output().is_ok(),
            "{program} is missing: install Debian's package (.ci/run does)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(program)
                .args(args(dir.path(), port))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("log")).expect("log"))
                .spawn()
                .expect("spawn");
            if listens(&mut child, port, Duration::from_secs(30)) {
                let server = Server {
                    child,
                    port,
                    _dir: dir,
                };
                server.wait_until(|| http_get(port, ready, "*/*").0 == 200, ready);
                return server;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{program} did not start");
    }

    fn prometheus(targets: &[String]) -> Server {
        let targets = targets
            .iter()
            .map(|target| format!("'{target}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let config = format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bench\n    \
             static_configs:\n      - targets: [{targets}]\n"
        );
        Server::start(
            "prometheus",
            |dir, port| {
                let file = dir.join("prometheus.yml");
                std::fs::write(&file, &config).expect("config");
                vec![
                    format!("--config.file={}", file.display()),
                    format!("--storage.tsdb.path={}", dir.join("data").display()),
                    format!("--web.listen-address=127.0.0.1:{port}"),
                ]
            },
            "/-/ready",
        )
    }

    /// Waits (at most a minute) until `done` holds.
    fn wait_until(&self, mut done: impl FnMut() -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within a minute");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PromQL query's first value, if it has one.
    fn query(&self, promql: &str) -> Option<f64> {
        let query: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let (status, body) = http_get(self.port, &format!("/api/v1/query?query={query}"), "*/*");
        assert_eq!(status, 200, "{promql}: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        answer["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|value| value.parse().ok())
            .filter(|value: &f64| value.is_finite())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bench shard serving its metrics on a free port: the process, and the port.
fn shard(broker: &Broker, shard: &str, run_id: &str) -> (Background, u16) {
    let args = bench_args(
        broker,
        &[
            "pub",
            "-c",
            "2",
            "--rate",
            "50",
            "--duration",
            "5m",
            "--shard",
            shard,
            "--run-id",
            run_id,
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let mut bench = Background::start(&args);
    bench.wait_for_stderr("metrics at http://127.0.0.1:");
    let port = bench
        .stderr_line("metrics at http://127.0.0.1:")
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .expect("the metrics port");
    (bench, port)
}

#[test]
fn prometheus_scrapes_two_shards_and_answers_a_p99_across_them() {
    let broker = Broker::start();
    let (first, first_port) = shard(&broker, "0/2", "scraped");
    let (second, second_port) = shard(&broker, "1/2", "scraped");
    let prometheus = Server::prometheus(&[
        format!("127.0.0.1:{first_port}"),
        format!("127.0.0.1:{second_port}"),
    ]);
    let received = r#"mqtt_bench_messages_received_total{run="scraped"}"#;
    prometheus.wait_until(
        || prometheus.query(&format!("count({received} > 0)")) == Some(2.0),
        "both shards' mqtt_bench_messages_received_total above 0",
    );
    // The docs' query: the p99 of all shards' end-to-end latency, from their buckets summed.
    let p99 = r#"histogram_quantile(0.99, sum by (le) (rate(mqtt_bench_latency_seconds_bucket{kind="end_to_end"}[1m])))"#;
    prometheus.wait_until(
        || prometheus.query(p99).is_some_and(|seconds| seconds > 0.0),
        "a p99 across the shards",
    );
    assert!(
        prometheus.query(p99).is_some_and(|seconds| seconds < 10.0),
        "p99 {:?}",
        prometheus.query(p99)
    );
    for bench in [first, second] {
        bench.signal("INT");
        let out = bench.finish();
        assert!(stdout(&out).contains("received"), "{}", stderr(&out));
    }
}

/// What a running bench serves passes `promtool check metrics`, and anything but
/// `GET /metrics` is answered with an error status.
#[test]
fn promtool_checks_the_metrics_and_other_requests_get_errors() {
    let broker = Broker::start();
    let (bench, port) = shard(&broker, "0/1", "linted");
    // promtool reads the text format; the OpenMetrics one (which Prometheus asks for first) is
    // read by the scrapes of the test above.
    for accept in ["text/plain;version=0.0.4", "*/*"] {
        let (status, body) = http_get(port, "/metrics", accept);
        assert_eq!(status, 200);
        assert!(body.contains("mqtt_bench_messages_sent_total{"), "{body}");
        let mut promtool = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool (Debian's prometheus package)");
        promtool
            .stdin
            .take()
            .expect("stdin")
            .write_all(body.as_bytes())
            .expect("write");
        let lint = promtool.wait_with_output().expect("promtool");
        assert!(
            lint.status.success() && lint.stdout.is_empty() && lint.stderr.is_empty(),
            "{accept}: {}{}",
            String::from_utf8_lossy(&lint.stdout),
            String::from_utf8_lossy(&lint.stderr)
        );
    }
    assert_eq!(http_get(port, "/", "*/*").0, 404);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(b"\x16\x03\x01 not HTTP\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    bench.signal("INT");
    bench.finish();
}

/// Each shard pushes its final figures to its own group: both are there, each with what its
/// report says; a Pushgateway that refuses (a wrong path) fails the run with exit 6.
#[test]
fn the_pushgateway_keeps_each_shards_final_figures() {
    let broker = Broker::start();
    let gateway = Server::start(
        "prometheus-pushgateway",
        |_, port| vec![format!("--web.listen-address=127.0.0.1:{port}")],
        "/-/ready",
    );
    let url = format!("http://127.0.0.1:{}", gateway.port);
    for index in 0..2 {
        let out = run_args(
            &bench_args(
                &broker,
                &[
                    "pub",
                    "-c",
                    "2",
                    "--count",
                    "30",
                    "--rate",
                    "max",
                    "--shard",
                    &format!("{index}/2"),
                    "--run-id",
                    "pushed",
                    "--push-gateway",
                    &url,
                ],
            ),
            b"",
        );
        assert_code(&out, 0);
        assert!(
            stdout(&out).contains("received 60 of 60 expected"),
            "{}",
            stdout(&out)
        );
    }
    let (_, body) = http_get(gateway.port, "/metrics", "text/plain");
    for index in 0..2 {
        let line = format!(
            "mqtt_bench_messages_received_total{{bench=\"pub\",instance=\"\",job=\"mqtt_bench\",run=\"pushed\",shard=\"{index}\"}} 60"
        );
        assert!(body.contains(&line), "{line} not in\n{body}");
    }
    let out = run_args(
        &bench_args(
            &broker,
            &[
                "pub",
                "--count",
                "1",
                "--push-gateway",
                &format!("{url}/not/here"),
            ],
        ),
        b"",
    );
    assert_code(&out, 6);
    assert!(stderr(&out).contains("answered 404"), "{}", stderr(&out));
}
