//! The command line's one home: the definitions (clap derive, here and in `connection.rs`,
//! `bench.rs`), mosquitto's `-D` (`mosquitto_properties.rs`), the config file's profiles (`config.rs`,
//! more arguments as ripgrep's config file is) and the command line with the profile applied
//! (`command_line.rs`). Validation that needs more than one flag, the environment or a file
//! lives in `settings`.
//!
//! Flags follow mosquitto_pub/mosquitto_sub, so `-h` is the host and help is `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub mod bench;
pub mod command_line;
pub mod config;
mod connection;
pub mod env;
pub mod mosquitto_properties;
mod options_file;

pub use connection::{ConnectArgs, PayloadFormat, TlsArgs};
use connection::{parse_qos, parse_retain_handling, parse_user_property};

use crate::duration::{parse_duration, parse_interval};
pub use crate::types::ProtocolVersion;
use crate::types::{PayloadEncoding, Qos};

/// The exit code table, shown under every `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (also: sub ended by Ctrl+C, or by -C/-W as asked)
  1  other runtime error
  2  bad usage or bad input, found before connecting
  3  could not connect: DNS, refused, unreachable, connect timeout, not an MQTT server
  4  TLS failed: handshake or certificate verification
  5  broker refused the connection (CONNACK: bad credentials, not authorised, ...)
  6  broker rejected an operation: SUBACK failure, PUBACK/PUBREC/PUBCOMP reason >= 0x80,
     server DISCONNECT (MQTT 5)
  7  timeout: the expected messages, answer or acks did not arrive in time (-W bounds
     the whole run, connecting and closing included)
  8  check: a check failed; bench: a --fail-if condition held; otherwise: connection
     lost and not recovered, or QoS 0 messages that may not have arrived
     (bench: clients that did not finish exit by the first one's cause, 3 to 8)
130  pub: Ctrl+C twice (the first waits up to 10 s for owed acknowledgements);
     rr: Ctrl+C before an answer

Keep the password off the command line (where other users see it in the process list):
use MQTT_PASSWORD or --password-file instead of -P.";

/// A command-line MQTT test client: publish, subscribe, smoke-test brokers.
#[derive(Debug, Parser)]
#[command(
    name = "mqtt-cli",
    version,
    propagate_version = true,
    disable_help_flag = true,
    disable_version_flag = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Print help.
    #[arg(long, action = ArgAction::Help, global = true)]
    help: Option<bool>,

    /// Print the version (also after a subcommand, as mosquitto_pub --version).
    #[arg(long, action = ArgAction::Version, global = true)]
    version: Option<bool>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish messages: one, a file, stdin, one per line, or a cycle on an interval.
    #[command(disable_help_flag = true, after_help = EXIT_CODES)]
    Pub(PubArgs),
    /// Subscribe to topic filters and print the messages that arrive.
    #[command(disable_help_flag = true, after_help = EXIT_CODES)]
    Sub(SubArgs),
    /// Request/response: subscribe to -e, publish a request to -t, print the first answer.
    #[command(disable_help_flag = true, after_help = EXIT_CODES)]
    Rr(RrArgs),
    /// Smoke-test a broker: connect, TLS, round trips at each QoS, retained, will, wildcards,
    /// a large payload. Exit 0 only if every chosen check passed (8 otherwise).
    #[command(disable_help_flag = true, after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Load-test a broker: publishers and subscribers (pub), connections (conn), subscribers
    /// for another tool's load (sub); a report with latency percentiles, --fail-if for CI.
    #[command(disable_help_flag = true, after_help = bench::BENCH_HELP)]
    Bench(bench::BenchArgs),
    /// Broker profiles in the config file: list, show, add, remove, path.
    #[command(disable_help_flag = true, after_help = PROFILE_HELP)]
    Profile(ProfileArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(disable_help_flag = true, after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages: mqtt-cli(1) and one per subcommand.
    #[command(disable_help_flag = true)]
    Man {
        /// Directory to write them to (made if missing).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
    /// Print the version, the commit, the TLS and MQTT libraries, and the protocols and
    /// transports built in (for bug reports).
    #[command(disable_help_flag = true)]
    Version,
}

impl Command {
    /// The connection flags of whichever subcommand this is (none for `profile`).
    pub fn connect_args(&self) -> Option<&ConnectArgs> {
        match self {
            Command::Pub(args) => Some(&args.connect),
            Command::Sub(args) => Some(&args.connect),
            Command::Rr(args) => Some(&args.connect),
            Command::Check(args) => Some(&args.connect),
            Command::Bench(args) => match &args.action {
                bench::BenchAction::Pub(args) => Some(&args.connect),
                bench::BenchAction::Conn(args) => Some(&args.connect),
                bench::BenchAction::Sub(args) => Some(&args.connect),
                bench::BenchAction::Merge(_) => None,
            },
            Command::Profile(_)
            | Command::Completions { .. }
            | Command::Man { .. }
            | Command::Version => None,
        }
    }
}

/// How to install the completion scripts, under `mqtt-cli completions --help`.
pub const COMPLETIONS_HELP: &str = "\
Install:
  bash  mqtt-cli completions bash > ~/.local/share/bash-completion/completions/mqtt-cli
  zsh   mqtt-cli completions zsh > ~/.zfunc/_mqtt-cli   (with fpath+=(~/.zfunc) before compinit)
  fish  mqtt-cli completions fish > ~/.config/fish/completions/mqtt-cli.fish
--profile completes the names of the profiles in the config file.";

/// The config file, under `mqtt-cli profile --help`.
pub const PROFILE_HELP: &str = "\
The config file is $MQTT_CLI_CONFIG, else mqtt-cli/config.toml in the config directory
($XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application Support on macOS, %APPDATA%
on Windows):

  default_profile = \"hivemq\"

  [profiles.hivemq]
  url = \"mqtts://abc.s1.eu.hivemq.cloud:8883\"
  username = \"me\"
  password_command = \"pass show mqtt/hivemq\"   # or password_file, password_env

  [profiles.local]
  host = \"localhost\"
  protocol-version = \"5\"

A profile holds any connection option under its flag's long name (- or _ alike). Precedence,
highest first: flags, the -L URL, MQTT_* environment variables, the profile (--profile NAME,
env MQTT_PROFILE, else default_profile), built-in defaults. -d says where each came from.
A plain `password` is refused unless the file is private (chmod 600). A profile's user name,
password and client certificate go only to its own host (not when -h, -L, MQTT_HOST or
MQTT_URL name another). password_command has 10 s to print the password and exit. A broken
profile breaks only itself: profile list and show mark it. Names: letters, digits, _ . -";

/// `mqtt-cli profile`.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub action: ProfileAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ProfileAction {
    /// The profiles' names (the default one marked with *).
    List {
        /// Only the names, without the mark (for completion scripts).
        #[arg(long)]
        names: bool,
    },
    /// A profile's settings, secrets hidden.
    Show {
        /// The profile's name.
        name: String,
    },
    /// Add or replace a profile made of the connection flags given (comments and other
    /// profiles are kept; a new file is made private, mode 0600).
    #[command(disable_help_flag = true)]
    Add(Box<ProfileAddArgs>),
    /// Remove a profile.
    Remove {
        /// The profile's name.
        name: String,
    },
    /// Print where the config file is (or would be).
    Path,
}

/// `mqtt-cli profile add`.
#[derive(Debug, Clone, Args)]
pub struct ProfileAddArgs {
    /// The profile's name.
    pub name: String,

    /// Read the password from this environment variable when the profile is used.
    #[arg(long, value_name = "VAR", help_heading = "Connection")]
    pub password_env: Option<String>,

    /// Run this shell command when the profile is used; its first line of output is the
    /// password (e.g. "pass show mqtt/hivemq").
    #[arg(long, value_name = "COMMAND", help_heading = "Connection")]
    pub password_command: Option<String>,

    /// Make this profile the default one.
    #[arg(long)]
    pub default: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The checks `mqtt-cli check` runs, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum CheckName {
    /// Connect: time to CONNACK, and what an MQTT 5 CONNACK announces.
    Connect,
    /// TLS: version, cipher suite, the server certificate and its expiry.
    Tls,
    /// Round trip at QoS 0: all received, in order, intact; latency.
    Qos0,
    /// Round trip at QoS 1.
    Qos1,
    /// Round trip at QoS 2.
    Qos2,
    /// A retained message reaches a new subscriber, then is cleared.
    Retained,
    /// A client that drops its connection has its will delivered.
    Will,
    /// + and # filters match what they should, and only that.
    Wildcards,
    /// A large payload (--payload-size) arrives intact.
    LargePayload,
}

/// `mqtt-cli check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Run only these checks (comma-separated or repeated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CHECK",
        conflicts_with = "skip"
    )]
    pub only: Vec<CheckName>,

    /// Run all checks but these (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CHECK")]
    pub skip: Vec<CheckName>,

    /// Topics used, under this prefix [default: mqtt-cli/check/ and random characters].
    #[arg(long, value_name = "TOPIC")]
    pub topic_prefix: Option<String>,

    /// Messages per round trip.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub count: u32,

    /// Size of the large payload, e.g. 256KiB, 1MiB, 5000.
    #[arg(long, default_value = "256KiB", value_parser = parse_size, value_name = "SIZE")]
    pub payload_size: usize,

    /// Fail the TLS check when the server's certificate expires in fewer days than this.
    #[arg(long, value_name = "DAYS")]
    pub cert_expiry_warn: Option<u32>,

    /// Time allowed for each check.
    #[arg(short = 'W', long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// Print the report as one JSON object on stdout (the schema: --help, not -h).
    #[arg(long_help = CHECK_JSON_HELP)]
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// A percentage from 0.1 to 100.
fn parse_percentage(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.1..=100.0).contains(&value) => Ok(value),
        _ => Err(format!("'{text}' is not a percentage from 0.1 to 100")),
    }
}

/// A size in bytes: `5000`, `256KiB` / `256K` / `256KB` (x1024), `1MiB` / `1M` / `1MB` (x1024^2).
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 5000, 256KiB, 1MiB)"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return Err(format!("'{text}': unknown unit (use KiB or MiB)")),
    };
    number
        .checked_mul(factor)
        .filter(|size| (1..=256 * 1024 * 1024).contains(size))
        .ok_or_else(|| format!("'{text}' must be between 1 byte and 256 MiB"))
}

/// `mqtt-cli pub`.
#[derive(Debug, Clone, Args)]
pub struct PubArgs {
    /// Topic to publish to.
    #[arg(short = 't', long)]
    pub topic: Option<String>,

    /// Message payload; repeat the flag to send several messages in turn.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "MESSAGE",
        group = "payload"
    )]
    pub messages: Vec<String>,

    /// Send the whole file as one message (binary-safe).
    #[arg(short = 'f', long, value_name = "FILE", group = "payload")]
    pub file: Option<PathBuf>,

    /// Send all of standard input as one message.
    #[arg(short = 's', long, group = "payload", alias = "stdin-file")]
    pub stdin: bool,

    /// Send each line of standard input as a message, as it arrives.
    #[arg(short = 'l', long, group = "payload", alias = "stdin-line")]
    pub lines: bool,

    /// Send an empty (zero-length) message.
    #[arg(short = 'n', long, group = "payload", alias = "null-message")]
    pub null: bool,

    /// Publish the messages a `sub --json` capture holds (topic, payload, QoS, retain).
    #[arg(long, value_name = "FILE", group = "payload", conflicts_with_all = ["topic", "qos", "retain", "repeat"])]
    pub replay: Option<PathBuf>,

    #[command(flatten)]
    pub encoding: EncodeArgs,

    /// With --replay: keep the recorded gaps between messages instead of sending at once.
    #[arg(long, requires = "replay")]
    pub replay_timing: bool,

    /// Quality of service: 0, 1 or 2.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: Qos,

    /// Ask the broker to retain the message.
    #[arg(short = 'r', long)]
    pub retain: bool,

    /// Unacknowledged messages in flight at once [default: 100 at QoS 1, 20 at QoS 2, which
    /// is all mosquitto accepts by default].
    #[arg(short = 'M', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_inflight: Option<u16>,

    /// MQTT 5: the payload's MIME type, e.g. application/json.
    #[arg(long, value_name = "TYPE", help_heading = "MQTT 5")]
    pub content_type: Option<String>,

    /// MQTT 5: a user property KEY=VALUE (repeatable; keys may repeat).
    #[arg(long, value_parser = parse_user_property, value_name = "KEY=VALUE", help_heading = "MQTT 5")]
    pub user_property: Vec<(String, String)>,

    /// MQTT 5: the broker discards the message if undelivered after this long (e.g. 60s).
    #[arg(long, value_parser = parse_interval, value_name = "DURATION", help_heading = "MQTT 5")]
    pub message_expiry: Option<u32>,

    /// MQTT 5: where an answer should be published (request/response).
    #[arg(long, value_name = "TOPIC", help_heading = "MQTT 5")]
    pub response_topic: Option<String>,

    /// MQTT 5: correlation data (text, or hex:0a0b... for bytes).
    #[arg(long, value_name = "DATA", help_heading = "MQTT 5")]
    pub correlation_data: Option<String>,

    /// MQTT 5: the payload format indicator; utf8 requires every payload to be UTF-8 text.
    #[arg(long, value_name = "FORMAT", help_heading = "MQTT 5")]
    pub payload_format: Option<PayloadFormat>,

    /// MQTT 5: send the topic once with this alias, then the alias alone (up to the broker's
    /// topic alias maximum).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "MQTT 5")]
    pub topic_alias: Option<u16>,

    /// Send the message(s) this many times; 0 repeats until interrupted (with --interval).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u64,

    /// Wait this long between messages (e.g. 500ms, 1s; a bare number is seconds, as
    /// mosquitto_pub's --repeat-delay).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", alias = "repeat-delay")]
    pub interval: Option<Duration>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `mqtt-cli rr`.
#[derive(Debug, Clone, Args)]
pub struct RrArgs {
    /// Topic to publish the request to.
    #[arg(short = 't', long)]
    pub topic: String,

    /// Topic the answer arrives on; subscribed before the request goes out (on MQTT 5 also
    /// sent as the request's response topic).
    #[arg(short = 'e', long = "response-topic", value_name = "TOPIC")]
    pub response_topic: String,

    /// The request's payload.
    #[arg(short = 'm', long, value_name = "MESSAGE", group = "payload")]
    pub message: Option<String>,

    /// Send the whole file as the request (binary-safe).
    #[arg(short = 'f', long, value_name = "FILE", group = "payload")]
    pub file: Option<PathBuf>,

    /// Send all of standard input as the request.
    #[arg(short = 's', long, group = "payload")]
    pub stdin: bool,

    /// Send an empty request.
    #[arg(short = 'n', long, group = "payload")]
    pub null: bool,

    /// QoS of the request and of the subscription to the answer.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: Qos,

    /// Only accept an answer whose payload matches this regular expression; others are skipped.
    #[arg(long, value_name = "REGEX")]
    pub r#match: Option<String>,

    /// Give up (exit 7) if no answer arrived in time [default: wait until Ctrl+C].
    #[arg(short = 'W', long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// After the answer, a line with the time from sending the request to the answer's arrival
    /// (mosquitto 2.1's --latency): `latency: 12.345 ms`.
    #[arg(long)]
    pub latency: bool,

    /// MQTT 5: correlation data of the request (text, or hex:...) [default: random]; an answer
    /// carrying other correlation data is skipped.
    #[arg(long, value_name = "DATA", help_heading = "MQTT 5")]
    pub correlation_data: Option<String>,

    /// MQTT 5: a user property KEY=VALUE of the request (repeatable).
    #[arg(long, value_parser = parse_user_property, value_name = "KEY=VALUE", help_heading = "MQTT 5")]
    pub user_property: Vec<(String, String)>,

    /// MQTT 5: the request payload's MIME type.
    #[arg(long, value_name = "TYPE", help_heading = "MQTT 5")]
    pub content_type: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How received messages are printed (`sub`, `rr`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print the topic before each payload: `topic payload`.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Print each message through a template (codes: --help; e.g. '%I %t %p'); wins over -v,
    /// as in mosquitto_sub.
    #[arg(short = 'F', long = "format", value_name = "TEMPLATE",
          conflicts_with = "json", long_help = crate::output::TEMPLATE_HELP)]
    pub template: Option<String>,

    /// Print each message as one JSON object per line (the schema: --help, not -h).
    #[arg(long, conflicts_with = "verbose", long_help = crate::output::JSON_HELP)]
    pub json: bool,

    /// With --json or -F %j/%J: indent the objects (one object spans several lines; -F as
    /// mosquitto_sub --pretty).
    #[arg(long)]
    pub pretty: bool,

    /// With --json: how to carry the payload [auto: text when valid UTF-8, else base64].
    #[arg(
        long,
        value_name = "ENCODING",
        requires = "json",
        default_value = "auto"
    )]
    pub payload_encoding: PayloadEncoding,

    /// Do not end each message with a newline.
    #[arg(short = 'N', long)]
    pub no_newline: bool,

    /// Colour the topic of -v output: auto (when stdout is a terminal and NO_COLOR is not
    /// set), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Decode payloads and print them as JSON: json, cbor, msgpack, protobuf:TYPE (with
    /// --proto), sparkplug, auto (Sparkplug on spBv1.0/ topics, JSON when it parses); FILTER=CODEC
    /// for the topics of a filter (repeatable, first match wins). A payload the codec cannot
    /// read is printed as it came, with a notice on stderr.
    #[arg(long, value_name = "[FILTER=]CODEC", help_heading = "Payloads")]
    pub decode: Vec<String>,

    #[command(flatten)]
    pub proto: ProtoArgs,
}

/// `pub --encode` and the `.proto` files it reads.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Payloads")]
pub struct EncodeArgs {
    /// The message (-m, -f, -s, each -l line) is JSON: send it encoded as cbor, msgpack,
    /// protobuf:TYPE (with --proto) or sparkplug (seq, timestamps and a BIRTH's aliases filled
    /// in). Bad JSON or a value that does not fit: exit 2, before connecting.
    #[arg(long, value_name = "CODEC", conflicts_with = "replay")]
    pub encode: Option<String>,

    #[command(flatten)]
    pub proto: ProtoArgs,
}

/// The `.proto` files of `protobuf:TYPE` (`--decode`, `--encode`).
#[derive(Debug, Clone, Default, Args)]
pub struct ProtoArgs {
    /// A .proto file defining the protobuf:TYPE messages (repeatable; compiled at run time, no
    /// protoc needed).
    #[arg(long, value_name = "FILE", help_heading = "Payloads")]
    pub proto: Vec<PathBuf>,

    /// A folder to find the .proto files' imports in (repeatable) [default: each file's folder].
    #[arg(long, value_name = "DIR", help_heading = "Payloads")]
    pub proto_path: Vec<PathBuf>,
}

impl ProtoArgs {
    pub fn files(&self) -> crate::payload::ProtoFiles {
        crate::payload::ProtoFiles {
            files: self.proto.clone(),
            include: self.proto_path.clone(),
        }
    }
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `check --json`'s help: the report's schema.
pub const CHECK_JSON_HELP: &str = "Print the report as one JSON object on stdout: \"broker\" \
(host:port), \"transport\" (tcp, tls, ws, wss), \"protocol\" (3.1.1, 5), \"topic_prefix\", \
\"passed\" (true when no chosen check failed: exit 0), \"summary\" {\"passed\", \"failed\", \
\"skipped\"} and \"checks\": one object per check run, in order, with \"name\", \"status\" \
(pass, fail, skip), \"reason\", \"duration_ms\" and \"details\" (measurements: connack_ms, \
session_present, announced; version, cipher_suite, alpn, subject, issuer, not_after, days_left; \
sent, received, in_order, latency_ms {p50, p95, max}; delivered_ms; bytes; plus_matched, \
hash_matched; empty on failure).";

/// `mqtt-cli sub`.
#[derive(Debug, Clone, Args)]
pub struct SubArgs {
    /// Topic filter to subscribe to (repeatable; + and # wildcards).
    #[arg(short = 't', long = "topic", value_name = "FILTER")]
    pub topics: Vec<String>,

    /// Maximum QoS to receive: 0, 1 or 2.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: Qos,

    /// Exit after printing this many messages.
    #[arg(short = 'C', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// With -C: fail (exit 7) if the messages have not all arrived in time. Alone: watch this long.
    #[arg(short = 'W', long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// A live line on stderr (messages, per second, bytes per second, when stderr is a
    /// terminal) and, at the end, a table of messages per topic on stderr (top 20: count,
    /// rate, last payload size). Standard output is unchanged.
    #[arg(long)]
    pub stats: bool,

    /// A live view (mosquitto 2.1's --watch): one line per topic, updated in place, with its
    /// count, rate, the age of its last message, retained flag, QoS and last payload (decoded
    /// as --decode says), cut to the terminal's width. Keys: p (or space) pauses, / filters by
    /// a topic substring (Enter; Esc clears), s changes the order, q or Ctrl+C quits. When
    /// standard output is not a terminal: nothing while it runs, then a table of the topics.
    #[arg(short = 'w', long, conflicts_with_all = ["stats", "template", "json", "verbose", "pretty", "no_newline"])]
    pub watch: bool,

    /// Instead of the messages, a line each second with the number that arrived in it
    /// (mosquitto 2.1's --message-rate); the last line, at the end, counts the part of a second
    /// since the one before. Counts what would be printed (-T, -R, --match apply).
    #[arg(long, conflicts_with_all = ["watch", "template", "json", "verbose", "pretty", "no_newline"])]
    pub message_rate: bool,

    /// The order of --watch's lines.
    #[arg(
        long,
        value_enum,
        value_name = "ORDER",
        default_value = "arrival",
        requires = "watch"
    )]
    pub sort: crate::output::live::Sort,

    /// Print (and count for -C) only this percentage of the messages, picked at random
    /// (0.1 to 100; mosquitto_sub's --random-filter).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percentage)]
    pub random_filter: Option<f64>,

    /// With --decode sparkplug or auto: ask an edge node whose DATA arrives before its BIRTH
    /// for a rebirth (an NCMD with Node Control/Rebirth), once, so that names are known.
    #[arg(long, help_heading = "Payloads")]
    pub rebirth: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Only print (and count, for -C) messages whose payload matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub r#match: Option<String>,

    /// Skip messages that carry the retain flag (stale values kept by the broker).
    #[arg(short = 'R', long)]
    pub no_retained: bool,

    /// Unsubscribe from FILTER first (repeatable); with -c -i, drops it from a persistent
    /// session. Without -t, exits once the broker confirmed.
    #[arg(short = 'U', long, value_name = "FILTER")]
    pub unsubscribe: Vec<String>,

    /// Do not print messages whose topic matches FILTER (repeatable).
    #[arg(short = 'T', long, value_name = "FILTER")]
    pub filter_out: Vec<String>,

    /// Print only retained messages: exit at the first live one, or when none came for 500 ms.
    #[arg(long, conflicts_with = "no_retained")]
    pub retained_only: bool,

    /// Clear every retained message received (publish an empty retained message on its topic).
    #[arg(long)]
    pub remove_retained: bool,

    /// Exit as soon as the subscription is acknowledged (with -c: sets up a persistent session).
    #[arg(short = 'E', long)]
    pub exit_on_subscribe: bool,

    /// MQTT 5: do not receive the messages this client publishes itself.
    #[arg(long, help_heading = "MQTT 5")]
    pub no_local: bool,

    /// MQTT 5: keep the retain flag on live messages as their publisher set it.
    #[arg(long, help_heading = "MQTT 5")]
    pub retain_as_published: bool,

    /// MQTT 5: retained messages at subscribe time: 0 (or always) send, 1 (or new) only for a
    /// new subscription, 2 (or never) never.
    #[arg(long, value_name = "0|1|2", default_value_t = 0, value_parser = parse_retain_handling, help_heading = "MQTT 5")]
    pub retain_handling: u8,

    /// MQTT 5: a subscription identifier the broker attaches to matching messages (%S, --json).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=268_435_455), help_heading = "MQTT 5")]
    pub subscription_id: Option<u32>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
