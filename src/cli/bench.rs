//! `mqtt-cli bench`: load tests of a broker.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::connection::{ConnectArgs, parse_qos};
use crate::duration::parse_duration;
use crate::measure::condition::Condition;
use crate::types::Qos;

/// How the report explains itself, under `bench --help`.
pub const BENCH_HELP: &str = "\
Every run stops by itself (--duration, default 10s, or --count) and closes its connections;
Ctrl+C stops early and still prints the report, marked partial. On a terminal a live line
shows progress each second; in a pipe nothing until the report (or --interval-report lines on
stderr). --json prints the report as one JSON object; --report FILE also saves it with its HDR
histograms, and `mqtt-cli bench merge FILE...` adds the reports of several processes (a CI
matrix, a Kubernetes Job) with exact percentiles.

--fail-if 'p99 > 50ms' (repeatable) makes the run exit 8 naming each condition that held;
parse errors exit 2. Metrics: p50 p90 p99 p99.9 max mean (end to end, else ack, else connect;
or ack.p99, e2e.p99, connect.p99), loss (or loss%), duplicates, out_of_order, errors, failed,
reconnects, connected, rate (received/s; connections/s for conn), sent_rate.";

/// `--json`'s help: the report's schema, so that it is at hand without the README.
pub const BENCH_JSON_HELP: &str = "Print the report as one JSON object instead of the table, \
keys in alphabetical order: \"schema\" (1), \"kind\" (pub, conn, sub), \"qos\" (pub), \
\"description\", \"partial\" (stopped by Ctrl+C, or clients ended without finishing), \
\"processes\" (1, or how many were merged), \"runs\" (an id per process run: bench merge \
refuses one seen twice), \"duration_s\" \
(publishing after the warm-up; conn: opening every connection; sub: subscribed), \"delivery_s\" \
(pub: to the last arrival), \"connections\" {requested, connected, failed, reconnects, \
ended_early}, \
\"messages\" {sent, acknowledged (QoS 0: written), received, expected, lost, duplicated, \
out_of_order}, \
\"rate\" {sent_per_s, received_per_s, connections_per_s}, \"latency_ms\" {end_to_end, ack, \
connect: each {count, p50, p90, p99, p99.9, max, mean}}, \"errors\" {kind: count}, \
\"cause\" (when clients ended without finishing: {exit_code, reason} of the first), \
\"memory\" (conn: {rss_bytes, per_connection_bytes}), \"failed_conditions\" (the --fail-if \
conditions that held). A --report file adds \"histograms\" (HDR V2, base64).";

/// `mqtt-cli bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub action: BenchAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BenchAction {
    /// Publishing clients, and subscribers that receive what they publish: throughput, loss,
    /// duplicates, order, latency (publish to arrival, and to PUBACK/PUBCOMP).
    #[command(disable_help_flag = true, after_help = BENCH_HELP)]
    Pub(BenchPubArgs),
    /// Open -c connections at --connect-rate, hold them for --duration: connect latency,
    /// failures by reason, memory per connection.
    #[command(disable_help_flag = true, after_help = BENCH_HELP)]
    Conn(BenchConnArgs),
    /// Subscribers for load made by another tool: rate, latency, gaps and duplicates when the
    /// payloads carry bench pub's header.
    #[command(disable_help_flag = true, after_help = BENCH_HELP)]
    Sub(BenchSubArgs),
    /// Add the reports saved by --report into one: counts summed, histograms merged (exact
    /// percentiles), --fail-if applied to the sum.
    #[command(disable_help_flag = true, after_help = BENCH_HELP)]
    Merge(BenchMergeArgs),
}

/// What every bench run takes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Clients (connections) to run.
    #[arg(short = 'c', long = "clients", default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub clients: u32,

    /// Stop after this long [default: 10s, or when --count messages are done].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,

    /// Connect the clients spread evenly over this long (e.g. 10s).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "0s")]
    pub ramp_up: Duration,

    /// The first client's index: client ids and %i go from here (several processes: 0, N, 2N).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub client_offset: u32,

    /// Run shard K of N (0 to N-1): clients K*c to (K+1)*c-1 of N*c, as one of N processes
    /// (a Kubernetes Indexed Job, a CI matrix); auto/N takes K from JOB_COMPLETION_INDEX.
    /// Needs --run-id, the same for every shard; bench merge checks it has shards 0 to N-1.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "client_offset", requires = "run_id")]
    pub shard: Option<ShardArg>,

    /// This run's id (letters, digits, - and _; e.g. the Job's name), the same for all its
    /// shards: the %r of topics and the reports' run [default: random].
    #[arg(long, value_name = "ID", value_parser = parse_run_id)]
    pub run_id: Option<String>,

    /// Start at this moment (RFC 3339, e.g. 2026-11-29T18:00:00Z, or Unix seconds), to line
    /// several processes up.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,

    /// Also save the report with its HDR histograms to FILE (JSON), for `bench merge`.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Print the report as one JSON object instead of the table (the schema: --help).
    #[arg(long, long_help = BENCH_JSON_HELP)]
    pub json: bool,

    /// Exit 8 when CONDITION holds at the end, e.g. 'p99 > 50ms', 'loss > 0', 'rate < 10000'
    /// (repeatable; metrics: --help).
    #[arg(long = "fail-if", value_name = "CONDITION", value_parser = Condition::parse)]
    pub fail_if: Vec<Condition>,

    /// In a pipe, print a progress line on stderr this often (e.g. 5s).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub interval_report: Option<Duration>,

    /// Serve the run's figures for Prometheus at http://ADDR:PORT/metrics (OpenMetrics, or
    /// the text format): mqtt_bench_* counters, connections by state, errors by kind, latency
    /// histograms; labels shard, run, bench, kind.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// At the end, push the final figures to the Prometheus Pushgateway at URL
    /// (http://HOST:PORT), in the group job=mqtt_bench, run, shard.
    #[arg(long, value_name = "URL", value_parser = parse_push_gateway)]
    pub push_gateway: Option<url::Url>,
}

/// `--push-gateway`: an http:// URL with a host.
fn parse_push_gateway(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|err| format!("not a URL: {err}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "the push goes over plain HTTP: http://HOST:PORT, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// `mqtt-cli bench pub`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("no_clean", |arg| arg.short(None)))]
pub struct BenchPubArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Subscribers that receive everything published (loss, order and end-to-end latency need
    /// at least one).
    #[arg(long, default_value_t = 1, value_name = "M")]
    pub subscribers: u32,

    /// Messages per second per client, or max: as fast as flow control allows.
    #[arg(long, default_value = "1", value_name = "R", value_parser = parse_rate)]
    pub rate: Rate,

    /// QoS of the publishes and subscriptions.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: Qos,

    /// Payload size in bytes (at least 24: the header).
    #[arg(long, default_value_t = 64, value_name = "BYTES")]
    pub size: usize,

    /// Topic; %i is the client's index, %c its client id, %r this run's id (random: two runs
    /// on one broker do not see each other's messages).
    #[arg(short = 't', long, default_value = "mqtt-cli/bench/%r/%i")]
    pub topic: String,

    /// Messages per client, then stop (instead of --duration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Run this long first: sent and measured, not counted in the report.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "0s")]
    pub warmup: Duration,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `mqtt-cli bench conn`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("no_clean", |arg| arg.short(None)))]
pub struct BenchConnArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// New connections per second [default: as fast as they complete].
    #[arg(long, value_name = "R", value_parser = parse_positive_rate)]
    pub connect_rate: Option<f64>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `mqtt-cli bench sub`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("no_clean", |arg| arg.short(None)))]
pub struct BenchSubArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Topic filter each subscriber subscribes to.
    #[arg(short = 't', long, required = true)]
    pub topic: String,

    /// QoS of the subscriptions.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: Qos,

    /// Stop once this many messages arrived in all (instead of --duration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `mqtt-cli bench merge`.
#[derive(Debug, Clone, Args)]
pub struct BenchMergeArgs {
    /// Reports saved with --report.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print the merged report as one JSON object.
    #[arg(long)]
    pub json: bool,

    /// Also save the merged report with its histograms.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Exit 8 when CONDITION holds for the merged figures (repeatable).
    #[arg(long = "fail-if", value_name = "CONDITION", value_parser = Condition::parse)]
    pub fail_if: Vec<Condition>,
}

/// A publishing rate per client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    PerSecond(f64),
    Max,
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    if text.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    parse_positive_rate(text).map(Rate::PerSecond)
}

fn parse_positive_rate(text: &str) -> Result<f64, String> {
    let digits = text.strip_suffix("/s").unwrap_or(text);
    match digits.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        _ => Err(format!(
            "'{text}' is not a rate: messages per second, above 0 (e.g. 100, 0.5), or max"
        )),
    }
}

/// `--shard K/N`, K `None` for `auto` (from JOB_COMPLETION_INDEX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    pub index: Option<u32>,
    pub count: u32,
}

fn parse_shard(text: &str) -> Result<ShardArg, String> {
    let bad = || format!("'{text}' is not a shard: K/N with 0 <= K < N (e.g. 0/4), or auto/N");
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let count: u32 = count
        .parse()
        .ok()
        .filter(|count| *count > 0)
        .ok_or_else(bad)?;
    let index = match index {
        "auto" => None,
        number => Some(
            number
                .parse::<u32>()
                .ok()
                .filter(|k| *k < count)
                .ok_or_else(bad)?,
        ),
    };
    Ok(ShardArg { index, count })
}

fn parse_run_id(text: &str) -> Result<String, String> {
    let fits = (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{text}' is not a run id: 1 to 64 letters, digits, - and _ (it goes in topics)"
        ))
    }
}

/// RFC 3339 (`2026-11-29T18:00:00Z`) or Unix seconds.
fn parse_start_at(text: &str) -> Result<std::time::SystemTime, String> {
    if let Ok(seconds) = text.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Ok(std::time::UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!("'{text}' is not a moment: RFC 3339 (2026-11-29T18:00:00Z) or Unix seconds")
    })
}
