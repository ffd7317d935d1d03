//! Every option of mosquitto_pub/mosquitto_sub 2.0.11 (65), run with mosquitto's client and
//! with ours against the same broker where the behaviour can be compared, and classified as the
//! option table of docs/mosquitto.md says: same, different (the difference written there), n.a. (why
//! there), or a later issue. A row of that table that disagrees with this one fails.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pub,
    Sub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Plain,
    Tls,
    /// TLS presenting a certificate for broker.example.com only.
    OtherName,
    /// TLS requiring a client certificate.
    Mutual,
    /// User `me`, password `s3cret`.
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Same,
    Different,
    NotApplicable,
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Both exit 0 and deliver (pub) or print (sub) the same.
    Alike,
    /// Both deliver or print the same, exiting with (ours, one of mosquitto's).
    Exit(i32, &'static [i32]),
    /// Ours refuses before connecting (exit 2), saying this; mosquitto's outcome aside.
    Refused(&'static str),
    /// Ours alone (mosquitto's output is random or wrong): exit 0, printing this.
    Ours(&'static str),
}

struct Row {
    option: &'static str,
    tool: Tool,
    server: Server,
    /// `{topic}`, `{port}`, `{ca}`, `{capath}`, `{cert}`, `{key}`, `{file}` are filled in; the
    /// broker's address is added unless `{port}` is there.
    args: &'static [&'static str],
    stdin: &'static [u8],
    /// Messages a subscriber waits for (pub rows).
    count: usize,
    expect: Expect,
    class: Class,
}

const fn row(
    option: &'static str,
    tool: Tool,
    args: &'static [&'static str],
    expect: Expect,
    class: Class,
) -> Row {
    Row {
        option,
        tool,
        server: Server::Plain,
        args,
        stdin: b"",
        count: 1,
        expect,
        class,
    }
}

const fn on(server: Server, row: Row) -> Row {
    Row { server, ..row }
}

const fn with_stdin(stdin: &'static [u8], count: usize, row: Row) -> Row {
    Row {
        stdin,
        count,
        ..row
    }
}

use Class::*;
use Expect::*;
use Tool::*;

const M: &[&str] = &["-t", "{topic}", "-m", "x"];

const ROWS: &[Row] = &[
    // Connection, shared by both tools (run as mosquitto_pub / mqtt-cli pub).
    row(
        "-A",
        Pub,
        &["-t", "{topic}", "-m", "x", "-A", "127.0.0.2"],
        Alike,
        Same,
    ),
    on(
        Server::Tls,
        row(
            "--cafile",
            Pub,
            &["-t", "{topic}", "-m", "x", "--cafile", "{ca}"],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Tls,
        row(
            "--capath",
            Pub,
            &["-t", "{topic}", "-m", "x", "--capath", "{capath}"],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Mutual,
        row(
            "--cert",
            Pub,
            &[
                "-t", "{topic}", "-m", "x", "--cafile", "{ca}", "--cert", "{cert}", "--key",
                "{key}",
            ],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Mutual,
        row(
            "--key",
            Pub,
            &[
                "-t", "{topic}", "-m", "x", "--cafile", "{ca}", "--key", "{key}", "--cert",
                "{cert}",
            ],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Tls,
        row(
            "--ciphers",
            Pub,
            &[
                "-t",
                "{topic}",
                "-m",
                "x",
                "--cafile",
                "{ca}",
                "--ciphers",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
            Alike,
            Same,
        ),
    ),
    row(
        "-c",
        Pub,
        &["-t", "{topic}", "-m", "x", "-c", "-i", "keep-{topic}"],
        Alike,
        Same,
    ),
    row(
        "--disable-clean-session",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--disable-clean-session",
            "-i",
            "keep-{topic}",
        ],
        Alike,
        Same,
    ),
    row(
        "-d",
        Pub,
        &["-t", "{topic}", "-m", "x", "-d"],
        Alike,
        Different,
    ),
    row(
        "-D",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "-D",
            "publish",
            "content-type",
            "text/plain",
        ],
        Alike,
        Same,
    ),
    row(
        "-e",
        Pub,
        &["-t", "{topic}", "-m", "x", "-e", "reply"],
        Refused("unexpected argument '-e'"),
        NotApplicable,
    ),
    row(
        "-h",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "-h",
            "127.0.0.1",
            "-p",
            "{port}",
        ],
        Alike,
        Same,
    ),
    row("--help", Pub, &["--help"], Exit(0, &[1]), Different),
    row(
        "-i",
        Pub,
        &["-t", "{topic}", "-m", "x", "-i", "given-id"],
        Alike,
        Same,
    ),
    row(
        "-I",
        Pub,
        &["-t", "{topic}", "-m", "x", "-I", "prefix-"],
        Alike,
        Same,
    ),
    on(
        Server::OtherName,
        row(
            "--insecure",
            Pub,
            &["-t", "{topic}", "-m", "x", "--cafile", "{ca}", "--insecure"],
            Alike,
            Different,
        ),
    ),
    row(
        "-k",
        Pub,
        &["-t", "{topic}", "-m", "x", "-k", "30"],
        Alike,
        Same,
    ),
    on(
        Server::Tls,
        row(
            "--keyform",
            Pub,
            &[
                "-t",
                "{topic}",
                "-m",
                "x",
                "--cafile",
                "{ca}",
                "--keyform",
                "engine",
            ],
            Refused("OpenSSL engines are not supported"),
            NotApplicable,
        ),
    ),
    row(
        "-L",
        Pub,
        &["-L", "mqtt://127.0.0.1:{port}/{topic}", "-m", "x"],
        Alike,
        Same,
    ),
    row(
        "--nodelay",
        Pub,
        &["-t", "{topic}", "-m", "x", "--nodelay"],
        Alike,
        Same,
    ),
    row(
        "-p",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "-p",
            "{port}",
            "-h",
            "127.0.0.1",
        ],
        Alike,
        Same,
    ),
    on(
        Server::Password,
        row(
            "-P",
            Pub,
            &["-t", "{topic}", "-m", "x", "-u", "me", "-P", "s3cret"],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Password,
        row(
            "--pw",
            Pub,
            &["-t", "{topic}", "-m", "x", "-u", "me", "--pw", "s3cret"],
            Alike,
            Same,
        ),
    ),
    row(
        "--proxy",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--proxy",
            "socks5h://127.0.0.1:{socks}",
        ],
        Alike,
        Same,
    ),
    row(
        "--psk",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--psk",
            "00ff",
            "--psk-identity",
            "me",
        ],
        Refused("TLS-PSK is not supported"),
        NotApplicable,
    ),
    row(
        "--psk-identity",
        Pub,
        &["-t", "{topic}", "-m", "x", "--psk-identity", "me"],
        Refused("TLS-PSK is not supported"),
        NotApplicable,
    ),
    row(
        "-q",
        Pub,
        &["-t", "{topic}", "-m", "x", "-q", "2"],
        Alike,
        Same,
    ),
    row(
        "--quiet",
        Pub,
        &["-t", "{topic}", "-m", "x", "--quiet"],
        Alike,
        Same,
    ),
    row(
        "-S",
        Pub,
        &["-t", "{topic}", "-m", "x", "-S"],
        Refused("unexpected argument '-S'"),
        NotApplicable,
    ),
    on(
        Server::Tls,
        row(
            "--tls-alpn",
            Pub,
            &[
                "-t",
                "{topic}",
                "-m",
                "x",
                "--cafile",
                "{ca}",
                "--tls-alpn",
                "mqtt",
            ],
            Alike,
            Same,
        ),
    ),
    row(
        "--tls-engine",
        Pub,
        &["-t", "{topic}", "-m", "x", "--tls-engine", "pkcs11"],
        Refused("OpenSSL engines are not supported"),
        NotApplicable,
    ),
    row(
        "--tls-engine-kpass-sha1",
        Pub,
        &["-t", "{topic}", "-m", "x", "--tls-engine-kpass-sha1", "00"],
        Refused("OpenSSL engines are not supported"),
        NotApplicable,
    ),
    on(
        Server::Tls,
        row(
            "--tls-use-os-certs",
            Pub,
            &["-t", "{topic}", "-m", "x", "--tls-use-os-certs"],
            Exit(4, &[1, 8]),
            Different,
        ),
    ),
    on(
        Server::Tls,
        row(
            "--tls-version",
            Pub,
            &[
                "-t",
                "{topic}",
                "-m",
                "x",
                "--cafile",
                "{ca}",
                "--tls-version",
                "tlsv1.2",
            ],
            Alike,
            Same,
        ),
    ),
    on(
        Server::Password,
        row(
            "-u",
            Pub,
            &["-t", "{topic}", "-m", "x", "-u", "me", "-P", "s3cret"],
            Alike,
            Same,
        ),
    ),
    row(
        "--unix",
        Pub,
        &["-t", "{topic}", "-m", "x", "--unix", "{unix}"],
        Alike,
        Same,
    ),
    row(
        "-V",
        Pub,
        &["-t", "{topic}", "-m", "x", "-V", "mqttv5"],
        Alike,
        Same,
    ),
    row(
        "-V mqttv31",
        Pub,
        &["-t", "{topic}", "-m", "x", "-V", "mqttv31"],
        Alike,
        Same,
    ),
    row("--version", Pub, &["--version"], Exit(0, &[1]), Different),
    row(
        "--will-payload",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--will-topic",
            "{topic}/will",
            "--will-payload",
            "gone",
        ],
        Alike,
        Same,
    ),
    row(
        "--will-qos",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--will-topic",
            "{topic}/will",
            "--will-qos",
            "1",
        ],
        Alike,
        Same,
    ),
    row(
        "--will-retain",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "--will-topic",
            "{topic}/will",
            "--will-retain",
        ],
        Alike,
        Same,
    ),
    row(
        "--will-topic",
        Pub,
        &["-t", "{topic}", "-m", "x", "--will-topic", "{topic}/will"],
        Alike,
        Same,
    ),
    row(
        "-x",
        Pub,
        &[
            "-t",
            "{topic}",
            "-m",
            "x",
            "-V",
            "5",
            "-c",
            "-i",
            "x-{topic}",
            "-x",
            "60",
        ],
        Alike,
        Same,
    ),
    // mosquitto_pub's own.
    row("-f", Pub, &["-t", "{topic}", "-f", "{file}"], Alike, Same),
    with_stdin(
        b"a\nb\n",
        2,
        row("-l", Pub, &["-t", "{topic}", "-l"], Alike, Same),
    ),
    row("-m", Pub, M, Alike, Same),
    row(
        "-M",
        Pub,
        &["-t", "{topic}", "-m", "x", "-M", "5", "-q", "1"],
        Alike,
        Same,
    ),
    row("-n", Pub, &["-t", "{topic}", "-n"], Alike, Same),
    row("-r", Pub, &["-t", "{topic}", "-m", "x", "-r"], Alike, Same),
    with_stdin(
        b"",
        3,
        row(
            "--repeat",
            Pub,
            &["-t", "{topic}", "-m", "x", "--repeat", "3"],
            Alike,
            Same,
        ),
    ),
    with_stdin(
        b"",
        2,
        row(
            "--repeat-delay",
            Pub,
            &[
                "-t",
                "{topic}",
                "-m",
                "x",
                "--repeat",
                "2",
                "--repeat-delay",
                "0.2",
            ],
            Alike,
            Same,
        ),
    ),
    with_stdin(
        b"two\nlines",
        1,
        row("-s", Pub, &["-t", "{topic}", "-s"], Alike, Same),
    ),
    row("-t", Pub, M, Alike, Same),
    // mosquitto_sub's own: the broker holds retained {topic}/a = A and {topic}/b = B.
    row("-C", Sub, &["-t", "{topic}/#", "-C", "2"], Alike, Same),
    row("-E", Sub, &["-t", "{topic}/none", "-E"], Alike, Same),
    row(
        "-F",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-F", "%t=%p %r %05l"],
        Alike,
        Same,
    ),
    row(
        "-N",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-N"],
        Alike,
        Same,
    ),
    row(
        "--pretty",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-F", "%j", "--pretty"],
        Alike,
        Same,
    ),
    row(
        "-R",
        Sub,
        &["-t", "{topic}/#", "-R", "-W", "1"],
        Exit(0, &[27]),
        Different,
    ),
    row(
        "--random-filter",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "--random-filter", "100"],
        Ours("A\nB\n"),
        Different,
    ),
    row(
        "--remove-retained",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-W", "2", "--remove-retained"],
        Exit(0, &[27]),
        Different,
    ),
    row(
        "--retain-as-published",
        Sub,
        &[
            "-t",
            "{topic}/#",
            "-C",
            "2",
            "-V",
            "5",
            "--retain-as-published",
            "-F",
            "%t %r",
        ],
        Alike,
        Same,
    ),
    row(
        "--retained-only",
        Sub,
        &["-t", "{topic}/#", "--retained-only", "-W", "2"],
        Exit(0, &[27]),
        Different,
    ),
    row(
        "-T",
        Sub,
        &["-t", "{topic}/#", "-C", "1", "-T", "{topic}/b"],
        Alike,
        Same,
    ),
    row(
        "-U",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-U", "{topic}/gone"],
        Alike,
        Same,
    ),
    row(
        "-v",
        Sub,
        &["-t", "{topic}/#", "-C", "2", "-v"],
        Alike,
        Different,
    ),
    row(
        "-W",
        Sub,
        &["-t", "{topic}/none", "-C", "1", "-W", "1"],
        Exit(7, &[27]),
        Different,
    ),
];

/// The files and servers the rows need.
struct Lab {
    pki: common::pki::Pki,
    plain: Broker,
    tls: Broker,
    other_name: Broker,
    mutual: Broker,
    password: Broker,
    files: tempfile::TempDir,
    /// A SOCKS5 proxy (microsocks) for --proxy.
    socks: common::proxies::Proxy,
}

impl Lab {
    fn new() -> Lab {
        let pki = common::pki::Pki::new();
        let files = tempfile::tempdir().expect("tempdir");
        let capath = files.path().join("capath");
        std::fs::create_dir(&capath).expect("mkdir");
        std::fs::copy(pki.path("ca.pem"), capath.join("ca.pem")).expect("copy");
        // mosquitto reads a CA directory through OpenSSL's hashed names.
        let rehash = Command::new("openssl")
            .arg("rehash")
            .arg(&capath)
            .output()
            .expect("openssl rehash");
        assert!(rehash.status.success(), "{rehash:?}");
        std::fs::write(files.path().join("payload.txt"), "from a file").expect("write");
        Lab {
            plain: Broker::with_files(|dir| {
                format!(
                    "allow_anonymous true\nlistener 0 {}\n",
                    dir.join("mosquitto.sock").display()
                )
            }),
            socks: common::proxies::Proxy::microsocks(None),
            tls: pki.broker("server", ""),
            other_name: pki.broker("other-name", ""),
            mutual: pki.broker("server", "require_certificate true\n"),
            password: Broker::with_password("me", "s3cret"),
            pki,
            files,
        }
    }

    fn broker(&self, server: Server) -> &Broker {
        match server {
            Server::Plain => &self.plain,
            Server::Tls => &self.tls,
            Server::OtherName => &self.other_name,
            Server::Mutual => &self.mutual,
            Server::Password => &self.password,
        }
    }

    /// The row's arguments, filled in, with the broker's address first unless given.
    fn args(&self, row: &Row, topic: &str) -> Vec<String> {
        let broker = self.broker(row.server);
        let port = broker.args().last().expect("-p PORT").clone();
        let path = |name: &str| self.pki.arg(name);
        let fill = |arg: &str| {
            arg.replace("{topic}", topic)
                .replace("{port}", &port)
                .replace("{ca}", &path("ca.pem"))
                .replace("{cert}", &path("client.pem"))
                .replace("{key}", &path("client.key"))
                .replace("{capath}", &self.path("capath"))
                .replace("{file}", &self.path("payload.txt"))
                .replace("{socks}", &self.socks.port.to_string())
                .replace(
                    "{unix}",
                    &self
                        .plain
                        .dir
                        .path()
                        .join("mosquitto.sock")
                        .display()
                        .to_string(),
                )
        };
        let mut args = Vec::new();
        let standalone = row.args.contains(&"--help") || row.args.contains(&"--version");
        if !row.args.iter().any(|arg| arg.contains("{port}")) && !standalone {
            args.extend([
                "-h".to_string(),
                "127.0.0.1".to_string(),
                "-p".to_string(),
                port.clone(),
            ]);
        }
        args.extend(row.args.iter().map(|arg| fill(arg)));
        args
    }

    fn path(&self, name: &str) -> String {
        self.files.path().join(name).display().to_string()
    }
}

/// Runs one tool: mosquitto's (`theirs`) or ours.
fn run_tool(row: &Row, args: &[String], theirs: bool) -> Output {
    let mut command = if theirs {
        Command::new(match row.tool {
            Pub => "mosquitto_pub",
            Sub => "mosquitto_sub",
        })
    } else {
        let mut command = cli();
        command.arg(match row.tool {
            Pub => "pub",
            Sub => "sub",
        });
        command
    };
    command.args(args).env("TZ", "UTC");
    run_command(command, row.stdin)
}

/// What one tool's run shows: its exit code, and what a subscriber received (pub) or what it
/// printed (sub), the JSON time of arrival left out.
fn outcome(lab: &Lab, row: &Row, topic: &str, theirs: bool) -> (i32, String, Output) {
    let broker = lab.broker(row.server);
    let args = lab.args(row, topic);
    match row.tool {
        Pub => {
            let expect_messages = !matches!(row.expect, Refused(_))
                && !matches!(row.expect, Exit(code, _) if code != 0)
                && !row.args.contains(&"--help")
                && !row.args.contains(&"--version");
            let watcher = expect_messages.then(|| {
                let count = row.count.to_string();
                let mut watch = vec!["-t", topic, "-v", "-C", &count, "-W", "10s"];
                let extra = lab.watcher_args(row.server);
                watch.extend(extra.iter().map(String::as_str));
                Background::sub(broker, &watch)
            });
            let out = run_tool(row, &args, theirs);
            let seen = watcher
                .map(|watcher| stdout(&watcher.finish()))
                .unwrap_or_default();
            (out.status.code().unwrap_or(-1), seen, out)
        }
        Sub => {
            for (leaf, payload) in [("a", "A"), ("b", "B")] {
                let fixture = run_on(
                    broker,
                    &[
                        "pub",
                        "-t",
                        &format!("{topic}/{leaf}"),
                        "-m",
                        payload,
                        "-r",
                        "-q",
                        "1",
                    ],
                );
                assert_code(&fixture, 0);
            }
            let out = run_tool(row, &args, theirs);
            let printed = without_tst(&stdout(&out));
            (out.status.code().unwrap_or(-1), printed, out)
        }
    }
}

impl Lab {
    /// What the subscriber watching a pub row needs to get in (the TLS brokers listen on TLS
    /// alone).
    fn watcher_args(&self, server: Server) -> Vec<String> {
        let ca = self.pki.arg("ca.pem");
        let strings = |args: &[&str]| args.iter().map(|arg| arg.to_string()).collect();
        match server {
            Server::Plain => Vec::new(),
            Server::Tls => strings(&["--cafile", &ca]),
            Server::OtherName => {
                strings(&["--cafile", &ca, "--tls-server-name", "broker.example.com"])
            }
            Server::Mutual => strings(&[
                "--cafile",
                &ca,
                "--cert",
                &self.pki.arg("client.pem"),
                "--key",
                &self.pki.arg("client.key"),
            ]),
            Server::Password => strings(&["-u", "me", "-P", "s3cret"]),
        }
    }
}

/// The lines of docs/mosquitto.md under `heading`, up to the next heading.
fn docs_section(heading: &str) -> Vec<String> {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mosquitto.md"))
            .expect("docs/mosquitto.md");
    docs.lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn every_mosquitto_option_as_the_readme_table_says() {
    assert_eq!(
        ROWS.len(),
        68,
        "65 options, and -V mqttv31, --disable-clean-session, --pw"
    );
    let lab = Lab::new();
    let table = docs_section("## Every mosquitto option");
    let mut failures = Vec::new();
    for (index, row) in ROWS.iter().enumerate() {
        let topic = format!("opt/{index}");
        eprintln!("{} ({:?})", row.option, row.tool);
        let (ours_code, ours_seen, ours) = outcome(&lab, row, &topic, false);
        let problem = match row.expect {
            Refused(says) => (ours_code != 2 || !stderr(&ours).contains(says)).then(|| {
                format!(
                    "expected exit 2 saying {says:?}, got {ours_code}: {}",
                    stderr(&ours)
                )
            }),
            Ours(printed) => (ours_code != 0 || ours_seen != printed).then(|| {
                format!(
                    "expected exit 0 printing {printed:?}, got {ours_code} {ours_seen:?}: {}",
                    stderr(&ours)
                )
            }),
            Alike | Exit(..) => {
                let (their_code, their_seen, theirs) = outcome(&lab, row, &topic, true);
                let (want_ours, want_theirs): (i32, &[i32]) = match row.expect {
                    Exit(ours, theirs) => (ours, theirs),
                    _ => (0, &[0]),
                };
                if ours_code != want_ours || !want_theirs.contains(&their_code) {
                    Some(format!(
                        "exit codes ours {ours_code} (want {want_ours}), mosquitto {their_code} (want {want_theirs:?})\nours: {}\ntheirs: {}",
                        stderr(&ours),
                        stderr(&theirs)
                    ))
                } else if ours_seen != their_seen {
                    Some(format!("ours {ours_seen:?}\ntheirs {their_seen:?}"))
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(format!("{} ({:?}): {problem}", row.option, row.tool));
        }
        // docs/mosquitto.md's option table has the row, with the same class.
        let class = match row.class {
            Class::Same => "same",
            Different => "different",
            NotApplicable => "n.a.",
        };
        let line = table
            .iter()
            .find(|line| line.starts_with(&format!("| `{}` |", row.option)));
        match line {
            Some(line)
                if line
                    .split('|')
                    .nth(2)
                    .is_some_and(|cell| cell.trim() == class) => {}
            Some(line) => failures.push(format!(
                "{}: docs/mosquitto.md says {line:?}, the test {class:?}",
                row.option
            )),
            None => failures.push(format!(
                "{}: not in the option table of docs/mosquitto.md",
                row.option
            )),
        }
    }
    // ...and nothing else.
    for line in table.iter().filter(|line| line.starts_with("| `")) {
        let option = line.split('`').nth(1).unwrap_or(line);
        if !ROWS.iter().any(|row| row.option == option) {
            failures.push(format!(
                "{option}: in the option table of docs/mosquitto.md, not in the test"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// mosquitto 2.1's new options: each row of that table of docs/mosquitto.md, run (no
/// mosquitto 2.1 here to compare with: what the row says is checked against ours).
#[test]
fn mosquitto_2_1_options_as_the_table_says() {
    let broker = Broker::start();
    let table: Vec<String> = docs_section("## mosquitto 2.1's options")
        .into_iter()
        .filter(|line| line.starts_with("| `"))
        .collect();
    let port = broker.port.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let options_path = dir.path().join("options");
    std::fs::write(
        &options_path,
        "# as mosquitto 2.1 reads them\n-t a\n-m 1\n-d\n",
    )
    .expect("write");
    let options = options_path.display().to_string();
    // Option, class, and a run of ours: its exit code and what stderr says.
    let closed = ["-h", "127.0.0.1", "-p", "9"];
    let rows: [(&str, &str, Vec<&str>, i32, &str); 9] = [
        (
            "--tls-keylog",
            "same",
            [
                &[
                    "pub",
                    "--tls",
                    "--tls-keylog",
                    "/dev/null",
                    "-t",
                    "a",
                    "-m",
                    "1",
                ][..],
                &closed,
            ]
            .concat(),
            3,
            "TLS session keys are appended to /dev/null",
        ),
        (
            "--no-tls",
            "same",
            vec![
                "pub",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "--no-tls",
                "--cafile",
                "/dev/null",
                "-t",
                "a",
                "-m",
                "1",
            ],
            0,
            "",
        ),
        (
            "--watch",
            "same",
            vec!["sub", "-h", "127.0.0.1", "-p", &port, "-t", "a", "-w", "-E"],
            0,
            "",
        ),
        (
            "--ws",
            "same",
            [&["pub", "--ws", "-t", "a", "-m", "1", "-d"][..], &closed].concat(),
            3,
            "127.0.0.1:9",
        ),
        (
            "-x",
            "same",
            vec![
                "pub",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-x",
                "60",
                "-c",
                "-i",
                "x",
                "-t",
                "a",
                "-m",
                "1",
                "-d",
            ],
            0,
            "(MQTT 5, client id \"x\"",
        ),
        (
            "-o",
            "same",
            vec!["pub", "-o", &options, "-h", "127.0.0.1", "-p", &port],
            0,
            "sending CONNECT",
        ),
        (
            "--message-rate",
            "same",
            vec![
                "sub",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-t",
                "a",
                "--message-rate",
                "-E",
            ],
            0,
            "",
        ),
        (
            "--retain-handling",
            "same",
            vec![
                "sub",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-V",
                "5",
                "-t",
                "a",
                "--retain-handling",
                "never",
                "-E",
            ],
            0,
            "",
        ),
        (
            "--latency",
            "same",
            vec![
                "rr",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-t",
                "a",
                "-e",
                "b",
                "-m",
                "1",
                "-W",
                "300ms",
                "--latency",
            ],
            7,
            "no answer on 'b' within 300ms",
        ),
    ];
    assert_eq!(table.len(), rows.len(), "{table:#?}");
    for (option, class, args, code, says) in rows {
        let line = table
            .iter()
            .find(|line| line.starts_with(&format!("| `{option}` | 2.1 |")))
            .unwrap_or_else(|| panic!("{option}: not in the 2.1 table"));
        let cell = line.split('|').nth(3).unwrap_or_default().trim();
        assert!(
            cell.starts_with(class),
            "{option}: the table says {cell:?}, the test {class:?}"
        );
        let out = run(&args, b"");
        assert_code(&out, code);
        assert!(stderr(&out).contains(says), "{option}: {}", stderr(&out));
    }
}

/// `--message-rate` (mosquitto 2.1): counts instead of messages, a line a second and the rest at
/// the end; together they are every message that arrived, and no payload is printed.
#[test]
fn message_rate_counts_every_message_instead_of_printing_it() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &["-t", "rate/#", "--message-rate", "-C", "300", "-W", "10s"],
    );
    let lines: Vec<String> = (1..=300).map(|n| format!("payload-{n}\n")).collect();
    let publish = command("pub", &broker, &["-t", "rate/a", "-l", "-q", "1"]);
    let out = run_args(&publish, lines.concat().as_bytes());
    assert_code(&out, 0);
    let got = sub.finish();
    assert_code(&got, 0);
    let text = stdout(&got);
    let counts: Vec<u64> = text
        .lines()
        .map(|line| {
            line.parse()
                .unwrap_or_else(|_| panic!("not a count: {line:?}"))
        })
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 300, "{text}");
    let bad = run_on(&broker, &["sub", "-t", "a", "--message-rate", "-v"]);
    assert_code(&bad, 2);
}

/// `-o FILE`: the options file carries the password off argv, and the command line's options
/// win over the file's.
#[test]
fn an_options_file_keeps_the_password_off_argv() {
    let broker = Broker::with_password("me", "s3cret");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("options");
    std::fs::write(&file, "-u me\n-P s3cret\n-t from/file\n-q 2\n").expect("write");
    let file = file.display().to_string();
    let out = run_on(&broker, &["pub", "-o", &file, "-m", "x", "-q", "1", "-d"]);
    assert_code(&out, 0);
    let trace = stderr(&out);
    assert!(trace.contains("topic \"from/file\", QoS 1"), "{trace}");
    assert!(
        !trace.contains("s3cret"),
        "the password in the trace:\n{trace}"
    );
    std::fs::write(dir.path().join("bad"), "-u me\n-P\n").expect("write");
    let bad = dir.path().join("bad").display().to_string();
    let out = run_on(&broker, &["pub", "-o", &bad, "-m", "x", "-t", "a"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("bad line 2: -P needs a value"),
        "{}",
        stderr(&out)
    );
}
