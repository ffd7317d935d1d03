//! `pub`: the topic, the payloads (arguments, a file, stdin, lines, a capture) and how to send them.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;

use super::connect::{ConnectSettings, connect_settings};
use super::properties::{PropertyArgs, check_payload_format, properties};
use crate::cli::PubArgs;
use crate::cli::config::Sources;
use crate::error::usage;
use crate::input::{Limited, read_at_most};
use crate::payload::{Codec, Encoder, Schemas};
use crate::topic::validate_topic_name;
use crate::types::{
    MAX_PACKET_SIZE, Message, Properties, ProtocolVersion, Qos, default_max_inflight,
};

/// Where `pub` takes its payloads from.
#[derive(Debug, Clone)]
pub enum Payloads {
    /// A fixed list of payloads sent in turn, `repeat` times over (0 = until interrupted);
    /// `encode`: JSON encoded again as each is sent (Sparkplug: its `seq`), otherwise the
    /// payloads are encoded already.
    Cycle {
        payloads: Vec<Bytes>,
        repeat: u64,
        encode: Option<Codec>,
    },
    /// One message per line of standard input, streamed (each line encoded as it comes with
    /// `--encode`).
    Lines { encode: Option<Codec> },
    /// Complete messages from a capture, each after its delay.
    Replay(Vec<(Duration, Message)>),
}

#[derive(Debug, Clone)]
pub struct PubSettings {
    pub connect: ConnectSettings,
    /// The topic; empty with `--replay`, whose messages carry their own.
    pub topic: String,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5 properties of every message (replayed messages carry their own).
    pub properties: Properties,
    pub payloads: Payloads,
    pub interval: Option<Duration>,
    pub max_inflight: u16,
    /// A long run (`-l`, `--repeat`, `--replay`) without `--quiet` or `-d`: a live line on
    /// stderr, when it is a terminal.
    pub progress: bool,
}

/// Validates `pub` arguments and loads file or stdin payloads.
pub fn pub_settings(args: &PubArgs, from: Sources) -> Result<PubSettings> {
    let (connect, url_topic) = connect_settings(&args.connect, from)?;
    let v5 = connect.protocol == ProtocolVersion::V5;
    let properties = properties(
        PropertyArgs {
            payload_format: args.payload_format,
            message_expiry: args.message_expiry,
            content_type: &args.content_type,
            response_topic: &args.response_topic,
            correlation_data: &args.correlation_data,
            user_properties: &args.user_property,
            topic_alias: args.topic_alias,
        },
        "--",
        v5,
    )?;
    if let Some(path) = &args.replay {
        return replay_settings(args, path, connect, properties);
    }
    let topic =
        args.topic.clone().or(url_topic).ok_or_else(|| {
            usage("no topic: give one with -t TOPIC (or as the path of the -L URL)")
        })?;
    validate_topic_name(&topic).map_err(usage)?;

    let codec = encode_codec(args)?;
    let payloads = if args.lines {
        if args.repeat != 1 {
            return Err(usage(
                "--repeat does not go with --lines: each line is sent once",
            ));
        }
        Payloads::Lines { encode: codec }
    } else {
        cycle(args, &topic, &properties, codec)?
    };

    let long_run = match &payloads {
        Payloads::Lines { .. } | Payloads::Replay(_) => true,
        Payloads::Cycle { repeat, .. } => *repeat != 1,
    };
    Ok(PubSettings {
        progress: long_run && !args.connect.quiet && !args.connect.debug,
        connect,
        topic,
        qos: args.qos,
        retain: args.retain,
        properties,
        payloads,
        interval: args.interval.filter(|interval| !interval.is_zero()),
        max_inflight: args
            .max_inflight
            .unwrap_or_else(|| default_max_inflight(args.qos)),
    })
}

/// `--encode CODEC`, with the `--proto` files it needs compiled.
fn encode_codec(args: &PubArgs) -> Result<Option<Codec>> {
    let Some(name) = &args.encoding.encode else {
        if !args.encoding.proto.proto.is_empty() && args.replay.is_none() {
            return Err(usage(
                "--proto is read for --encode protobuf:TYPE: add --encode (e.g. --encode protobuf:acme.Reading)",
            ));
        }
        return Ok(None);
    };
    let schemas = Schemas::load(&args.encoding.proto.files()).map_err(usage)?;
    match Codec::parse(name, &schemas).map_err(|err| usage(format!("--encode: {err}")))? {
        Codec::Auto => Err(usage(
            "--encode needs the codec named: cbor, msgpack, protobuf:TYPE, sparkplug or json",
        )),
        codec => Ok(Some(codec)),
    }
}

/// `--replay FILE`: the capture's messages, with their own topics, QoS and properties.
fn replay_settings(
    args: &PubArgs,
    path: &Path,
    connect: ConnectSettings,
    properties: Properties,
) -> Result<PubSettings> {
    if !properties.is_empty() {
        return Err(usage(
            "--replay sends the properties recorded in the capture; leave out the property flags",
        ));
    }
    let schemas = Schemas::load(&args.encoding.proto.files()).map_err(usage)?;
    let messages = crate::replay::read_capture(path, args.replay_timing, &schemas)?;
    if connect.protocol != ProtocolVersion::V5
        && let Some(index) = messages
            .iter()
            .position(|(_, message)| !message.properties.is_empty())
    {
        return Err(usage(format!(
            "{}: message {} has MQTT 5 properties: replay it with -V 5",
            path.display(),
            index + 1
        )));
    }
    let highest = messages
        .iter()
        .map(|(_, m)| m.qos)
        .max()
        .unwrap_or(Qos::AtMostOnce);
    Ok(PubSettings {
        connect,
        topic: String::new(),
        qos: highest,
        retain: false,
        properties,
        payloads: Payloads::Replay(messages),
        interval: args.interval.filter(|interval| !interval.is_zero()),
        max_inflight: args
            .max_inflight
            .unwrap_or_else(|| default_max_inflight(highest)),
        progress: !args.connect.quiet && !args.connect.debug,
    })
}

/// `-m` (repeatable), `-f`, `-s` or `-n`, sent `--repeat` times: each checked against the
/// payload format and the largest packet before anything is sent.
fn cycle(
    args: &PubArgs,
    topic: &str,
    properties: &Properties,
    codec: Option<Codec>,
) -> Result<Payloads> {
    let mut payloads: Vec<Bytes> = if !args.messages.is_empty() {
        args.messages
            .iter()
            .map(|message| Bytes::from(message.clone()))
            .collect()
    } else if let Some(path) = &args.file {
        vec![read_payload_file(path)?]
    } else if args.stdin {
        vec![read_payload_stdin()?]
    } else if args.null {
        vec![Bytes::new()]
    } else {
        return Err(usage(
            "no message: give one with -m, -f FILE, -s (stdin), -l (lines), -n (empty) or --replay FILE",
        ));
    };
    if let Some(codec) = &codec {
        encode_payloads(args, topic, codec, &mut payloads)?;
    }
    // Fixed header (5) + topic length prefix (2) + topic + packet id (2).
    let overhead = 5 + 2 + topic.len() + 2;
    for payload in &payloads {
        check_payload_format(properties, payload, "the message")?;
    }
    if let Some(big) = payloads
        .iter()
        .find(|payload| payload.len() + overhead > MAX_PACKET_SIZE)
    {
        return Err(usage(format!(
            "the message is {} bytes: MQTT packets are limited to {MAX_PACKET_SIZE} bytes",
            big.len()
        )));
    }
    // Endless and unpaced would flood the broker with no word: the pace must be asked for.
    if args.repeat == 0 && args.interval.is_none() {
        return Err(usage(
            "--repeat 0 (until interrupted) needs --interval: e.g. --interval 1s, or --interval 0 for as fast as possible",
        ));
    }
    Ok(Payloads::Cycle {
        payloads,
        repeat: args.repeat,
        encode: codec.filter(Codec::per_message),
    })
}

/// `--encode`: each payload, JSON, encoded (or, for Sparkplug, checked: it is encoded again as
/// it is sent, with its `seq`). A bad one: exit 2 naming it and the field.
fn encode_payloads(
    args: &PubArgs,
    topic: &str,
    codec: &Codec,
    payloads: &mut [Bytes],
) -> Result<()> {
    let mut encoder = Encoder::new(codec.clone());
    for (index, payload) in payloads.iter_mut().enumerate() {
        let encoded = encoder.encode(topic, payload).map_err(|why| {
            let what = match (&args.file, args.stdin) {
                (Some(path), _) => path.display().to_string(),
                (None, true) => "standard input".to_string(),
                _ if args.messages.len() > 1 => format!("-m #{}", index + 1),
                _ => "-m".to_string(),
            };
            usage(format!("--encode {}: {what}: {why}", codec.name()))
        })?;
        if !codec.per_message() {
            *payload = Bytes::from(encoded);
        }
    }
    Ok(())
}

/// A whole file as one payload.
/// Any file (`-f <(command)` is a pipe), read up to the largest packet and no further.
pub(super) fn read_payload_file(path: &Path) -> Result<Bytes> {
    let file = std::fs::File::open(path)
        .map_err(|err| usage(format!("cannot read {}: {err}", path.display())))?;
    read_at_most(file, MAX_PACKET_SIZE)
        .map(Bytes::from)
        .map_err(|err| match err {
            Limited::Io(err) => usage(format!("cannot read {}: {err}", path.display())),
            Limited::TooLong => usage(format!(
                "{} is larger than the largest MQTT packet ({MAX_PACKET_SIZE} bytes); reading stopped there",
                path.display()
            )),
        })
}

/// All of standard input as one payload.
pub(super) fn read_payload_stdin() -> Result<Bytes> {
    let data = read_at_most(std::io::stdin().lock(), MAX_PACKET_SIZE).map_err(|err| match err {
        Limited::Io(err) => usage(format!("cannot read standard input: {err}")),
        Limited::TooLong => usage(format!(
            "standard input (-s) is larger than the largest MQTT packet ({MAX_PACKET_SIZE} bytes); reading stopped there"
        )),
    })?;
    // A closed or empty stdin is almost always a broken pipeline, not an empty message.
    if data.is_empty() {
        return Err(usage(
            "standard input (-s) is empty or closed: nothing to send (-n sends an empty message)",
        ));
    }
    Ok(Bytes::from(data))
}
