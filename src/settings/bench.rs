//! `bench`: the load, validated (sizes, topics, rates), and the connection every client uses.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;

use super::connect::{ConnectSettings, connect_settings};
use crate::cli::ConnectArgs;
use crate::cli::bench::{BenchAction, BenchArgs, Rate, RunArgs, ShardArg};
use crate::cli::config::Sources;
use crate::error::usage;
use crate::measure::condition::{Condition, Measures};
use crate::measure::header::HEADER_LEN;
use crate::topic::{validate_topic_filter, validate_topic_name};
use crate::types::{MAX_PACKET_SIZE, Qos};

/// How long a run lasts without `--duration` or `--count`.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// What every run has.
#[derive(Debug, Clone)]
pub struct BenchRun {
    pub connect: ConnectSettings,
    /// Client ids are this, `-`, and the client's index.
    pub id_prefix: String,
    pub clients: u32,
    pub duration: Option<Duration>,
    pub ramp_up: Duration,
    pub client_offset: u32,
    pub start_at: Option<SystemTime>,
    pub report: Option<PathBuf>,
    pub json: bool,
    pub fail_if: Vec<Condition>,
    pub interval_report: Option<Duration>,
    /// This run's id: `%r` in topics, and the report's `runs` entry.
    pub run_id: String,
    /// `--shard`: this process's shard and the number of shards.
    pub shard: Option<(u32, u32)>,
    /// `-A` with several addresses: one per client in turn.
    pub source_addresses: Vec<std::net::IpAddr>,
    /// `--metrics-listen`: where Prometheus scrapes the run.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `--push-gateway`: where the final figures are pushed.
    pub push_gateway: Option<url::Url>,
}

impl BenchRun {
    /// The report's `runs` entry: the run's id, and `/K/N` for shard K of N (`bench merge`
    /// checks it has them all).
    pub fn report_run(&self) -> String {
        match self.shard {
            Some((index, count)) => format!("{}/{index}/{count}", self.run_id),
            None => self.run_id.clone(),
        }
    }

    /// The connection of client `name`, this process's `local`-th: its own client id, and its
    /// source address from `-A`'s list (spread in turn).
    pub fn client(&self, name: &str, local: u32) -> ConnectSettings {
        let mut connect = ConnectSettings {
            client_id: format!("{}-{name}", self.id_prefix),
            ..self.connect.clone()
        };
        if !self.source_addresses.is_empty() {
            let at = local as usize % self.source_addresses.len();
            connect.route.bind_address = Some(self.source_addresses[at]);
        }
        connect.route.pick_source_port = true;
        connect
    }
}

#[derive(Debug, Clone)]
pub struct BenchPub {
    pub run: BenchRun,
    pub subscribers: u32,
    pub rate: Rate,
    pub qos: Qos,
    pub size: usize,
    /// The topic, with `%i` and `%c` to fill in (`%r` filled in).
    pub topic: String,
    /// The filter the subscribers subscribe to: each level with `%i`/`%c` becomes `+`.
    pub filter: String,
    pub count: Option<u64>,
    pub warmup: Duration,
}

#[derive(Debug, Clone)]
pub struct BenchConn {
    pub run: BenchRun,
    pub connect_rate: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct BenchSub {
    pub run: BenchRun,
    pub filter: String,
    pub qos: Qos,
    pub count: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct BenchMerge {
    pub files: Vec<PathBuf>,
    pub json: bool,
    pub report: Option<PathBuf>,
    pub fail_if: Vec<Condition>,
}

/// A validated `bench`.
#[derive(Debug, Clone)]
pub enum BenchSettings {
    Pub(BenchPub),
    Conn(BenchConn),
    Sub(BenchSub),
    Merge(BenchMerge),
}

/// Refuses a `--fail-if` on what the run cannot measure: it would pass by default.
fn measurable(conditions: &[Condition], measures: Measures, conn: bool, why: &str) -> Result<()> {
    for condition in conditions {
        if let Some(lacking) = condition.unmeasurable(measures, conn) {
            return Err(usage(format!(
                "--fail-if '{}' cannot be measured: this run has {lacking} ({why})",
                condition.text()
            )));
        }
    }
    Ok(())
}

fn run_settings(run: &RunArgs, connect: &ConnectArgs, from: Sources) -> Result<BenchRun> {
    // -A with several addresses: the clients take them in turn (BenchRun::client).
    let mut one_address = connect.clone();
    let source_addresses = match connect.bind_address.as_ref().map(|list| &list.0) {
        Some(list) if list.len() > 1 => {
            if connect.unix.is_some() {
                return Err(usage("--unix and -A/--bind-address do not go together"));
            }
            one_address.bind_address = None;
            list.clone()
        }
        _ => Vec::new(),
    };
    let (settings, _) = connect_settings(&one_address, from)?;
    let id_prefix = match &connect.client_id {
        Some(id) => id.clone(),
        None => {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(6)
                .collect();
            format!("mqtt-cli-bench-{random}")
        }
    };
    if run.duration.is_some_and(|duration| duration.is_zero()) {
        return Err(usage("--duration must be longer than 0"));
    }
    let shard = match run.shard {
        None => None,
        Some(ShardArg {
            index: Some(index),
            count,
        }) => Some((index, count)),
        Some(ShardArg { index: None, count }) => {
            let text = from.env.var("JOB_COMPLETION_INDEX").ok_or_else(|| {
                usage(format!(
                    "--shard auto/{count}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it); give K/{count}"
                ))
            })?;
            match text.trim().parse::<u32>() {
                Ok(index) if index < count => Some((index, count)),
                _ => {
                    return Err(usage(format!(
                        "--shard auto/{count}: JOB_COMPLETION_INDEX '{text}' is not a shard of 0 to {}",
                        count - 1
                    )));
                }
            }
        }
    };
    let client_offset = match shard {
        Some((index, _)) => index
            .checked_mul(run.clients)
            .ok_or_else(|| usage("--shard: the clients' indexes go past 4294967295"))?,
        None => run.client_offset,
    };
    Ok(BenchRun {
        connect: settings,
        id_prefix,
        clients: run.clients,
        duration: run.duration,
        ramp_up: run.ramp_up,
        client_offset,
        start_at: run.start_at,
        report: run.report.clone(),
        json: run.json,
        fail_if: run.fail_if.clone(),
        interval_report: run.interval_report,
        run_id: run
            .run_id
            .clone()
            .unwrap_or_else(|| format!("{:016x}", fastrand::u64(..))),
        shard,
        source_addresses,
        metrics_listen: run.metrics_listen,
        push_gateway: run.push_gateway.clone(),
    })
}

/// Validates `bench` arguments.
pub fn bench_settings(args: &BenchArgs, from: Sources) -> Result<BenchSettings> {
    Ok(match &args.action {
        BenchAction::Pub(args) => {
            let run = run_settings(&args.run, &args.connect, from)?;
            if args.size < HEADER_LEN || args.size > MAX_PACKET_SIZE - 1024 {
                return Err(usage(format!(
                    "--size {}: a payload of {HEADER_LEN} bytes (the header) to 256 MiB",
                    args.size
                )));
            }
            // %r: this run's own id, so that two runs on one broker keep to their own topics.
            let topic = args.topic.replace("%r", &run.run_id);
            let sample = topic.replace("%i", "0").replace("%c", "client");
            validate_topic_name(&sample).map_err(|err| usage(format!("-t: {err}")))?;
            let filter = topic
                .split('/')
                .map(|level| if level.contains('%') { "+" } else { level })
                .collect::<Vec<_>>()
                .join("/");
            validate_topic_filter(&filter).map_err(|err| usage(format!("-t: {err}")))?;
            if let Some(duration) = args.run.duration
                && args.warmup >= duration
            {
                return Err(usage("--warmup must be shorter than --duration"));
            }
            let receiving = args.subscribers > 0;
            let measures = Measures {
                end_to_end: receiving,
                ack: args.qos > Qos::AtMostOnce,
                delivery: receiving,
                sent: true,
            };
            let why = format!("-q {}, --subscribers {}", args.qos, args.subscribers);
            measurable(&run.fail_if, measures, false, &why)?;
            BenchSettings::Pub(BenchPub {
                run,
                subscribers: args.subscribers,
                rate: args.rate,
                qos: args.qos,
                size: args.size,
                topic,
                filter,
                count: args.count,
                warmup: args.warmup,
            })
        }
        BenchAction::Conn(args) => {
            let run = run_settings(&args.run, &args.connect, from)?;
            let measures = Measures::CONNECTIONS;
            measurable(&run.fail_if, measures, true, "bench conn only connects")?;
            BenchSettings::Conn(BenchConn {
                run,
                connect_rate: args.connect_rate,
            })
        }
        BenchAction::Sub(args) => {
            let run = run_settings(&args.run, &args.connect, from)?;
            validate_topic_filter(&args.topic).map_err(|err| usage(format!("-t: {err}")))?;
            let measures = Measures {
                end_to_end: true,
                delivery: true,
                ..Measures::CONNECTIONS
            };
            measurable(&run.fail_if, measures, false, "bench sub publishes nothing")?;
            BenchSettings::Sub(BenchSub {
                run,
                filter: args.topic.clone(),
                qos: args.qos,
                count: args.count,
            })
        }
        BenchAction::Merge(args) => BenchSettings::Merge(BenchMerge {
            files: args.files.clone(),
            json: args.json,
            report: args.report.clone(),
            fail_if: args.fail_if.clone(),
        }),
    })
}
