//! Progress while a bench runs: one line a second on a terminal (indicatif, cleared at the
//! end), else a line on stderr every `--interval-report`, else nothing.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::metrics::Metrics;
use super::tally::{Tally, prepare};
use crate::commands::Interrupts;
use crate::settings::bench::BenchRun;

/// The progress task, stopped (and its line cleared) by [`Live::stop`]; and the metrics
/// endpoint, which outlives it until the report is made.
pub(crate) struct Live {
    task: Option<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    metrics: Metrics,
}

impl Live {
    /// Progress for a `kind` run of `requested` clients, and `--metrics-listen`'s endpoint.
    pub async fn start(
        tally: Arc<Tally>,
        requested: u64,
        run: &BenchRun,
        kind: &'static str,
    ) -> anyhow::Result<Live> {
        let metrics = Metrics::start(run, tally.clone(), kind, requested).await?;
        let interval = run.interval_report;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let terminal = std::io::stderr().is_terminal();
        let every = if terminal {
            Some(Duration::from_secs(1))
        } else {
            interval
        };
        let task = every.map(|every| {
            tokio::spawn(async move {
                let bar = terminal.then(|| {
                    let bar = indicatif::ProgressBar::new_spinner();
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                            .expect("valid template"),
                    );
                    bar
                });
                let started = Instant::now();
                let mut last = (0u64, 0u64, Instant::now());
                let mut ticks = tokio::time::interval(every);
                ticks.tick().await;
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        _ = stopped.changed() => break,
                    }
                    let sent = tally.sent.load(Ordering::Relaxed);
                    let received = tally.received.load(Ordering::Relaxed);
                    let seconds = last.2.elapsed().as_secs_f64().max(0.001);
                    let p99 = {
                        let latency = tally.end_to_end.lock().expect("latency lock");
                        if latency.is_empty() {
                            let ack = tally.ack.lock().expect("latency lock");
                            (!ack.is_empty()).then(|| ack.quantile_ms(0.99))
                        } else {
                            Some(latency.quantile_ms(0.99))
                        }
                    };
                    let line = format!(
                        "connected {}/{requested}  sent {:.0}/s  received {:.0}/s  p99 {}  errors {}",
                        tally.connected.load(Ordering::Relaxed),
                        (sent - last.0) as f64 / seconds,
                        (received - last.1) as f64 / seconds,
                        p99.map_or("-".to_string(), |ms| format!("{ms:.2} ms")),
                        tally.error_count.load(Ordering::Relaxed),
                    );
                    last = (sent, received, Instant::now());
                    match &bar {
                        Some(bar) => {
                            bar.set_message(line);
                            bar.tick();
                        }
                        None => eprintln!(
                            "mqtt-cli: bench: {:.0}s {line}",
                            started.elapsed().as_secs_f64()
                        ),
                    }
                }
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
            })
        });
        Ok(Live {
            task,
            stop,
            metrics,
        })
    }

    /// Stops the progress line; the metrics go on until [`Metrics::end`].
    pub async fn stop(mut self) -> Metrics {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.metrics
    }
}

/// What a run of `clients` connections starts with: `--start-at` and the file limit, Ctrl+C
/// listened to, the counts, and the live line.
pub(crate) async fn begin(
    run: &BenchRun,
    clients: u64,
    kind: &'static str,
) -> anyhow::Result<(Interrupts, Arc<Tally>, Live)> {
    prepare(run, clients).await?;
    let interrupts = Interrupts::listen()?;
    let tally = Arc::new(Tally::default());
    let live = Live::start(tally.clone(), clients, run, kind).await?;
    Ok((interrupts, tally, live))
}
