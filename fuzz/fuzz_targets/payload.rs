//! Payload codecs (`--decode`): any bytes on any codec never panic, never hang; what CBOR and
//! MessagePack decode, encoded again, decodes to the same JSON; Sparkplug state across
//! messages (BIRTH, DATA, DEATH on one edge node) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_cli::payload::{Choice, Codec, Decoded, Decoder, Encoder, Schemas};

const TOPICS: [&str; 6] = [
    "spBv1.0/G/NBIRTH/E",
    "spBv1.0/G/NDATA/E",
    "spBv1.0/G/DBIRTH/E/D",
    "spBv1.0/G/DDATA/E/D",
    "spBv1.0/G/NDEATH/E",
    "spBv1.0/STATE/host",
];

fuzz_target!(|input: (u8, Vec<Vec<u8>>)| {
    let (pick, payloads) = input;
    let schemas = Schemas::default();
    let names = ["json", "cbor", "msgpack", "sparkplug", "auto"];
    let name = names[pick as usize % names.len()];
    let choice = Choice::parse(&[name.to_string()], &schemas).expect("a codec");
    let mut decoder = Decoder::new(choice);
    for (index, payload) in payloads.iter().enumerate() {
        let topic = TOPICS[(index + pick as usize) % TOPICS.len()];
        let decoded = decoder.decode(topic, payload);
        if let (Decoded::Value { value, .. }, "cbor" | "msgpack") = (&decoded, name) {
            let codec = Codec::parse(name, &schemas).expect("a codec");
            let again = Encoder::new(codec).encode_value(topic, value).expect("encodes");
            let choice = Choice::parse(&[name.to_string()], &schemas).expect("a codec");
            match Decoder::new(choice).decode(topic, &again) {
                Decoded::Value { value: second, .. } => {
                    assert_eq!(second.to_json(), value.to_json())
                }
                Decoded::Raw => panic!("{name}: what we encoded does not decode"),
            }
        }
        let _ = decoder.take_rebirths();
    }
});
