//! mqtt-cli: a command-line MQTT test client.
//!
//! The binary is a thin shell over this library: `cli` parses (the profile applied:
//! `cli::parse`), `settings` validates without touching the network, `client` owns the MQTT session (rumqttc), `commands` implement the
//! subcommands, `output` owns stdout. The examples use the same pieces.

pub mod broker_url;
pub mod cli;
pub mod client;
pub mod commands;
pub mod duration;
pub mod error;
pub mod hex;
pub mod input;
pub mod measure;
pub mod output;
pub mod payload;
pub mod proxy_handshake;
pub mod replay;
pub mod secrets;
pub mod settings;
pub mod tls;
pub mod topic;
pub mod types;

use anyhow::Result;

use crate::cli::Command;
use crate::cli::command_line::CommandLine;
use crate::cli::config::Sources;
use crate::cli::env::ProcessEnv;

/// A command's input, validated: what [`run`] executes.
#[derive(Debug)]
pub enum Prepared {
    Pub(settings::PubSettings),
    Sub(settings::SubSettings),
    Rr(settings::RrSettings),
    Check(settings::CheckSettings),
    Bench(settings::BenchSettings),
    /// Needs no network: run by `run` at once.
    Profile(cli::ProfileArgs, Vec<(String, Vec<String>)>),
    Completions(clap_complete::Shell),
    Man(std::path::PathBuf),
    Version,
}

/// Validates the command's input (files read, certificates loaded, URL parsed): bad input
/// fails here, before any runtime or network exists.
pub fn prepare(line: CommandLine) -> Result<Prepared> {
    settings::report_origins(&line);
    let CommandLine {
        cli,
        profile,
        given,
        ..
    } = line;
    let from = Sources {
        env: &ProcessEnv,
        profile: profile.as_ref(),
    };
    Ok(match &cli.command {
        Command::Pub(args) => Prepared::Pub(settings::pub_settings(args, from)?),
        Command::Sub(args) => Prepared::Sub(settings::sub_settings(args, from)?),
        Command::Rr(args) => Prepared::Rr(settings::rr_settings(args, from)?),
        Command::Check(args) => Prepared::Check(settings::check_settings(args, from)?),
        Command::Bench(args) => Prepared::Bench(settings::bench_settings(args, from)?),
        Command::Profile(args) => Prepared::Profile(args.clone(), given),
        Command::Completions { shell } => Prepared::Completions(*shell),
        Command::Man { out } => Prepared::Man(out.clone()),
        Command::Version => Prepared::Version,
    })
}

/// Runs a prepared command.
pub async fn run(prepared: Prepared) -> Result<()> {
    match prepared {
        Prepared::Pub(settings) => commands::publish::run(settings).await,
        Prepared::Sub(settings) => commands::subscribe::run(settings).await,
        Prepared::Rr(settings) => commands::request::run(settings).await,
        Prepared::Check(settings) => commands::check::run(settings).await,
        Prepared::Bench(settings) => commands::bench::run(settings).await,
        Prepared::Profile(args, given) => commands::profile::run(&args, &given),
        Prepared::Completions(shell) => commands::completions_and_man::completions(shell),
        Prepared::Man(dir) => commands::completions_and_man::man_pages(&dir),
        Prepared::Version => commands::completions_and_man::version(),
    }
}
