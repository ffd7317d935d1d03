//! `--decode` and `--encode` against implementations no one here wrote: CBOR and MessagePack
//! against Python's `cbor2` and `msgpack` (PyPI), protobuf against `protoc` (Debian's
//! protobuf-compiler), Sparkplug B against Eclipse Tahu's JavaScript codec (npm
//! `sparkplug-payload`). `.ci/run` installs them; a machine where a registry could not be
//! reached sets `MQTT_CLI_SKIP_REFERENCES` to the reason, and these tests say so and skip.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::argv::argv;
use common::*;
use serde_json::{Value, json};

/// `Some(reason)` when the reference codecs could not be installed here.
fn skipped() -> Option<String> {
    std::env::var("MQTT_CLI_SKIP_REFERENCES").ok()
}

macro_rules! needs_references {
    () => {
        if let Some(reason) = skipped() {
            eprintln!("skipped: {reason}");
            return;
        }
    };
}

/// Runs a program with `stdin`, and its stdout (it must succeed).
fn output_of(mut command: Command, stdin: &[u8]) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{command:?}: {err} (.ci/run installs it)"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn python(script: &str, stdin: &[u8]) -> String {
    let mut command = Command::new("python3");
    command.arg("-c").arg(script);
    output_of(command, stdin)
}

/// Eclipse Tahu's codec: one answer per request (`{"encode": ...}` or `{"decode": HEX}`).
fn tahu(requests: &[Value]) -> Vec<String> {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    let modules = home.join(".cache/mqtt-cli-tests/sparkplug/node_modules");
    assert!(
        modules.join("sparkplug-payload").is_dir(),
        "sparkplug-payload is not installed in {} (.ci/run installs it)",
        modules.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/references/sparkplug.js");
    let mut command = Command::new("node");
    command.arg(script).env("NODE_PATH", modules);
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    output_of(command, input.as_bytes())
        .lines()
        .map(str::to_string)
        .collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Publishes each payload (bytes) on its topic, in order.
fn publish_all(broker: &Broker, dir: &Path, messages: &[(&str, Vec<u8>)]) {
    for (index, (topic, payload)) in messages.iter().enumerate() {
        let file = dir.join(format!("payload-{index}"));
        std::fs::write(&file, payload).expect("write");
        let out = run_on(
            broker,
            &[
                "pub",
                "-t",
                topic,
                "-q",
                "1",
                "-f",
                file.to_str().expect("path"),
            ],
        );
        assert_code(&out, 0);
    }
}

/// What `sub ARGS -C count` printed for the messages `publish` sends once it is subscribed.
fn received(
    broker: &Broker,
    args: &[&str],
    count: usize,
    publish: impl FnOnce(),
) -> std::process::Output {
    let count = count.to_string();
    let mut all = args.to_vec();
    all.extend(["-C", count.as_str(), "-W", "20s", "-q", "1"]);
    let sub = Background::sub(broker, &all);
    publish();
    sub.finish()
}

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}")))
        .collect()
}

const PYTHON_CASES: &str = r#"
import base64, json, sys
cases = [
    {"temp": 21.5, "on": True, "n": -7, "big": 2**63 + 5, "list": [1, "x", None]},
    [1, 2.25, -3, "text", False],
    {"raw": b"\x00\xff\x10", "nested": {"deeper": [{"k": "v"}]}},
    "just text",
    12345678901234,
    {1: "a number as key"},
]
def plain(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value
"#;

/// What only one codec has, encoded by Python's codec, and the JSON docs/payloads.md promises
/// for it: a CBOR tag is its content, NaN and infinities are text; a MessagePack extension is
/// `{"ext", "data"}`, a `str` that is not UTF-8 is base64.
const PYTHON_OWN: [(&str, &str); 2] = [
    (
        "import cbor2\nencode = cbor2.dumps\nown = [\
         (cbor2.dumps(cbor2.CBORTag(1234, 'tagged')), '\"tagged\"'),\
         (cbor2.dumps([float('nan'), float('inf'), float('-inf')]), '[\"NaN\",\"Infinity\",\"-Infinity\"]')]",
        "cbor",
    ),
    (
        "import msgpack\nencode = lambda v: msgpack.packb(v, use_bin_type=True)\nown = [\
         (msgpack.packb(msgpack.ExtType(5, b'ab')), '{\"ext\":5,\"data\":\"YWI=\"}'),\
         (msgpack.packb(b'\\xff\\xfe', use_bin_type=False), '\"//4=\"')]",
        "msgpack",
    ),
];

/// Python's encoding of each case, and the JSON we must print for it.
fn python_encoded(codec: &str) -> Vec<(Vec<u8>, Value)> {
    let (encode, _) = PYTHON_OWN
        .iter()
        .find(|(_, name)| *name == codec)
        .expect("a codec");
    let script = format!(
        "{PYTHON_CASES}\n{encode}\nfor case in cases:\n    print(encode(case).hex(), json.dumps(plain(case)))\n\
         for (encoded, expected) in own:\n    print(encoded.hex(), expected)\n"
    );
    python(&script, b"")
        .lines()
        .map(|line| {
            let (hex_text, expected) = line.split_once(' ').expect("two fields");
            (
                unhex(hex_text),
                serde_json::from_str(expected).expect("JSON"),
            )
        })
        .collect()
}

#[test]
fn cbor_and_msgpack_made_by_python_are_printed_as_json() {
    needs_references!();
    for codec in ["cbor", "msgpack"] {
        let broker = Broker::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = python_encoded(codec);
        let messages: Vec<(&str, Vec<u8>)> = cases
            .iter()
            .map(|(bytes, _)| ("dev/raw", bytes.clone()))
            .collect();
        let filter = format!("dev/+={codec}");
        let out = received(
            &broker,
            &["-t", "dev/#", "--decode", &filter],
            cases.len(),
            || publish_all(&broker, dir.path(), &messages),
        );
        assert_code(&out, 0);
        let printed: Vec<Value> = stdout(&out)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}")))
            .collect();
        let expected: Vec<Value> = cases.into_iter().map(|(_, value)| value).collect();
        assert_eq!(printed, expected, "{codec}: {}", stderr(&out));
    }
}

#[test]
fn cbor_and_msgpack_we_encode_are_read_by_python() {
    needs_references!();
    let document = r#"{"device":"esp-1","temp":21.5,"n":-7,"big":18446744073709551615,"ok":true,"none":null,"l":[1,"x"]}"#;
    for (codec, decode) in [
        ("cbor", "import cbor2\ndecode = cbor2.loads"),
        ("msgpack", "import msgpack\ndecode = msgpack.unpackb"),
    ] {
        let broker = Broker::start();
        let out = received(&broker, &["-t", "dev/1", "-F", "%x"], 1, || {
            let out = run_on(
                &broker,
                &[
                    "pub", "-t", "dev/1", "-q", "1", "--encode", codec, "-m", document,
                ],
            );
            assert_code(&out, 0);
        });
        assert_code(&out, 0);
        let script = format!(
            "import json, sys\n{decode}\nprint(json.dumps(decode(bytes.fromhex(sys.stdin.read().strip()))))"
        );
        let read: Value =
            serde_json::from_str(&python(&script, stdout(&out).as_bytes())).expect("JSON");
        let sent: Value = serde_json::from_str(document).expect("JSON");
        assert_eq!(read, sent, "{codec}");
    }
}

const PROTO: &str = r#"syntax = "proto3";
package acme;
import "place.proto";
enum Unit { UNIT_UNSPECIFIED = 0; CELSIUS = 1; FAHRENHEIT = 2; }
message Reading {
  string sensor_id = 1;
  double value = 2;
  Unit unit = 3;
  int64 at_ms = 4;
  bytes raw = 5;
  repeated uint32 history = 6;
  common.Place place = 7;
  bool ok = 8;
  sint32 delta = 9;
  uint64 counter = 10;
}
"#;

const PLACE_PROTO: &str = r#"syntax = "proto3";
package common;
message Place { string room = 1; int32 floor = 2; }
"#;

/// A folder with `acme.proto` and, in `include/`, the `place.proto` it imports.
fn protos() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("acme.proto"), PROTO).expect("write");
    std::fs::create_dir(dir.path().join("include")).expect("mkdir");
    std::fs::write(dir.path().join("include/place.proto"), PLACE_PROTO).expect("write");
    dir
}

fn protoc(dir: &Path, mode: &str, input: &[u8]) -> Vec<u8> {
    let out = Command::new("protoc")
        .current_dir(dir)
        .args([mode, "-I.", "-Iinclude", "acme.proto"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(input)?;
            child.wait_with_output()
        })
        .expect("protoc (.ci/run installs protobuf-compiler)");
    assert!(
        out.status.success(),
        "protoc {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn protobuf_from_the_users_proto_round_trips_with_protoc() {
    needs_references!();
    let dir = protos();
    let text = br#"sensor_id: "s-1" value: 21.5 unit: CELSIUS at_ms: 1796300000123
raw: "\001\002\377" history: [3, 1, 4] place { room: "lab" floor: -2 } ok: true delta: -5
counter: 18446744073709551615"#;
    let encoded = protoc(dir.path(), "--encode=acme.Reading", text);
    let proto = dir.path().join("acme.proto");
    let include = dir.path().join("include");
    let (proto, include) = (
        proto.to_str().expect("path"),
        include.to_str().expect("path"),
    );
    let broker = Broker::start();
    let out = received(
        &broker,
        &[
            "-t",
            "sensors/#",
            "--decode",
            "sensors/+/raw=protobuf:acme.Reading",
            "--proto",
            proto,
            "--proto-path",
            include,
        ],
        1,
        || publish_all(&broker, dir.path(), &[("sensors/1/raw", encoded.clone())]),
    );
    assert_code(&out, 0);
    let printed = stdout(&out);
    // The protobuf JSON mapping: the .proto's field names, enums by name, 64-bit integers as
    // strings, bytes in base64, fields at their default shown.
    let value: Value = serde_json::from_str(printed.trim()).expect("JSON");
    assert_eq!(
        value,
        json!({"sensor_id": "s-1", "value": 21.5, "unit": "CELSIUS", "at_ms": "1796300000123",
               "raw": "AQL/", "history": [3, 1, 4], "place": {"room": "lab", "floor": -2},
               "ok": true, "delta": -5, "counter": "18446744073709551615"}),
        "{printed}"
    );
    assert!(
        printed.starts_with(r#"{"sensor_id":"s-1","value":21.5"#),
        "{printed}"
    );
    // Back: what we printed, encoded by us, is what protoc encoded (protoc reads both the same).
    let again = received(&broker, &["-t", "sensors/2", "-F", "%x"], 1, || {
        let out = run_on(
            &broker,
            &[
                "pub",
                "-t",
                "sensors/2",
                "-q",
                "1",
                "--encode",
                "protobuf:acme.Reading",
                "--proto",
                proto,
                "--proto-path",
                include,
                "-m",
                printed.trim(),
            ],
        );
        assert_code(&out, 0);
    });
    let ours = unhex(stdout(&again).trim());
    assert_eq!(
        String::from_utf8_lossy(&protoc(dir.path(), "--decode=acme.Reading", &ours)),
        String::from_utf8_lossy(&protoc(dir.path(), "--decode=acme.Reading", &encoded)),
    );
}

/// A Sparkplug session from Tahu's encoder: BIRTHs with aliases, DATA with aliases only, a
/// sequence gap, a DEATH of another session.
fn tahu_session() -> Vec<(&'static str, Vec<u8>)> {
    let payloads = [
        json!({"timestamp": 1796300000000u64, "seq": 0, "metrics": [
            {"name": "bdSeq", "type": "UInt64", "value": 7},
            {"name": "Temperature", "alias": 1, "type": "Float", "value": 20.5},
            {"name": "Offset", "alias": 2, "type": "Int8", "value": -5},
            {"name": "Table", "alias": 3, "type": "DataSet", "value": {"numOfColumns": 2,
                "types": ["Int32", "String"], "columns": ["id", "label"],
                "rows": [[1, "a"], [-2, "b"]]}},
            {"name": "Level", "alias": 4, "type": "Double", "value": 0.5, "properties": {
                "engUnit": {"type": "String", "value": "m"},
                "limits": {"type": "PropertySet", "value": {
                    "high": {"type": "Double", "value": 2.5}}}}}]}),
        json!({"timestamp": 1796300000100u64, "seq": 1, "metrics": [
            {"name": "Pump/Speed", "alias": 10, "type": "UInt16", "value": 1200}]}),
        json!({"timestamp": 1796300001000u64, "seq": 2, "metrics": [
            {"alias": 1, "type": "Float", "value": 21.5},
            {"alias": 2, "type": "Int8", "value": -7}]}),
        json!({"timestamp": 1796300002000u64, "seq": 5, "metrics": [
            {"alias": 10, "type": "UInt16", "value": 1300}]}),
        json!({"timestamp": 1796300003000u64, "metrics": [
            {"name": "bdSeq", "type": "UInt64", "value": 6}]}),
    ];
    let topics = [
        "spBv1.0/Plant/NBIRTH/edge-1",
        "spBv1.0/Plant/DBIRTH/edge-1/pump",
        "spBv1.0/Plant/NDATA/edge-1",
        "spBv1.0/Plant/DDATA/edge-1/pump",
        "spBv1.0/Plant/NDEATH/edge-1",
    ];
    let requests: Vec<Value> = payloads.iter().map(|p| json!({"encode": p})).collect();
    topics
        .into_iter()
        .zip(tahu(&requests))
        .map(|(topic, encoded)| (topic, unhex(&encoded)))
        .collect()
}

#[test]
fn sparkplug_data_from_tahu_prints_names_from_the_birth() {
    needs_references!();
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let session = tahu_session();
    let out = received(
        &broker,
        &["-t", "spBv1.0/#", "--decode", "sparkplug", "--json"],
        5,
        || publish_all(&broker, dir.path(), &session),
    );
    assert_code(&out, 0);
    let lines = json_lines(&out);
    let metric = |line: usize, index: usize| lines[line]["payload"]["metrics"][index].clone();
    assert_eq!(lines[0]["codec"], "sparkplug");
    assert_eq!(
        metric(0, 3)["value"],
        json!({"columns": ["id", "label"], "types": ["Int32", "String"],
               "rows": [[1, "a"], [-2, "b"]]})
    );
    // Properties as Tahu reads them: each with its type.
    assert_eq!(
        metric(0, 4)["properties"],
        json!({"engUnit": {"type": "String", "value": "m"},
               "limits": {"type": "PropertySet", "value": {
                   "high": {"type": "Double", "value": 2.5}}}})
    );
    // NDATA and DDATA carry aliases only: the names come from the NBIRTH and the DBIRTH.
    assert_eq!(
        metric(2, 0),
        json!({"name": "Temperature", "alias": 1, "type": "Float", "value": 21.5})
    );
    assert_eq!(
        metric(2, 1),
        json!({"name": "Offset", "alias": 2, "type": "Int8", "value": -7})
    );
    assert_eq!(metric(3, 0)["name"], "Pump/Speed");
    assert_eq!(metric(3, 0)["value"], 1300);
    assert_eq!(
        lines[3]["sparkplug"],
        json!({"type": "DDATA", "seq": 5, "expected_seq": 3})
    );
    assert_eq!(
        lines[4]["sparkplug"],
        json!({"type": "NDEATH", "bdSeq": 6, "bdSeq_matches_birth": false})
    );
    let err = stderr(&out);
    assert!(
        err.contains("spBv1.0/Plant/DDATA/edge-1/pump: seq 5, expected 3"),
        "{err}"
    );
    assert!(
        err.contains("NDEATH with bdSeq 6, but its BIRTH had 7"),
        "{err}"
    );
}

#[test]
fn sparkplug_we_encode_is_read_by_tahu_and_a_replay_uses_the_births_aliases() {
    needs_references!();
    let broker = Broker::start();
    let birth = r#"{"metrics":[{"name":"Temperature","alias":1,"type":"Float","value":21.5,"properties":{"engUnit":{"type":"String","value":"C"},"quality":{"value":192}}},{"name":"Offset","type":"Int8","value":-5},{"name":"Speeds","type":"UInt16","value":1200},{"name":"Motor","type":"Template","value":{"version":"2","template_ref":"MotorType","is_definition":false,"parameters":[{"name":"rpm","type":"UInt32","value":1500}],"metrics":[{"name":"on","type":"Boolean","value":true}]}}]}"#;
    let out = received(&broker, &["-t", "spBv1.0/#", "-F", "%x"], 1, || {
        let out = run_on(
            &broker,
            &[
                "pub",
                "-t",
                "spBv1.0/G/NBIRTH/E",
                "-q",
                "1",
                "--encode",
                "sparkplug",
                "-m",
                birth,
            ],
        );
        assert_code(&out, 0);
    });
    let decoded: Value =
        serde_json::from_str(&tahu(&[json!({"decode": stdout(&out).trim()})])[0]).expect("JSON");
    assert_eq!(decoded["seq"], 0, "{decoded}");
    assert!(decoded["timestamp"].as_u64().is_some(), "{decoded}");
    let metrics = decoded["metrics"].as_array().expect("metrics");
    let named = |name: &str| {
        metrics
            .iter()
            .find(|metric| metric["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {decoded}"))
            .clone()
    };
    assert_eq!(named("bdSeq")["type"], "UInt64");
    assert_eq!(named("Temperature")["alias"], 1);
    assert_eq!(named("Temperature")["value"], 21.5);
    assert_eq!(named("Offset")["value"], -5);
    assert_eq!(named("Offset")["type"], "Int8");
    assert_eq!(
        named("Temperature")["properties"],
        json!({"engUnit": {"type": "String", "value": "C"},
               "quality": {"type": "Int64", "value": 192}})
    );
    let motor = named("Motor")["value"].clone();
    assert_eq!(
        (
            &motor["version"],
            &motor["templateRef"],
            &motor["isDefinition"]
        ),
        (&json!("2"), &json!("MotorType"), &json!(false)),
        "{motor}"
    );
    assert_eq!(
        motor["parameters"],
        json!([{"name": "rpm", "type": "UInt32", "value": 1500}])
    );
    assert_eq!(motor["metrics"][0]["name"], "on");
    assert_eq!(motor["metrics"][0]["value"], true);

    // A capture of a BIRTH and DATA by name, replayed: the DATA goes out by alias, with its seq.
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.jsonl");
    std::fs::write(
        &capture,
        format!(
            "{}\n{}\n",
            json!({"topic": "spBv1.0/G/NBIRTH/E", "codec": "sparkplug",
                   "payload": {"timestamp": 5, "seq": 0, "metrics": [
                       {"name": "Temperature", "alias": 1, "type": "Float", "value": 20}]}}),
            json!({"topic": "spBv1.0/G/NDATA/E", "codec": "sparkplug",
                   "payload": {"timestamp": 6, "metrics": [
                       {"name": "Temperature", "value": 22.5}]}}),
        ),
    )
    .expect("write");
    let out = received(&broker, &["-t", "spBv1.0/G/NDATA/E", "-F", "%x"], 1, || {
        let out = run_on(
            &broker,
            &["pub", "--replay", capture.to_str().expect("path")],
        );
        assert_code(&out, 0);
    });
    let data: Value =
        serde_json::from_str(&tahu(&[json!({"decode": stdout(&out).trim()})])[0]).expect("JSON");
    assert_eq!(
        data,
        json!({"timestamp": 6, "seq": 1, "metrics": [
            {"alias": 1, "type": "Float", "value": 22.5}]}),
    );
}

#[test]
fn rebirth_asks_an_edge_node_seen_only_by_its_data() {
    needs_references!();
    let broker = Broker::start();
    let data = unhex(
        &tahu(&[json!({"encode": {"timestamp": 1, "seq": 9, "metrics": [
        {"alias": 4, "type": "Double", "value": 1.5}]}})])[0],
    );
    let commands = Background::sub(
        &broker,
        &["-t", "spBv1.0/G/NCMD/E", "-F", "%x", "-C", "1", "-W", "20s"],
    );
    let watcher = Background::sub(
        &broker,
        &[
            "-t",
            "spBv1.0/G/NDATA/#",
            "--decode",
            "sparkplug",
            "--rebirth",
            "-C",
            "1",
            "-W",
            "20s",
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    publish_all(&broker, dir.path(), &[("spBv1.0/G/NDATA/E", data)]);
    let watched = watcher.finish();
    assert_code(&watched, 0);
    assert!(
        stderr(&watched)
            .contains("no BIRTH seen for spBv1.0/G/E: names unknown; --rebirth asks for it"),
        "{}",
        stderr(&watched)
    );
    // Unnamed, the metric still prints, with its alias and value.
    assert!(
        stdout(&watched).contains(r#"{"alias":4,"type":"Double","value":1.5}"#),
        "{}",
        stdout(&watched)
    );
    let command = commands.finish();
    assert_code(&command, 0);
    let asked: Value =
        serde_json::from_str(&tahu(&[json!({"decode": stdout(&command).trim()})])[0])
            .expect("JSON");
    assert_eq!(asked["metrics"][0]["name"], "Node Control/Rebirth");
    assert_eq!(asked["metrics"][0]["type"], "Boolean");
    assert_eq!(asked["metrics"][0]["value"], true);
}

#[test]
fn auto_decodes_sparkplug_and_json_and_leaves_text_alone() {
    needs_references!();
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let birth = unhex(
        &tahu(&[json!({"encode": {"timestamp": 1, "seq": 0, "metrics": [
        {"name": "On", "alias": 1, "type": "Boolean", "value": true}]}})])[0],
    );
    let out = received(&broker, &["-t", "#", "--decode", "auto", "-v"], 4, || {
        publish_all(
            &broker,
            dir.path(),
            &[
                ("spBv1.0/G/NBIRTH/E", birth),
                (
                    "spBv1.0/STATE/scada",
                    br#"{"online": true, "timestamp": 5}"#.to_vec(),
                ),
                ("room/1", br#"{ "t" : 21.5 }"#.to_vec()),
                ("led", b"1 on".to_vec()),
            ],
        )
    });
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "spBv1.0/G/NBIRTH/E {\"timestamp\":1,\"seq\":0,\"metrics\":[{\"name\":\"On\",\"alias\":1,\"type\":\"Boolean\",\"value\":true}]}\n\
         spBv1.0/STATE/scada {\"online\":true,\"timestamp\":5}\n\
         room/1 {\"t\":21.5}\n\
         led 1 on\n"
    );
    assert_eq!(stderr(&out), "", "auto says nothing of what is not JSON");
}

/// Payloads a codec cannot read: printed as they came, a notice names the topic and why, the
/// run goes on and ends with 0.
#[test]
fn bad_payloads_are_printed_as_they_came_with_a_notice() {
    let dir = protos();
    let proto = dir.path().join("acme.proto");
    let include = dir.path().join("include");
    let broker = Broker::start();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "cbor/truncated",
            vec![0xa1, 0x61, 0x61],
            "cbor/truncated: not cbor (truncated)",
        ),
        (
            "cbor/trailing",
            vec![0x01, 0x02],
            "not cbor (1 bytes follow the CBOR item (of 2))",
        ),
        (
            "msgpack/truncated",
            vec![0x92, 0x01],
            "not msgpack (truncated)",
        ),
        (
            "json/not",
            b"{oops".to_vec(),
            "json/not: not json (key must be a string",
        ),
        (
            "proto/wrong-type",
            b"\x0f".to_vec(),
            "not protobuf:acme.Reading (invalid wire type",
        ),
        (
            "spBv1.0/G/NDATA/E",
            b"\xff\xff".to_vec(),
            "spBv1.0/G/NDATA/E: not sparkplug",
        ),
        (
            "spBv1.0/STATE/h",
            b"online".to_vec(),
            "not sparkplug (a STATE payload is JSON",
        ),
        ("spBv1.0/G/NOPE", b"".to_vec(), "not a Sparkplug B topic"),
    ];
    let out = received(
        &broker,
        &[
            "-t",
            "#",
            "-v",
            "--decode",
            "cbor/+=cbor",
            "--decode",
            "msgpack/+=msgpack",
            "--decode",
            "json/+=json",
            "--decode",
            "proto/+=protobuf:acme.Reading",
            "--proto",
            proto.to_str().expect("path"),
            "--proto-path",
            include.to_str().expect("path"),
            "--decode",
            "spBv1.0/#=sparkplug",
        ],
        cases.len(),
        || {
            let messages: Vec<(&str, Vec<u8>)> = cases
                .iter()
                .map(|(topic, payload, _)| (*topic, payload.clone()))
                .collect();
            publish_all(&broker, dir.path(), &messages);
        },
    );
    assert_code(&out, 0);
    let err = stderr(&out);
    for (topic, payload, notice) in &cases {
        assert!(err.contains(notice), "{topic}: no {notice:?} in:\n{err}");
        let mut line = format!("{topic} ").into_bytes();
        line.extend_from_slice(payload);
        line.push(b'\n');
        assert!(
            out.stdout
                .windows(line.len())
                .any(|window| window == line.as_slice()),
            "{topic}: not printed as it came"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// An alias the BIRTH did not name: the metric prints with its alias, and a notice says so
/// once.
#[test]
fn an_alias_the_birth_did_not_name_is_reported_once() {
    needs_references!();
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let encoded = tahu(&[
        json!({"encode": {"timestamp": 1, "seq": 0, "metrics": [
            {"name": "A", "alias": 1, "type": "Int32", "value": 1}]}}),
        json!({"encode": {"timestamp": 2, "seq": 1, "metrics": [
            {"alias": 9, "type": "Int32", "value": -2}]}}),
        json!({"encode": {"timestamp": 3, "seq": 2, "metrics": [
            {"alias": 9, "type": "Int32", "value": -3}]}}),
    ]);
    let messages: Vec<(&str, Vec<u8>)> = ["NBIRTH", "NDATA", "NDATA"]
        .iter()
        .zip(&encoded)
        .map(|(kind, hex_text)| {
            let topic: &'static str = Box::leak(format!("spBv1.0/G/{kind}/E").into_boxed_str());
            (topic, unhex(hex_text))
        })
        .collect();
    let out = received(
        &broker,
        &["-t", "spBv1.0/#", "--decode", "sparkplug"],
        3,
        || publish_all(&broker, dir.path(), &messages),
    );
    assert_code(&out, 0);
    let err = stderr(&out);
    assert_eq!(
        err.matches("alias 9 is not in the BIRTH of spBv1.0/G/E")
            .count(),
        1,
        "{err}"
    );
    assert!(
        stdout(&out).contains(r#"{"alias":9,"type":"Int32","value":-3}"#),
        "{}",
        stdout(&out)
    );
}

#[test]
fn rr_decodes_the_answer() {
    let broker = Broker::start();
    // The device: sees the request (rr has subscribed to the answer by then), answers in CBOR.
    let device = Background::sub(&broker, &["-t", "dev/cmd", "-C", "1", "-W", "20s"]);
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), [0xa1, 0x62, b'o', b'n', 0xf5]).expect("write");
    let words = argv("-t dev/cmd -e dev/state -m status -W 20s --decode cbor --json");
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let rr = Background::start(&command("rr", &broker, &words));
    let request = device.finish();
    assert_eq!(stdout(&request), "status\n");
    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "dev/state",
            "-f",
            file.path().to_str().expect("path"),
        ],
    );
    assert_code(&out, 0);
    let out = rr.finish();
    assert_code(&out, 0);
    let line: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(line["codec"], "cbor");
    assert_eq!(line["payload"], json!({"on": true}));
}
