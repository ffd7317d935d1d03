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

/// Validates the command's input, then runs it.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Pub(args) => {
            commands::publish::run(settings::pub_settings(&args, &ProcessEnv)?).await
        }
        Command::Sub(args) => {
            commands::subscribe::run(settings::sub_settings(&args, &ProcessEnv)?).await
        }
        Command::Rr(args) => {
            commands::request::run(settings::rr_settings(&args, &ProcessEnv)?).await
        }
        Command::Check(args) => {
            commands::check::run(settings::check_settings(&args, &ProcessEnv)?).await
        }
    }
}
