//! `rr`: the request, where its answer comes, and how to print it.

use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;

use super::connect::{ConnectSettings, connect_settings};
use super::output_format::{Printing, printing};
use super::properties::{PropertyArgs, properties};
use super::publish::{read_payload_file, read_payload_stdin};
use crate::cli::RrArgs;
use crate::cli::config::Sources;
use crate::error::usage;
use crate::topic::validate_topic_name;
use crate::types::{Message, ProtocolVersion};

/// What `rr` needs: the request, where the answer comes, and how to print it.
#[derive(Debug, Clone)]
pub struct RrSettings {
    pub connect: ConnectSettings,
    /// The request, with the response topic and correlation data on MQTT 5.
    pub request: Message,
    pub response_topic: String,
    pub timeout: Option<Duration>,
    pub printing: Printing,
    /// `--latency`: print the round trip after the answer.
    pub latency: bool,
}

/// Validates `rr` arguments and reads the request's payload.
pub fn rr_settings(args: &RrArgs, from: Sources) -> Result<RrSettings> {
    let (connect, _) = connect_settings(&args.connect, from)?;
    validate_topic_name(&args.topic).map_err(usage)?;
    validate_topic_name(&args.response_topic)
        .map_err(|err| usage(format!("-e/--response-topic: {err}")))?;
    if args.topic == args.response_topic {
        return Err(usage(
            "-t and -e are the same topic: the request would be taken for its own answer",
        ));
    }
    let v5 = connect.protocol == ProtocolVersion::V5;
    let payload = if let Some(message) = &args.message {
        Bytes::from(message.clone())
    } else if let Some(path) = &args.file {
        read_payload_file(path)?
    } else if args.stdin {
        read_payload_stdin()?
    } else if args.null {
        Bytes::new()
    } else {
        return Err(usage(
            "no request: give one with -m, -f FILE, -s (stdin) or -n (empty)",
        ));
    };
    if args.timeout.is_some_and(|timeout| timeout.is_zero()) {
        return Err(usage("-W must be longer than 0"));
    }
    let mut properties = properties(
        PropertyArgs {
            payload_format: None,
            message_expiry: None,
            content_type: &args.content_type,
            response_topic: &None,
            correlation_data: &args.correlation_data,
            user_properties: &args.user_property,
            topic_alias: None,
        },
        "--",
        v5,
    )?;
    if v5 {
        properties.response_topic = Some(args.response_topic.clone());
        if properties.correlation_data.is_none() {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(16)
                .collect();
            properties.correlation_data = Some(Bytes::from(random));
        }
    }
    Ok(RrSettings {
        connect,
        request: Message {
            properties,
            ..Message::new(args.topic.clone(), payload, args.qos, false)
        },
        response_topic: args.response_topic.clone(),
        timeout: args.timeout,
        printing: printing(&args.output, args.r#match.as_deref(), from.env)?,
        latency: args.latency,
    })
}
