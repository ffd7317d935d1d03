//! Payload codecs (`--decode`): any bytes on any codec never panic, never hang; what CBOR,
//! MessagePack and protobuf decode, encoded again, decodes to the same JSON; Sparkplug state
//! across messages (BIRTH, DATA, DEATH on one edge node) never panics, and a decoded Sparkplug
//! payload is written back (or refused) as bytes that decode.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mqtt_cli::payload::{Choice, Codec, Decoded, Decoder, Encoder, ProtoFiles, Schemas};

/// A message with every kind of field, nested and repeated.
const PROTO: &str = "syntax = \"proto3\";\npackage fuzz;\nenum E { A = 0; B = 1; }\n\
message Inner { string s = 1; sint64 n = 2; }\n\
message M { int32 a = 1; int64 b = 2; uint64 c = 3; double d = 4; float f = 5; bool g = 6;\n\
string h = 7; bytes i = 8; E e = 9; Inner inner = 10; repeated Inner many = 11;\n\
map<string, int32> m = 12; repeated fixed32 packed = 13; optional sfixed64 o = 14; }\n";

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mqtt-cli-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("fuzz.proto");
        std::fs::write(&file, PROTO).expect("write the .proto");
        Schemas::load(&ProtoFiles {
            files: vec![file],
            include: vec![dir],
        })
        .expect("the .proto compiles")
    })
}

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
    let schemas = schemas();
    let names = [
        "json",
        "cbor",
        "msgpack",
        "sparkplug",
        "auto",
        "protobuf:fuzz.M",
    ];
    let name = names[pick as usize % names.len()];
    let choice = Choice::parse(&[name.to_string()], schemas).expect("a codec");
    let mut decoder = Decoder::new(choice);
    for (index, payload) in payloads.iter().enumerate() {
        let topic = TOPICS[(index + pick as usize) % TOPICS.len()];
        let decoded = decoder.decode(topic, payload);
        if let (Decoded::Value { value, .. }, "cbor" | "msgpack" | "protobuf:fuzz.M") =
            (&decoded, name)
        {
            let codec = Codec::parse(name, schemas).expect("a codec");
            let again = Encoder::new(codec)
                .encode_value(topic, value)
                .expect("encodes");
            let choice = Choice::parse(&[name.to_string()], schemas).expect("a codec");
            match Decoder::new(choice).decode(topic, &again) {
                Decoded::Value { value: second, .. } => {
                    assert_eq!(second.to_json(), value.to_json())
                }
                Decoded::Raw => panic!("{name}: what we encoded does not decode"),
            }
        }
        // Sparkplug as decoded is written back (or refused in words), and what is written reads.
        if let (Decoded::Value { value, .. }, "sparkplug") = (&decoded, name) {
            let codec = Codec::parse(name, schemas).expect("a codec");
            if let Ok(again) = Encoder::new(codec).encode_value(topic, value) {
                let choice = Choice::parse(&[name.to_string()], schemas).expect("a codec");
                if let Decoded::Raw = Decoder::new(choice).decode(topic, &again) {
                    panic!("sparkplug: what we encoded does not decode");
                }
            }
        }
        let _ = decoder.take_rebirths();
    }
});
