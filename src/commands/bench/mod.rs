//! `mqtt-cli bench`: many sessions of the `client` layer at once, on the multi-threaded
//! runtime. Each client is a task; what they count goes into one [`Tally`] (atomics, and HDR
//! histograms behind locks taken once per sample); a live line reads it each second; the
//! report is built from it at the end.

mod conn;
mod live;
mod metrics;
mod publish;
mod subscribe;
mod tally;
mod track;

use anyhow::Result;

use crate::error::usage;
use crate::input::read_regular_file;
use crate::measure::report::Report;
use crate::settings::BenchSettings;
use crate::settings::bench::BenchMerge;

pub async fn run(settings: BenchSettings) -> Result<()> {
    match settings {
        BenchSettings::Pub(settings) => publish::run(settings).await,
        BenchSettings::Conn(settings) => conn::run(settings).await,
        BenchSettings::Sub(settings) => subscribe::run(settings).await,
        BenchSettings::Merge(settings) => merge(&settings),
    }
}

/// `bench merge`.
/// The largest report `bench merge` reads (one is a few kilobytes with its histograms).
const MAX_REPORT: usize = 64 << 20;

fn merge(settings: &BenchMerge) -> Result<()> {
    let mut reports = Vec::new();
    for path in &settings.files {
        let bytes = read_regular_file(path, MAX_REPORT, "the report")?;
        let text = String::from_utf8_lossy(&bytes);
        reports.push(
            Report::from_json(&text).map_err(|err| usage(format!("{}: {err}", path.display())))?,
        );
    }
    let merged = Report::merge(&reports).map_err(usage)?;
    tally::finish(
        merged,
        settings.json,
        settings.report.as_deref(),
        &settings.fail_if,
    )
}
