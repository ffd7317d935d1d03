//! The will: the message the broker publishes for us if we drop off, with its MQTT 5 delay and
//! properties.

use anyhow::Result;
use bytes::Bytes;

use super::properties::{PropertyArgs, check_payload_format, properties};
use crate::cli::ConnectArgs;
use crate::error::usage;
use crate::topic::validate_topic_name;
use crate::types::{Message, ProtocolVersion, Qos};

/// The message the broker publishes for us if we drop off.
#[derive(Debug, Clone)]
pub struct Will {
    pub message: Message,
    /// MQTT 5: seconds the broker waits before publishing it.
    pub delay: Option<u32>,
}

/// The will the `--will-*` flags describe, if any (bad input: exit 2).
pub(super) fn will_settings(args: &ConnectArgs) -> Result<Option<Will>> {
    let will_properties = properties(
        PropertyArgs {
            payload_format: args.will_payload_format,
            message_expiry: args.will_message_expiry,
            content_type: &args.will_content_type,
            response_topic: &args.will_response_topic,
            correlation_data: &args.will_correlation_data,
            user_properties: &args.will_user_property,
            topic_alias: None,
        },
        "--will-",
        args.protocol_version == ProtocolVersion::V5,
    )?;
    Ok(match &args.will_topic {
        Some(topic) => {
            validate_topic_name(topic).map_err(|err| usage(format!("--will-topic: {err}")))?;
            let payload = Bytes::from(args.will_payload.clone().unwrap_or_default());
            check_payload_format(&will_properties, &payload, "--will-payload")?;
            Some(Will {
                message: Message {
                    properties: will_properties,
                    ..Message::new(topic.clone(), payload, args.will_qos, args.will_retain)
                },
                delay: args.will_delay,
            })
        }
        None if args.will_payload.is_some()
            || args.will_retain
            || args.will_qos != Qos::AtMostOnce
            || args.will_delay.is_some()
            || !will_properties.is_empty() =>
        {
            return Err(usage("the --will-* options need --will-topic"));
        }
        None => None,
    })
}
