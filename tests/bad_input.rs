//! Bad input, one table: every case ends with its documented exit code and a one-line error
//! that says what is wrong; never a panic, never a hang. Most are caught before connecting
//! (exit 2, with nothing listening on the port so that reaching the network would show);
//! the rest need a server that misbehaves in the way the case describes.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::thread;
use std::time::{Duration, Instant};

use common::pki::Pki;
use common::*;
use rumqttc::Packet;

/// What answers on the port.
#[derive(Clone, Copy)]
enum Server {
    /// Nothing (port 9 on loopback): input must be refused before connecting.
    None,
    /// mosquitto with `max_packet_size 1000`.
    SmallPackets,
    /// Reads CONNECT, then hangs up.
    ClosesMidConnect,
    /// Accepts TCP, never answers.
    Silent,
    /// A web server.
    NotMqtt,
    /// Reads CONNECT, answers with these bytes, and keeps the connection open.
    Sends(&'static [u8]),
    /// A plain mosquitto (for a ws:// URL: `PORT` in the arguments is its port).
    Mosquitto,
    /// mosquitto holding this retained payload on topic `bad` (for payloads a codec cannot
    /// read: printed as they came, a notice, exit 0).
    Retained(&'static [u8]),
}

struct Case {
    args: Vec<String>,
    stdin: &'static [u8],
    server: Server,
    code: i32,
    needle: String,
}

fn case(args: &[&str], code: i32, needle: &str) -> Case {
    Case {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        stdin: b"",
        server: Server::None,
        code,
        needle: needle.to_string(),
    }
}

/// A case written as a shell line (`argv` splits it).
fn line_case(line: &str, code: i32, needle: &str) -> Case {
    let words = common::argv::argv(line);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    case(&words, code, needle)
}

fn with_stdin(mut case: Case, stdin: &'static [u8]) -> Case {
    case.stdin = stdin;
    case
}

fn on(server: Server, mut case: Case) -> Case {
    case.server = server;
    case
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

/// Runs `case` against its server; the server lives as long as the run.
fn run_case(case: &Case) -> Output {
    let (host, port, _keep): (String, u16, Option<Box<dyn std::any::Any>>) = match case.server {
        Server::None => ("127.0.0.1".into(), 9, None),
        Server::SmallPackets => {
            let broker = Broker::with_config("allow_anonymous true\nmax_packet_size 1000\n");
            ("127.0.0.1".into(), broker.port, Some(Box::new(broker)))
        }
        Server::ClosesMidConnect => {
            let (port, handle) = fake_broker(|client| {
                assert!(matches!(client.expect(), Packet::Connect(_)));
            });
            ("127.0.0.1".into(), port, Some(Box::new(handle)))
        }
        Server::Silent => {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            ("127.0.0.1".into(), port, Some(Box::new(listener)))
        }
        Server::NotMqtt => {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let web = thread::spawn(move || {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut request = [0u8; 256];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            });
            ("127.0.0.1".into(), port, Some(Box::new(web)))
        }
        Server::Sends(reply) => {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let server = thread::spawn(move || {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut connect = [0u8; 256];
                let _ = stream.read(&mut connect);
                let _ = stream.write_all(reply);
                // Stay open until the client leaves: it must not wait for more.
                let _ = stream.read_to_end(&mut Vec::new());
            });
            ("127.0.0.1".into(), port, Some(Box::new(server)))
        }
        Server::Mosquitto => {
            let broker = Broker::start();
            ("127.0.0.1".into(), broker.port, Some(Box::new(broker)))
        }
        Server::Retained(payload) => {
            let broker = Broker::start();
            let retained = run_args(
                &command("pub", &broker, &["-t", "bad", "-r", "-s"]),
                payload,
            );
            assert_code(&retained, 0);
            ("127.0.0.1".into(), broker.port, Some(Box::new(broker)))
        }
    };
    let mut args = vec![case.args[0].clone()];
    // Flags given by the case (e.g. -L) come after these, so they win where they overlap.
    let given = |flag: &str| case.args.iter().any(|arg| arg == flag);
    if !given("-L") && !given("-h") {
        args.extend(["-h".to_string(), host]);
        if !given("-p") {
            args.extend(["-p".to_string(), port.to_string()]);
        }
    }
    args.extend(
        case.args[1..]
            .iter()
            .map(|arg| arg.replace("PORT", &port.to_string())),
    );
    run_args(&args, case.stdin)
}

/// A load balancer's answer to bytes that are not HTTP (111 bytes: long enough to fill the
/// "PUBACK" its first bytes would announce).
const ELB_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const HTTP_WITH_BODY: &[u8] = b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 162\r\n\r\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p><hr><address>nginx</address></body></html>\n";

#[test]
fn bad_input_table() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, content: &[u8]| {
        let file = dir.path().join(name);
        std::fs::write(&file, content).expect("write");
        path(&file)
    };
    let empty = write("empty", b"");
    let garbage_pem = write(
        "garbage.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let not_pem = write("not.pem", b"hello");
    let bad_capture = write("bad.jsonl", b"{\"topic\": \"a\", \"qos\": 7}\n");
    let bad_proto = write(
        "bad.proto",
        b"syntax = \"proto3\";\nmessage A {\n  int32 x = 1\n}\n",
    );
    let proto = write(
        "reading.proto",
        b"syntax = \"proto3\";\npackage acme;\nmessage Reading { int32 level = 1; }\n",
    );
    let coded_capture = write(
        "coded.jsonl",
        b"{\"topic\": \"a\", \"codec\": \"cbor\", \"payload\": {\"x\": 1}}\n{\"topic\": \"a\", \"codec\": \"nope\", \"payload\": 1}\n",
    );
    let not_json = write("notjson.jsonl", b"topic=a\n");
    let no_payload = write(
        "nopayload.jsonl",
        b"{\"topic\": \"a\", \"payload\": \"\"}\n{\"topic\": \"a\"}\n",
    );
    let two_payloads = write(
        "twopayloads.jsonl",
        b"{\"topic\": \"a\", \"payload\": \"x\", \"payload_hex\": \"78\"}\n",
    );
    let big = write("big.bin", &[b'x'; 5000]);
    let binary = write("binary.bin", b"\xff\xfe");
    let directory = path(dir.path());
    let long_topic = "t".repeat(65_536);
    let (cert, server_key) = (pki.arg("client.pem"), pki.arg("server.key"));

    let oversize_third_line: &'static [u8] = Box::leak(
        format!("one\ntwo\n{}\nfour\n", "x".repeat(1500))
            .into_bytes()
            .into_boxed_slice(),
    );
    let cases = vec![
        // URLs and ports.
        case(
            &["pub", "-L", "http://host/t", "-m", "x"],
            2,
            "unknown scheme 'http'",
        ),
        case(&["pub", "-L", "not a url", "-m", "x"], 2, "invalid URL"),
        case(
            &["pub", "-L", "mqtt://", "-t", "a", "-m", "x"],
            2,
            "invalid URL",
        ),
        case(
            &["pub", "-L", "mqtt://127.0.0.1:0/t", "-m", "x"],
            2,
            "port 0",
        ),
        case(
            &["pub", "-L", "mqtt://127.0.0.1:99999/t", "-m", "x"],
            2,
            "invalid URL",
        ),
        case(
            &["pub", "-L", "mqtt://u:hunter2@/t", "-m", "x"],
            2,
            "invalid URL 'mqtt://***@/t'",
        ),
        case(
            &["pub", "-L", "mqtt://127.0.0.1:9/a%00b", "-m", "x"],
            2,
            "NUL",
        ),
        case(
            &["pub", "-p", "0", "-t", "a", "-m", "x"],
            2,
            "0 is not in 1..=65535",
        ),
        case(&["pub", "-p", "65536", "-t", "a", "-m", "x"], 2, "65536"),
        case(
            &["pub", "-p", "http", "-t", "a", "-m", "x"],
            2,
            "invalid value 'http'",
        ),
        case(
            &["pub", "-L", "garbage", "-m", "x"],
            2,
            "a URL looks like mqtt://",
        ),
        case(
            &["pub", "-h", "localhost:1883", "-t", "a", "-m", "x"],
            2,
            "did you mean -h localhost -p 1883?",
        ),
        case(
            &["pub", "-h", "[::1]:1883", "-t", "a", "-m", "x"],
            2,
            "did you mean -h ::1 -p 1883?",
        ),
        case(
            &["sub", "-h", "mqtt://broker.example", "-t", "a"],
            2,
            "use -L mqtt://broker.example",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--ws-path", "/mqtt"],
            2,
            "--ws-path needs a ws://",
        ),
        // Topics and filters.
        case(&["pub", "-t", "a/+", "-m", "x"], 2, "wildcards"),
        case(&["pub", "-t", "a/#", "-m", "x"], 2, "wildcards"),
        case(&["pub", "-t", "", "-m", "x"], 2, "empty"),
        case(&["pub", "-t", &long_topic, "-m", "x"], 2, "65535"),
        case(&["pub", "-m", "x"], 2, "no topic"),
        case(&["sub", "-t", "a/#/b"], 2, "'#' must be"),
        case(&["sub", "-t", "a+"], 2, "'+' must be"),
        case(&["sub", "-t", "a", "-T", "b/#/c"], 2, "'#' must be"),
        case(&["sub"], 2, "no topic"),
        case(
            &["pub", "-t", "a", "-m", "x", "--will-topic", "w/#"],
            2,
            "--will-topic",
        ),
        // QoS values and counts.
        case(
            &["pub", "-t", "a", "-m", "x", "-q", "3"],
            2,
            "invalid value '3' for '--qos <QOS>': QoS is 0, 1 or 2",
        ),
        case(
            &["sub", "-t", "a", "--will-topic", "w", "--will-qos", "3"],
            2,
            "invalid value '3' for '--will-qos <WILL_QOS>': QoS is 0, 1 or 2",
        ),
        case(
            &["sub", "-V", "5", "-t", "a", "--retain-handling", "3"],
            2,
            "retain handling is 0 or always (send), 1 or new (only for a new subscription), 2 or never",
        ),
        case(
            &["pub", "-t", "a", "--msg", "x"],
            2,
            "tip: the message is -m/--message",
        ),
        case(
            &["pub", "-L", "mqtt://::1:1883/t", "-m", "x"],
            2,
            "an IPv6 address is written in brackets, as mqtt://[::1]:1883",
        ),
        case(&["pub", "-t", "a", "-m", "x", "-q", "-1"], 2, "-1"),
        case(&["sub", "-t", "a", "-q", "one"], 2, "invalid value 'one'"),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "--will-topic",
                "w",
                "--will-qos",
                "3",
            ],
            2,
            "3",
        ),
        case(&["sub", "-t", "a", "-C", "0"], 2, "0"),
        case(
            &["pub", "-t", "a", "-m", "x", "--max-inflight", "0"],
            2,
            "0",
        ),
        // Durations.
        case(
            &["pub", "-t", "a", "-m", "x", "--interval", "soon"],
            2,
            "invalid duration",
        ),
        case(&["sub", "-t", "a", "-W=-1s"], 2, "invalid duration"),
        case(
            &["sub", "-t", "a", "-W", "0s"],
            2,
            "-W must be longer than 0",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--connect-timeout", "0s"],
            2,
            "--connect-timeout",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--reconnect-delay", "1e300"],
            2,
            "invalid duration",
        ),
        case(&["pub", "-t", "a", "-m", "x", "-k", "70000"], 2, "70000"),
        // Files.
        case(
            &["pub", "-t", "a", "-f", "/nonexistent/file"],
            2,
            "cannot read /nonexistent/file",
        ),
        case(&["pub", "-t", "a", "-f", &directory], 2, "cannot read"),
        case(&["pub", "--replay", &empty], 2, "no messages"),
        case(
            &["pub", "--replay", &bad_capture],
            2,
            "line 1: \"qos\" must be 0, 1 or 2",
        ),
        case(&["pub", "--replay", &not_json], 2, "line 1: not JSON"),
        case(&["pub", "--replay", &no_payload], 2, "line 2: no payload"),
        case(
            &["pub", "--replay", &two_payloads],
            2,
            "line 1: more than one of payload",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-u",
                "u",
                "--password-file",
                &directory,
            ],
            2,
            "is not a regular file",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-u",
                "u",
                "--password-file",
                "/nonexistent/password",
            ],
            2,
            "cannot read password file /nonexistent/password",
        ),
        // Limits before bytes.
        case(
            &["pub", "-t", "a", "-m", "x", "-u", "u", "-P", &long_topic],
            2,
            "the password is 65536 bytes",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "-u", &long_topic],
            2,
            "the user name is 65536 bytes",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "--will-topic",
                "w",
                "--will-payload",
                &long_topic,
            ],
            2,
            "the will payload (--will-payload) is 65536 bytes",
        ),
        case(
            &["pub", "-t", "a", "-f", "/dev/zero"],
            2,
            "larger than the largest MQTT packet",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--repeat", "0"],
            2,
            "needs --interval",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--proxy-insecure"],
            2,
            "--proxy-cacert and --proxy-insecure are for an https:// proxy",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-u",
                "u",
                "--password-file",
                &empty,
            ],
            2,
            "is empty",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--cafile", &empty],
            2,
            "no PEM certificate",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--cafile", &garbage_pem],
            2,
            &garbage_pem,
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--cafile", &not_pem],
            2,
            "no PEM certificate",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "--cert",
                &cert,
                "--key",
                &server_key,
            ],
            2,
            "does not go with the certificate",
        ),
        case(
            &[
                "pub", "-t", "a", "-m", "x", "--cert", &cert, "--key", &not_pem,
            ],
            2,
            &not_pem,
        ),
        case(&["pub", "-t", "a", "-m", "x", "--cert", &cert], 2, "--key"),
        case(
            &["pub", "-t", "a", "-m", "x", "--capath", "/nonexistent"],
            2,
            "/nonexistent",
        ),
        // Standard input closed or empty.
        with_stdin(
            case(
                &["pub", "-t", "a", "-s"],
                2,
                "standard input (-s) is empty or closed",
            ),
            b"",
        ),
        // Combinations.
        case(&["pub", "-t", "a"], 2, "no message"),
        case(
            &["pub", "-t", "a", "-m", "x", "-f", "/etc/hostname"],
            2,
            "cannot be used with",
        ),
        case(
            &["pub", "-t", "a", "-l", "--repeat", "3"],
            2,
            "--repeat does not go with --lines",
        ),
        case(&["pub", "-t", "a", "-m", "x", "-c"], 2, "needs --id"),
        case(&["pub", "-t", "a", "-m", "x", "-i", ""], 2, "client id"),
        case(
            &["pub", "-t", "a", "-m", "x", "-P", "hunter2"],
            2,
            "needs a user name",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-P",
                "hunter2",
                "--password-file",
                &empty,
            ],
            2,
            "give the password once",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--will-qos", "1"],
            2,
            "need --will-topic",
        ),
        case(&["pub", "-t", "a", "-m", "x", "-V", "4.0"], 2, "4.0"),
        case(
            &["pub", "-t", "a", "-m", "x", "--content-type", "a/b"],
            2,
            "add -V 5",
        ),
        case(
            &[
                "pub",
                "-V",
                "5",
                "-t",
                "a",
                "-f",
                &binary,
                "--payload-format",
                "utf8",
            ],
            2,
            "not UTF-8",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--tls", "--no-tls"],
            2,
            "cannot be used with",
        ),
        case(
            &["pub", "-L", "mqtts://127.0.0.1:9/a", "-m", "x", "--no-tls"],
            2,
            "--no-tls contradicts",
        ),
        case(
            &["sub", "-t", "a", "--match", "(unclosed"],
            2,
            "not a valid regular expression",
        ),
        case(&["sub", "-t", "a", "-F", "%z"], 2, "unknown format code %z"),
        case(
            &["pub", "-t", "a", "-m", "x", "--psk", "00ff"],
            2,
            "TLS-PSK is not supported",
        ),
        case(
            &["sub", "-t", "a", "--psk-identity", "dev"],
            2,
            "TLS-PSK is not supported",
        ),
        case(
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-V",
                "31",
                "-i",
                "twenty-four-characters!!",
            ],
            2,
            "MQTT 3.1 allows client ids of 1 to 23 characters",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "-V", "3.2"],
            2,
            "'3.2' is not an MQTT version",
        ),
        case(
            &["pub", "-t", "a", "-m", "x", "--tls-keylog", "keys.log"],
            2,
            "--tls-keylog writes TLS session keys, and this connection has no TLS",
        ),
        case(&["sub", "-t", "a", "-F", "@"], 2, "-F ends with a lone @"),
        case(
            &["sub", "-t", "a", "--watch", "-F", "%t"],
            2,
            "'--watch' cannot be used with '--format <TEMPLATE>'",
        ),
        case(
            &["sub", "-t", "a", "--sort", "rate"],
            2,
            "the following required arguments were not provided",
        ),
        case(
            &["sub", "-t", "a", "--watch", "--sort", "size"],
            2,
            "invalid value 'size'",
        ),
        case(&["rr", "-t", "a", "-e", "a", "-m", "x"], 2, "same topic"),
        case(&["check", "--only", "nonsense"], 2, "nonsense"),
        case(
            &["check", "--payload-size", "300MiB"],
            2,
            "between 1 byte and 256 MiB",
        ),
        case(&["bogus"], 2, "unrecognized subcommand"),
        // Servers that misbehave.
        on(
            Server::SmallPackets,
            case(
                &["pub", "-t", "a", "-f", &big, "-q", "1", "-V", "5"],
                6,
                "over the broker's maximum packet size of 1000 bytes",
            ),
        ),
        on(
            Server::SmallPackets,
            case(
                &["pub", "-t", "a", "-f", &big, "-q", "1"],
                8,
                "a message over its maximum packet size?",
            ),
        ),
        with_stdin(
            on(
                Server::SmallPackets,
                case(
                    &["pub", "-t", "a", "-l", "-q", "1", "-V", "5"],
                    2,
                    "line 3 of standard input makes a 1511-byte packet, over the broker's maximum packet size (from its CONNACK) of 1000 bytes",
                ),
            ),
            oversize_third_line,
        ),
        // MQTT 3.1.1 has no way to refuse a QoS 0 message but dropping the connection: the
        // run fails instead of exiting 0.
        on(
            Server::SmallPackets,
            case(
                &["pub", "-t", "a", "-f", &big, "-q", "0"],
                8,
                "1 QoS 0 message(s) may not have arrived",
            ),
        ),
        with_stdin(
            on(
                Server::SmallPackets,
                case(
                    &["pub", "-t", "a", "-l", "-q", "0"],
                    8,
                    "QoS 0 message(s) may not have arrived",
                ),
            ),
            oversize_third_line,
        ),
        on(
            Server::ClosesMidConnect,
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "closed the connection before answering CONNECT",
            ),
        ),
        on(
            Server::Silent,
            case(
                &["pub", "-t", "a", "-m", "x", "--connect-timeout", "500ms"],
                3,
                "no CONNACK within 500ms",
            ),
        ),
        on(
            Server::NotMqtt,
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "not an MQTT server (it sent an HTTP reply: 'HTTP/1.1 400 Bad Request'): is this an MQTT port?",
            ),
        ),
        // A load balancer's reply: its 'H' is a PUBACK's first byte, and its 'T' a
        // remaining length the reply is long enough to fill.
        on(
            Server::Sends(ELB_400),
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "not an MQTT server (it sent an HTTP reply: 'HTTP/1.1 400 Bad Request')",
            ),
        ),
        on(
            Server::Sends(ELB_400),
            case(
                &["sub", "-t", "a", "-V", "5"],
                3,
                "not an MQTT server (it sent an HTTP reply",
            ),
        ),
        on(
            Server::Sends(HTTP_WITH_BODY),
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "'HTTP/1.0 404 Not Found'): is this an MQTT port?",
            ),
        ),
        on(
            Server::Sends(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "it sent an SSH banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'",
            ),
        ),
        on(
            Server::Sends(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]),
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "it sent a TLS alert): is this an MQTT port? It speaks TLS: try --tls",
            ),
        ),
        on(
            Server::Sends(&[
                0x16, 0x03, 0x03, 0x00, 0x4a, 0x02, 0x00, 0x00, 0x46, 0x03, 0x03,
            ]),
            case(
                &["pub", "-t", "a", "-m", "x", "-V", "5"],
                3,
                "a TLS handshake record, such as a ServerHello): is this an MQTT port? It speaks TLS: try --tls",
            ),
        ),
        on(
            Server::Sends(&[0x8f, 0x01, 0xfe, 0x00, 0x99, 0x42]),
            case(
                &["pub", "-t", "a", "-m", "x"],
                3,
                "not an MQTT server (it sent the bytes 8f 01 fe 00 99 42)",
            ),
        ),
        on(
            Server::Sends(&[0x30, 0x07, 0x00, 0x01, b'a', b'h', b'e', b'l', b'o']),
            case(
                &["sub", "-t", "a"],
                3,
                "it sent an MQTT PUBLISH packet before any CONNACK",
            ),
        ),
        on(
            Server::Mosquitto,
            case(
                &["pub", "-L", "ws://127.0.0.1:PORT", "-t", "a", "-m", "x"],
                3,
                "did not answer the WebSocket upgrade at ws://127.0.0.1:",
            ),
        ),
        // Payload codecs (--decode, --encode): refused before connecting.
        line_case(
            &format!("sub -t a --decode protobuf:A --proto '{bad_proto}'"),
            2,
            "bad.proto:4:1: expected ';' or '[', but found '}'",
        ),
        line_case(
            &format!("sub -t a --decode protobuf:acme.Nope --proto '{proto}'"),
            2,
            "no message type 'acme.Nope' in the --proto files (types: acme.Reading)",
        ),
        line_case(
            "sub -t a --decode protobuf:acme.Reading",
            2,
            "needs the .proto file that defines it: --proto FILE",
        ),
        line_case(
            "sub -t a --decode xml",
            2,
            "unknown codec 'xml' (codecs: json, cbor, msgpack, protobuf:TYPE, sparkplug, auto)",
        ),
        line_case("sub -t a --decode 'a/#/b=cbor'", 2, "--decode 'a/#/b=cbor'"),
        line_case(
            &format!("sub -t a --proto '{proto}'"),
            2,
            "--proto is read for --decode protobuf:TYPE",
        ),
        line_case(
            "sub -t a --rebirth",
            2,
            "--rebirth asks Sparkplug edge nodes for their BIRTH: add --decode sparkplug",
        ),
        line_case(
            r#"pub -t a --encode cbor -m '{"a":'"#,
            2,
            "--encode cbor: -m: not JSON: EOF while parsing a value at line 1 column 5",
        ),
        line_case(
            "pub -t a --encode auto -m 1",
            2,
            "--encode needs the codec named",
        ),
        line_case(
            &format!(
                r#"pub -t a --encode protobuf:acme.Reading --proto '{proto}' -m '{{"level": 1, "colour": 2}}'"#
            ),
            2,
            "unrecognized field name 'colour'",
        ),
        line_case(
            &format!(
                r#"pub -t a --encode protobuf:acme.Reading --proto '{proto}' -m '{{"level": "high"}}'"#
            ),
            2,
            "-m: level: invalid digit found in string",
        ),
        line_case(
            r#"pub -t spBv1.0/G/NDATA/E --encode sparkplug -m '{"metrics":[{"name":"a","type":"Int8","value":300}]}'"#,
            2,
            "-m: metrics[0].value: 300 does not fit Int8 (-128 to 127)",
        ),
        line_case(
            r#"pub -t spBv1.0/G/NDATA/E --encode sparkplug -m '{"metrics":[{"name":"a","type":"Int8","vlaue":3}]}'"#,
            2,
            "-m: metrics[0]: unknown key 'vlaue' (known: name, alias,",
        ),
        line_case(
            "pub -t plant/1 --encode sparkplug -m '{}'",
            2,
            "not a Sparkplug B topic",
        ),
        // -l lines are read as they come: the lines before a bad one are sent.
        on(
            Server::Mosquitto,
            with_stdin(
                line_case(
                    "pub -t a --encode msgpack -l",
                    2,
                    "line 2 of standard input: not JSON",
                ),
                b"{\"ok\": 1}\nnot json\n",
            ),
        ),
        line_case(
            &format!("pub --replay '{coded_capture}'"),
            2,
            "coded.jsonl line 2: nope: unknown codec 'nope'",
        ),
        // Payloads a codec cannot read: printed as they came with a notice; the run succeeds.
        on(
            Server::Retained(&[0xa1, 0x61, 0x61]),
            line_case(
                "sub -t bad -C 1 --decode cbor",
                0,
                "bad: not cbor (truncated)",
            ),
        ),
        on(
            Server::Retained(&[0x92, 0x01]),
            line_case(
                "sub -t bad -C 1 --decode msgpack",
                0,
                "bad: not msgpack (truncated)",
            ),
        ),
        on(
            Server::Retained(b"\x0f"),
            line_case(
                &format!("sub -t bad -C 1 --decode protobuf:acme.Reading --proto '{proto}'"),
                0,
                "bad: not protobuf:acme.Reading (invalid wire type",
            ),
        ),
        on(
            // level (an int32) sent as text: the wrong type.
            Server::Retained(b"\x0a\x01A"),
            line_case(
                &format!("sub -t bad -C 1 --decode protobuf:acme.Reading --proto '{proto}'"),
                0,
                "bad: not protobuf:acme.Reading (invalid wire type: LengthDelimited (expected Varint)",
            ),
        ),
        on(
            Server::Retained(b"\xff\xff"),
            line_case(
                "sub -t bad -C 1 --decode sparkplug",
                0,
                "bad: not sparkplug",
            ),
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());

    for case in &cases {
        let started = Instant::now();
        let out = run_case(case);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(case.code),
            "{:?}: exit code; stderr:\n{err}",
            case.args
        );
        assert!(
            err.contains(&case.needle),
            "{:?}: expected {:?} in:\n{err}",
            case.args,
            case.needle
        );
        assert!(
            !err.contains("panicked"),
            "{:?} panicked:\n{err}",
            case.args
        );
        assert!(
            !err.contains("hunter2"),
            "{:?} shows the password:\n{err}",
            case.args
        );
        // One error line, in one style for clap's and ours (clap's come with a usage hint after
        // it; notices may precede ours); none for a run that succeeds (a payload not decoded).
        let errors = err
            .lines()
            .filter(|line| line.starts_with("mqtt-cli: error: "))
            .count();
        assert_eq!(
            errors,
            usize::from(case.code != 0),
            "{:?}: {err}",
            case.args
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?} took {:?}: {err}",
            case.args,
            started.elapsed()
        );
    }
}

/// `-h` is the host, as in mosquitto_pub: asking for help with it says where help is.
#[test]
fn help_is_help_and_h_is_the_host() {
    for args in [
        &["-h"][..],
        &["pub", "-h"][..],
        &["sub", "-t", "a", "-h"][..],
    ] {
        let out = run(args, b"");
        assert_code(&out, 2);
        assert!(
            stderr(&out)
                .contains("tip: help is --help; -h is the broker's host, as in mosquitto_pub"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_code(&run(&["--help"], b""), 0);
}
