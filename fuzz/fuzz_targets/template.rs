//! `-F` templates: never a panic, parsing or rendering any message with them; a template
//! without `%`, `\` or `@` (the time codes) renders as itself.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mqtt_cli::client::{Message, Properties, Qos, Received};
use mqtt_cli::output::{Arrival, Format, Rendered, Template, render};
use mqtt_cli::payload::Decoded;

fuzz_target!(|input: (&str, &[u8])| {
    let (text, payload) = input;
    let Ok(template) = Template::parse(text) else {
        return;
    };
    let received = Received {
        message: Message {
            properties: Properties {
                content_type: Some("text/plain".into()),
                correlation_data: Some(Bytes::copy_from_slice(payload)),
                user_properties: vec![("k".into(), "v".into())],
                subscription_identifiers: vec![1, 2],
                ..Properties::default()
            },
            ..Message::new(
                "a/b",
                Bytes::copy_from_slice(payload),
                Qos::ExactlyOnce,
                true,
            )
        },
        packet_id: 65_535,
        connection: 0,
    };
    let mut out = Vec::new();
    let at = UNIX_EPOCH + Duration::from_secs(1_795_334_400);
    let arrival = Arrival {
        received: &received,
        decoded: &Decoded::Raw,
        now: at,
    };
    match render(&mut out, &Format::Template(template), &arrival) {
        // `%J` and a payload that is not JSON: the message is skipped (with a warning).
        Ok(()) | Err(Rendered::NotJson) => {}
        Err(Rendered::Io(err)) => panic!("writing to memory: {err}"),
    }
    if !text.contains(['%', '\\', '@']) {
        assert_eq!(out, text.as_bytes());
    }
});
