//! mqtt-cli: a command-line MQTT test client.
//!
//! The binary is a thin shell over this library: `cli` parses, `settings` validates without
//! touching the network, `client` owns the MQTT session (rumqttc), `commands` implement the
//! subcommands, `output` owns stdout. The examples use the same pieces.

pub mod cli;
pub mod client;
pub mod commands;
pub mod duration;
pub mod error;
pub mod hex;
pub mod output;
pub mod replay;
pub mod settings;
pub mod tls;
pub mod topic;
pub mod vocabulary;

use anyhow::Result;

use crate::cli::{Command, ConnectArgs};
use crate::settings::ProcessEnv;

impl Command {
    /// The connection flags of whichever subcommand this is.
    pub fn connect_args(&self) -> &ConnectArgs {
        match self {
            Command::Pub(args) => &args.connect,
            Command::Sub(args) => &args.connect,
            Command::Rr(args) => &args.connect,
            Command::Check(args) => &args.connect,
        }
    }
}

/// A command's input, validated: what [`run`] executes.
#[derive(Debug)]
pub enum Prepared {
    Pub(settings::PubSettings),
    Sub(settings::SubSettings),
    Rr(settings::RrSettings),
    Check(settings::CheckSettings),
}

/// Validates the command's input (files read, certificates loaded, URL parsed): bad input
/// fails here, before any runtime or network exists.
pub fn prepare(command: &Command) -> Result<Prepared> {
    Ok(match command {
        Command::Pub(args) => Prepared::Pub(settings::pub_settings(args, &ProcessEnv)?),
        Command::Sub(args) => Prepared::Sub(settings::sub_settings(args, &ProcessEnv)?),
        Command::Rr(args) => Prepared::Rr(settings::rr_settings(args, &ProcessEnv)?),
        Command::Check(args) => Prepared::Check(settings::check_settings(args, &ProcessEnv)?),
    })
}

/// Runs a prepared command.
pub async fn run(prepared: Prepared) -> Result<()> {
    match prepared {
        Prepared::Pub(settings) => commands::publish::run(settings).await,
        Prepared::Sub(settings) => commands::subscribe::run(settings).await,
        Prepared::Rr(settings) => commands::request::run(settings).await,
        Prepared::Check(settings) => commands::check::run(settings).await,
    }
}
