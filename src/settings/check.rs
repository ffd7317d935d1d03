//! `check`: which checks, where their topics live, and their limits.

use std::time::Duration;

use anyhow::Result;

use super::connect::{ConnectSettings, connect_settings};
use crate::cli::config::Sources;
use crate::cli::{CheckArgs, CheckName};
use crate::error::usage;
use crate::topic::validate_topic_name;

/// What `check` needs.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub connect: ConnectSettings,
    /// The checks to run, in order.
    pub checks: Vec<CheckName>,
    pub topic_prefix: String,
    pub count: u32,
    pub payload_size: usize,
    pub cert_expiry_warn: Option<u32>,
    pub timeout: Duration,
    pub json: bool,
    /// `--quiet`: no table on stderr.
    pub quiet: bool,
    /// Colour in the table on stderr.
    pub colour: bool,
}

/// Validates `check` arguments.
pub fn check_settings(args: &CheckArgs, from: Sources) -> Result<CheckSettings> {
    let (mut connect, _) = connect_settings(&args.connect, from)?;
    // The checks leave nothing behind: clean sessions that end with the connection.
    if !connect.clean_session || connect.will.is_some() {
        return Err(usage(
            "check uses its own clean sessions and will: leave out -c, -x and --will-*",
        ));
    }
    connect.session_expiry = None;
    // A check that breaks a connection on purpose (the will) or sees one broken must say so.
    connect.reconnect = None;
    let topic_prefix = match &args.topic_prefix {
        Some(prefix) => {
            validate_topic_name(prefix).map_err(|err| usage(format!("--topic-prefix: {err}")))?;
            prefix.trim_end_matches('/').to_string()
        }
        None => {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(10)
                .collect();
            format!("mqtt-cli/check/{random}")
        }
    };
    let all = [
        CheckName::Connect,
        CheckName::Tls,
        CheckName::Qos0,
        CheckName::Qos1,
        CheckName::Qos2,
        CheckName::Retained,
        CheckName::Will,
        CheckName::Wildcards,
        CheckName::LargePayload,
    ];
    let checks = all
        .into_iter()
        .filter(|check| args.only.is_empty() || args.only.contains(check))
        .filter(|check| !args.skip.contains(check))
        .collect::<Vec<_>>();
    if checks.is_empty() {
        return Err(usage("--skip leaves no check to run"));
    }
    if args.timeout.is_zero() {
        return Err(usage("-W must be longer than 0"));
    }
    use std::io::IsTerminal;
    Ok(CheckSettings {
        connect,
        checks,
        topic_prefix,
        count: args.count,
        payload_size: args.payload_size,
        cert_expiry_warn: args.cert_expiry_warn,
        timeout: args.timeout,
        json: args.json,
        quiet: args.connect.quiet,
        colour: std::io::stderr().is_terminal() && from.env.var("NO_COLOR").is_none(),
    })
}
