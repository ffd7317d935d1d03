//! MQTT 5 message properties from flags (shared by `pub`, `rr` and the will), and the refusal
//! of MQTT 5 options on an MQTT 3.1.1 connection.

use anyhow::Result;
use bytes::Bytes;

use crate::cli::PayloadFormat;
use crate::error::usage;
use crate::topic::validate_topic_name;
use crate::types::Properties;

/// Refuses MQTT 5 options on an MQTT 3.1.1 connection, naming the first one given.
pub(super) fn needs_v5(v5: bool, options: &[(&str, bool)]) -> Result<()> {
    match options.iter().find(|(_, given)| *given) {
        Some((name, _)) if !v5 => Err(usage(format!(
            "{name} is an MQTT 5 feature: add -V 5 (the broker must support MQTT 5)"
        ))),
        _ => Ok(()),
    }
}

/// The message property flags, shared by `pub`, `rr` and the will.
pub(super) struct PropertyArgs<'a> {
    pub(super) payload_format: Option<PayloadFormat>,
    pub(super) message_expiry: Option<u32>,
    pub(super) content_type: &'a Option<String>,
    pub(super) response_topic: &'a Option<String>,
    pub(super) correlation_data: &'a Option<String>,
    pub(super) user_properties: &'a [(String, String)],
    pub(super) topic_alias: Option<u16>,
}

/// The properties the flags give, checked; named on the command line with `flag_prefix`
/// (`--` or `--will-`), and refused by name on MQTT 3.1.1 (`v5` false).
pub(super) fn properties(
    args: PropertyArgs<'_>,
    flag_prefix: &str,
    v5: bool,
) -> Result<Properties> {
    let given = [
        ("content-type", args.content_type.is_some()),
        ("user-property", !args.user_properties.is_empty()),
        ("message-expiry", args.message_expiry.is_some()),
        ("response-topic", args.response_topic.is_some()),
        ("correlation-data", args.correlation_data.is_some()),
        ("payload-format", args.payload_format.is_some()),
        ("topic-alias", args.topic_alias.is_some()),
    ]
    .map(|(name, given)| (format!("{flag_prefix}{name}"), given));
    let named: Vec<(&str, bool)> = given
        .iter()
        .map(|(name, given)| (name.as_str(), *given))
        .collect();
    needs_v5(v5, &named)?;
    if let Some(topic) = args.response_topic {
        validate_topic_name(topic)
            .map_err(|err| usage(format!("{flag_prefix}response-topic: {err}")))?;
    }
    let correlation_data = match args.correlation_data {
        None => None,
        Some(text) => Some(Bytes::from(match text.strip_prefix("hex:") {
            Some(digits) => crate::hex::decode(digits)
                .map_err(|err| usage(format!("{flag_prefix}correlation-data: {err}")))?,
            None => text.clone().into_bytes(),
        })),
    };
    Ok(Properties {
        payload_format_indicator: args.payload_format.map(|format| match format {
            PayloadFormat::Utf8 => 1,
            PayloadFormat::Binary => 0,
        }),
        message_expiry_interval: args.message_expiry,
        topic_alias: args.topic_alias,
        response_topic: args.response_topic.clone(),
        correlation_data,
        user_properties: args.user_properties.to_vec(),
        subscription_identifiers: Vec::new(),
        content_type: args.content_type.clone(),
    })
}

/// With `--payload-format utf8` a payload must be UTF-8 (the broker may refuse it otherwise).
pub(super) fn check_payload_format(
    properties: &Properties,
    payload: &[u8],
    what: &str,
) -> Result<()> {
    if properties.payload_format_indicator == Some(1) && std::str::from_utf8(payload).is_err() {
        return Err(usage(format!(
            "{what} is not UTF-8 text, but the payload format says utf8"
        )));
    }
    Ok(())
}
