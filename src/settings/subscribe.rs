//! `sub`: filters, subscription options, when to stop, and what to print.

use std::time::Duration;

use anyhow::Result;

use super::connect::{ConnectSettings, connect_settings};
use super::output_format::{Printing, printing};
use super::properties::needs_v5;
use crate::cli::SubArgs;
use crate::cli::config::Sources;
use crate::error::usage;
use crate::topic::validate_topic_filter;
use crate::types::{ProtocolVersion, SubscribeOptions};

#[derive(Debug, Clone)]
pub struct SubSettings {
    pub connect: ConnectSettings,
    pub filters: Vec<String>,
    pub subscribe: SubscribeOptions,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub printing: Printing,
    pub shown: Shown,
    pub exit_on_subscribe: bool,
    pub retained_only: bool,
    pub remove_retained: bool,
    pub unsubscribe: Vec<String>,
    /// `--stats`.
    pub stats: bool,
    /// `--rebirth`: ask edge nodes whose BIRTH was not seen for one.
    pub rebirth: bool,
    /// `--watch`, in this order: the live view instead of lines.
    pub watch: Option<crate::output::live::Sort>,
    /// `--message-rate`: a count a second instead of the messages.
    pub message_rate: bool,
}

/// Which received messages are printed and counted for `-C`, besides `--match`.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// `-T`: filters of topics kept out (neither printed nor cleared).
    pub filter_out: Vec<String>,
    /// `-R`: retained messages are not printed (`--remove-retained` still clears them).
    pub no_retained: bool,
    /// `--random-filter`: the percentage of messages shown.
    pub random_filter: Option<f64>,
}

/// Validates `sub` arguments.
pub fn sub_settings(args: &SubArgs, from: Sources) -> Result<SubSettings> {
    let (connect, url_topic) = connect_settings(&args.connect, from)?;
    let mut filters = args.topics.clone();
    if filters.is_empty() {
        filters.extend(url_topic);
    }
    if filters.is_empty() && args.unsubscribe.is_empty() {
        return Err(usage(
            "no topic: give at least one filter with -t FILTER (e.g. -t 'sensors/#')",
        ));
    }
    for filter in filters
        .iter()
        .chain(&args.filter_out)
        .chain(&args.unsubscribe)
    {
        validate_topic_filter(filter).map_err(usage)?;
    }
    let printing = printing(&args.output, args.r#match.as_deref(), from.env)?;
    if args.rebirth && !printing.decode.reads_sparkplug() {
        return Err(usage(
            "--rebirth asks Sparkplug edge nodes for their BIRTH: add --decode sparkplug (or auto)",
        ));
    }
    if args.timeout.is_some_and(|timeout| timeout.is_zero()) {
        return Err(usage("-W must be longer than 0"));
    }
    needs_v5(
        connect.protocol == ProtocolVersion::V5,
        &[
            ("--no-local", args.no_local),
            ("--retain-as-published", args.retain_as_published),
            ("--retain-handling", args.retain_handling != 0),
            ("--subscription-id", args.subscription_id.is_some()),
        ],
    )?;
    Ok(SubSettings {
        connect,
        filters,
        subscribe: SubscribeOptions {
            qos: args.qos,
            no_local: args.no_local,
            retain_as_published: args.retain_as_published,
            retain_handling: args.retain_handling,
            subscription_identifier: args.subscription_id.and_then(|id| usize::try_from(id).ok()),
        },
        count: args.count,
        timeout: args.timeout,
        printing,
        shown: Shown {
            filter_out: args.filter_out.clone(),
            no_retained: args.no_retained,
            random_filter: args.random_filter,
        },
        exit_on_subscribe: args.exit_on_subscribe,
        retained_only: args.retained_only,
        remove_retained: args.remove_retained,
        unsubscribe: args.unsubscribe.clone(),
        stats: args.stats,
        rebirth: args.rebirth,
        watch: args.watch.then_some(args.sort),
        message_rate: args.message_rate,
    })
}
