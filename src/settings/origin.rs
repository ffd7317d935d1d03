//! What `-d` says about where each setting came from: the flag, the `-L` URL, the environment,
//! the profile or the default. The address and credentials are reported as `connect.rs`
//! resolves them; every other connection flag here, from the command line or the profile.

use crate::broker_url::redact_url;
use crate::cli::command_line::CommandLine;

/// Where a connection setting came from, for `-d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    Flag,
    Url,
    Env(&'a str),
    Profile(&'a str),
    Default,
}

impl std::fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("flag"),
            Origin::Url => f.write_str("URL"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Profile(name) => write!(f, "profile {name}"),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// The first value given, and its origin: flag, then the URL, then the environment, then the
/// profile.
pub(super) fn first<'a, T>(layers: [(Option<T>, Origin<'a>); 4]) -> Option<(T, Origin<'a>)> {
    layers
        .into_iter()
        .find_map(|(value, origin)| value.map(|value| (value, origin)))
}

/// Keys whose origin `connect.rs` reports as it resolves them (flag, URL, environment, profile).
const RESOLVED_IN_CONNECT: &[&str] = &["host", "port", "url", "username", "password", "profile"];

/// Reports (at debug level, `-d`) where the connection flags of this command line came from:
/// given as flags, or options of the profile in use; and a profile's credentials not sent.
pub fn report(line: &CommandLine) {
    if line.cli.command.connect_args().is_none() {
        return;
    }
    for (key, values) in &line.given {
        if !RESOLVED_IN_CONNECT.contains(&key.as_str()) && key != "debug" && key != "quiet" {
            tracing::debug!("{key} {} ({})", shown(key, values).join(" "), Origin::Flag);
        }
    }
    let Some(profile) = &line.profile else {
        return;
    };
    for (key, args) in &line.from_profile {
        // `--key=value` (or a bare `--flag`): the values.
        let values: Vec<String> = args
            .iter()
            .filter_map(|arg| arg.split_once('=').map(|(_, value)| value.to_string()))
            .collect();
        let origin = Origin::Profile(&profile.name);
        tracing::debug!("{key} {} ({origin})", shown(key, &values).join(" "));
    }
    if !line.dropped.is_empty() {
        tracing::debug!(
            "profile {}: its {} are for {}, not sent to {}",
            profile.name,
            line.dropped.join(", "),
            profile.own_host().unwrap_or_default(),
            profile.elsewhere.as_deref().unwrap_or_default()
        );
    }
}

/// A flag's values as `-d` prints them: a proxy URL without its password.
fn shown(key: &str, values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|value| match key {
            "proxy" => redact_url(value),
            _ => value.clone(),
        })
        .collect()
}
