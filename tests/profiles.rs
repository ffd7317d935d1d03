//! Broker profiles: the config file, precedence (shown by `-d`), bad config, secrets, and
//! `mqtt-cli profile`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// A config file in a temporary directory.
struct Config {
    dir: tempfile::TempDir,
}

impl Config {
    fn new(text: &str) -> Config {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config { dir };
        if !text.is_empty() {
            config.write(text, 0o600);
        }
        config
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn write(&self, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(self.path(), text).expect("write config");
        std::fs::set_permissions(self.path(), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.path()).expect("read config")
    }

    /// mqtt-cli with this config file and the extra environment variables.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = cli();
        command
            .env("MQTT_CLI_CONFIG", self.path())
            .envs(env.iter().copied())
            .args(args);
        run_command(command, b"")
    }
}

fn has(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(err.contains(needle), "{needle:?} not in:\n{err}");
}

fn broker_profile(broker: &Broker, extra: &str) -> String {
    format!(
        "# my brokers\ndefault_profile = \"here\"\n\n[profiles.here]\nhost = \"127.0.0.1\"\nport = {}\nkeepalive = 30\n{extra}\n",
        broker.port
    )
}

#[test]
fn each_layer_overrides_the_one_below_and_d_says_which() {
    let broker = Broker::start();
    let config = Config::new(&broker_profile(&broker, ""));
    let publish = ["pub", "-t", "p", "-m", "x", "-d"];

    // The default profile alone: it connects, and -d names it.
    let out = config.run(&publish, &[]);
    assert_code(&out, 0);
    has(&out, "host 127.0.0.1 (profile here)");
    has(&out, &format!("port {} (profile here)", broker.port));
    has(&out, "keepalive 30 (profile here)");
    has(&out, "keepalive 30s");

    // The environment beats the profile.
    let out = config.run(&publish, &[("MQTT_HOST", "localhost")]);
    has(&out, "host localhost (env MQTT_HOST)");
    has(&out, &format!("port {} (profile here)", broker.port));

    // The URL beats the environment.
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let mut with_url = publish.to_vec();
    with_url.extend(["-L", &url]);
    let out = config.run(&with_url, &[("MQTT_HOST", "localhost")]);
    assert_code(&out, 0);
    has(&out, "host 127.0.0.1 (URL)");
    has(&out, &format!("port {} (URL)", broker.port));

    // Flags beat the URL, and the profile's keepalive.
    let mut with_flags = with_url.clone();
    with_flags.extend(["-h", "127.0.0.1", "-k", "20"]);
    let out = config.run(&with_flags, &[]);
    assert_code(&out, 0);
    has(&out, "host 127.0.0.1 (flag)");
    has(&out, "keepalive 20 (flag)");
    has(&out, "keepalive 20s");
    assert!(!stderr(&out).contains("keepalive 30"), "{}", stderr(&out));

    // MQTT_PROFILE and --profile choose another one; without a file, the defaults.
    let two = format!(
        "{}\n[profiles.other]\nhost = \"127.0.0.2\"\nport = {}\n",
        broker_profile(&broker, ""),
        broker.port
    );
    config.write(&two, 0o600);
    let out = config.run(&publish, &[("MQTT_PROFILE", "other")]);
    has(&out, "host 127.0.0.2 (profile other)");
    let mut chosen = publish.to_vec();
    chosen.extend(["--profile", "other"]);
    let out = config.run(&chosen, &[("MQTT_PROFILE", "here")]);
    has(&out, "host 127.0.0.2 (profile other)");
    let none = Config::new("");
    let out = none.run(&["pub", "-t", "p", "-m", "x", "-d", "--tls"], &[]);
    has(&out, "host localhost (default)");
    has(&out, "port 8883 (default for tls)");
}

#[test]
fn bad_config_is_exit_2_with_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "[profiles.a]\nhost = \"h\"\nhots = \"x\"\n",
            ":3:1: profile 'a': unknown key 'hots' (did you mean 'host'?)",
        ),
        (
            "[profiles.a]\nkeepalive = \"soon\"\n",
            ":2:1: profile 'a': invalid value 'soon' for '--keepalive <SECONDS>'",
        ),
        (
            "[profiles.a]\nport = \"http\"\n",
            ":2:1: profile 'a': port 'http' is not 1-65535",
        ),
        (
            "[profiles.a]\ninsecure = \"yes\"\n",
            ":2:1: 'insecure' must be true or false",
        ),
        ("[profiles.a]\nhost = \n", ":2:8:"),
        ("colour = 1\n", ":1:1: unknown field `colour`"),
        (
            "[profiles.a]\npassword_file = \"f\"\npassword_env = \"X\"\n",
            "profile 'a': give one password source, not password-file and password-env",
        ),
    ];
    for (text, message) in cases {
        let config = Config::new(text);
        let out = config.run(&["pub", "-t", "p", "-m", "x", "--profile", "a"], &[]);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(err.starts_with("mqtt-cli: error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(message), "{message:?} for {text:?}:\n{err}");
        assert!(
            err.contains("config.toml") || err.contains("no profile"),
            "{err}"
        );
    }
    // An unknown profile lists the known ones.
    let config = Config::new("[profiles.one]\nhost = \"h\"\n[profiles.two]\nhost = \"h\"\n");
    let out = config.run(&["pub", "-t", "p", "-m", "x", "--profile", "three"], &[]);
    assert_code(&out, 2);
    has(&out, "no profile 'three' in");
    has(&out, "(known: one, two)");
    // No file and a profile asked for: say how to make one.
    let out = Config::new("").run(&["check", "--profile", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "there is no config file");
    // An unreadable file (a directory in its place).
    let config = Config::new("");
    std::fs::create_dir(config.path()).expect("mkdir");
    let out = config.run(&["pub", "-t", "p", "-m", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "the config file");
    has(&out, "is not a regular file");
}

#[test]
fn a_plain_password_needs_a_private_file() {
    let broker = Broker::with_password("me", "s3cret");
    let text = broker_profile(&broker, "username = \"me\"\npassword = \"s3cret\"");
    let config = Config::new("");
    // Readable by others, or by the group only (0640), or writable by the group: refused.
    for mode in [0o644, 0o640, 0o620, 0o604] {
        config.write(&text, mode);
        let out = config.run(&["pub", "-t", "p", "-m", "x"], &[]);
        assert_code(&out, 2);
        has(&out, "chmod 600");
        has(&out, &format!("(mode {mode:o})"));
        assert!(!stderr(&out).contains("s3cret"));
    }
    config.write(&text, 0o600);
    let out = config.run(&["pub", "-t", "p", "-m", "x", "-d"], &[]);
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
    // show hides it.
    let out = config.run(&["profile", "show", "here"], &[]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("password = \"(hidden)\""),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("s3cret"));
}

#[test]
fn password_command_env_and_file() {
    let broker = Broker::with_password("me", "s3cret");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pass");
    std::fs::write(&file, "s3cret\n").expect("write");
    for (source, env) in [
        // The command prints the password (not spelled out in it) and a line more.
        (
            "password_command = \"printf '%s%s\\\\n%s\\\\n' s3 cret ignored\"".to_string(),
            None,
        ),
        (
            "password_env = \"MY_PASS\"".to_string(),
            Some(("MY_PASS", "s3cret")),
        ),
        (format!("password_file = \"{}\"", file.display()), None),
    ] {
        let config = Config::new(&broker_profile(
            &broker,
            &format!("username = \"me\"\n{source}"),
        ));
        let out = config.run(&["pub", "-t", "p", "-m", "x", "-d"], env.as_slice());
        assert_code(&out, 0);
        has(&out, "(profile here)");
        assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
    }
    // A wrong password is the broker's refusal (5); a failing command is bad input (2).
    let config = Config::new(&broker_profile(
        &broker,
        "username = \"me\"\npassword_command = \"echo wrong\"",
    ));
    assert_code(&config.run(&["pub", "-t", "p", "-m", "x"], &[]), 5);
    let config = Config::new(&broker_profile(
        &broker,
        "username = \"me\"\npassword_command = \"exit 3\"",
    ));
    let out = config.run(&["pub", "-t", "p", "-m", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "password_command `exit 3` failed");
    // check --profile is how CI smoke-tests a named broker.
    let config = Config::new(&broker_profile(
        &broker,
        "username = \"me\"\npassword_env = \"MY_PASS\"",
    ));
    let out = config.run(
        &["check", "--profile", "here", "--only", "connect,qos1"],
        &[("MY_PASS", "s3cret")],
    );
    assert_code(&out, 0);
}

#[test]
fn profile_add_keeps_comments_and_other_profiles() {
    let config = Config::new("");
    // A new file is private.
    let out = config.run(
        &[
            "profile",
            "add",
            "cloud",
            "-h",
            "broker.example.com",
            "-p",
            "8883",
            "-u",
            "me",
            "--cafile",
            "/etc/ca.pem",
            "--password-command",
            "pass show mqtt",
            "--default",
        ],
        &[],
    );
    assert_code(&out, 0);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(config.path())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = config.text();
    assert!(text.contains("default_profile = \"cloud\""), "{text}");
    assert!(text.contains("[profiles.cloud]"), "{text}");
    assert!(text.contains("port = 8883"), "{text}");

    // An existing file keeps its comments and other profiles.
    config.write(
        &format!("# keep me\n{text}\n# and me\n[profiles.old]  # trailing\nhost = \"old\"\n"),
        0o600,
    );
    let out = config.run(
        &[
            "profile",
            "add",
            "local",
            "-h",
            "localhost",
            "-k",
            "5",
            "--password-env",
            "P",
        ],
        &[],
    );
    assert_code(&out, 0);
    let text = config.text();
    for kept in [
        "# keep me",
        "# and me",
        "[profiles.old]  # trailing",
        "[profiles.cloud]",
    ] {
        assert!(text.contains(kept), "{kept:?} in:\n{text}");
    }
    let out = config.run(&["profile", "list"], &[]);
    assert_eq!(stdout(&out), "cloud *\nlocal\nold\n");
    let out = config.run(&["profile", "show", "local"], &[]);
    assert_eq!(
        stdout(&out).lines().skip(1).collect::<Vec<_>>(),
        [
            "host = \"localhost\"",
            "keepalive = 5",
            "password-env = \"P\""
        ]
    );
    // -P is never stored.
    let out = config.run(&["profile", "add", "bad", "-u", "me", "-P", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "does not store a password given with -P");
    // Remove, and the default goes with it.
    assert_code(&config.run(&["profile", "remove", "cloud"], &[]), 0);
    let out = config.run(&["profile", "list"], &[]);
    assert_eq!(stdout(&out), "local\nold\n");
    assert!(!config.text().contains("default_profile"));
    assert_code(&config.run(&["profile", "remove", "cloud"], &[]), 2);
    let out = config.run(&["profile", "path"], &[]);
    assert_eq!(stdout(&out).trim(), config.path().display().to_string());
    let _ = Path::new("");
}

#[test]
fn a_password_in_a_profiles_url_is_a_plain_password() {
    let broker = Broker::with_password("me", "s3cret");
    let text = format!(
        "[profiles.u]\nurl = \"mqtt://me:s3cret@127.0.0.1:{}\"\n",
        broker.port
    );
    let config = Config::new("");
    config.write(&text, 0o644);
    let out = config.run(&["pub", "-t", "p", "-m", "x", "--profile", "u"], &[]);
    assert_code(&out, 2);
    has(&out, "chmod 600");
    assert!(!stderr(&out).contains("s3cret"));
    config.write(&text, 0o600);
    let out = config.run(&["pub", "-t", "p", "-m", "x", "--profile", "u", "-d"], &[]);
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
    // show masks it; add refuses to store one.
    let out = config.run(&["profile", "show", "u"], &[]);
    assert!(
        stdout(&out).contains("mqtt://me:***@127.0.0.1"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("s3cret"));
    let out = config.run(&["profile", "add", "v", "-L", "mqtt://me:s3cret@host"], &[]);
    assert_code(&out, 2);
    has(&out, "does not store the password of a URL");
    assert!(!config.text().contains("[profiles.v]"));
}

/// A profile's credentials (user name, password, client certificate) go only to its own host:
/// a command line naming another host drops them, and `-d` says so (as curl does not send
/// credentials to a redirect's other host).
#[test]
fn a_profiles_credentials_go_only_to_its_own_host() {
    use rumqttc::Packet;
    for (flags, env) in [
        (vec!["-h", "127.0.0.1", "-p", "PORT"], vec![]),
        (vec!["-L", "mqtt://127.0.0.1:PORT/t"], vec![]),
        (
            vec![],
            vec![("MQTT_HOST", "127.0.0.1"), ("MQTT_PORT", "PORT")],
        ),
    ] {
        let (port, broker) = fake_broker(|client| {
            let Packet::Connect(connect) = client.expect() else {
                panic!("expected CONNECT");
            };
            assert!(
                connect.login.is_none(),
                "credentials sent to another host: {:?}",
                connect.login
            );
            assert!(!connect.client_id.is_empty());
            client.send(Packet::ConnAck(rumqttc::ConnAck::new(
                rumqttc::ConnectReturnCode::Success,
                false,
            )));
            client.until_disconnect();
        });
        let config = Config::new(
            "default_profile = \"cloud\"\n\n[profiles.cloud]\nhost = \"cloud.example\"\nport = 8883\nusername = \"cloudy\"\npassword = \"cloud-secret\"\ncert = \"/nonexistent/client.pem\"\nkey = \"/nonexistent/client.key\"\n",
        );
        let port = port.to_string();
        let mut args: Vec<String> = vec!["pub".into()];
        args.extend(flags.iter().map(|arg| arg.replace("PORT", &port)));
        args.extend(["-t", "t", "-m", "x", "-d", "--no-tls"].map(String::from));
        let env: Vec<(&str, String)> = env
            .iter()
            .map(|(key, value)| (*key, value.replace("PORT", &port)))
            .collect();
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = config.run(&args, &env);
        assert_code(&out, 0);
        has(
            &out,
            "profile cloud: its user name and password are for cloud.example, not sent to 127.0.0.1",
        );
        has(
            &out,
            "profile cloud: its cert, key are for cloud.example, not sent to 127.0.0.1",
        );
        assert!(!stderr(&out).contains("cloud-secret"));
        broker.join().expect("fake broker");
        // For its own host, the profile's client certificate is used (and here missing).
        let out = config.run(&["pub", "-t", "t", "-m", "x"], &[]);
        assert_code(&out, 2);
        has(
            &out,
            "cannot read certificates from /nonexistent/client.pem",
        );
    }
}

/// One broken profile (a typo'd key, a key given twice in two spellings, a bad name) breaks
/// only itself: `profile list` and `show` mark it, commands using another profile run, and
/// using it names the file, line and key. A `default_profile` naming no profile is said so,
/// with its place.
#[test]
fn a_broken_profile_breaks_only_itself() {
    let broker = Broker::start();
    let config = Config::new(&format!(
        "default_profile = \"good\"\n\n[profiles.good]\nhost = \"127.0.0.1\"\nport = {}\n\n[profiles.typo]\nhostt = \"x\"\n\n[profiles.twice]\nconnect-timeout = \"5s\"\nconnect_timeout = \"6s\"\n\n[profiles.negative]\nkeepalive = -5\n\n[profiles.\"new\\nline\"]\nport = 1\n",
        broker.port
    ));
    let out = config.run(&["profile", "list"], &[]);
    assert_code(&out, 0);
    let listed = stdout(&out);
    assert!(listed.contains("good *\n"), "{listed}");
    assert!(
        listed.contains("\"typo\" (broken: ")
            && listed.contains(":8:1: profile 'typo': unknown key 'hostt' (did you mean 'host'?))"),
        "{listed}"
    );
    assert!(
        listed.contains(":12:1: profile 'twice': 'connect_timeout' is given twice (also at"),
        "{listed}"
    );
    assert!(listed.contains("\"new\\nline\" (broken: "), "{listed}");
    // --names (for completion) lists the usable ones only, one per line.
    let names = config.run(&["profile", "list", "--names"], &[]);
    assert_eq!(stdout(&names), "good\nnegative\n");
    let out = config.run(&["profile", "show", "typo"], &[]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("# broken: "), "{}", stdout(&out));
    // The default profile is fine: commands run.
    assert_code(&config.run(&["pub", "-t", "t", "-m", "x"], &[]), 0);
    // Using a broken one names where and what.
    let out = config.run(&["pub", "--profile", "typo", "-t", "t", "-m", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "config.toml:8:1: profile 'typo': unknown key 'hostt'");
    let out = config.run(
        &[
            "pub",
            "--profile",
            "negative",
            "-h",
            "127.0.0.1",
            "-t",
            "t",
            "-m",
            "x",
        ],
        &[],
    );
    assert_code(&out, 2);
    has(
        &out,
        "config.toml:15:1: profile 'negative': invalid value '-5' for '--keepalive",
    );
    // A default_profile naming no profile: said with its place; --profile still works.
    let config = Config::new(&format!(
        "default_profile = \"gone\"\n[profiles.good]\nhost = \"127.0.0.1\"\nport = {}\n",
        broker.port
    ));
    let out = config.run(&["profile", "list"], &[]);
    assert_code(&out, 0);
    has(
        &out,
        "config.toml:1:19: default_profile 'gone' names no profile (known: good)",
    );
    let out = config.run(&["pub", "-t", "t", "-m", "x"], &[]);
    assert_code(&out, 2);
    has(&out, "default_profile 'gone' names no profile");
    assert_code(
        &config.run(&["pub", "--profile", "good", "-t", "t", "-m", "x"], &[]),
        0,
    );
    // Names are letters, digits, '_', '.' and '-'.
    for bad in ["", "new\nline", "a b", "x/y"] {
        let out = config.run(&["profile", "add", bad, "-h", "h"], &[]);
        assert_code(&out, 2);
        has(
            &out,
            "a profile's name is letters, digits, '_', '.' and '-'",
        );
    }
    assert_code(
        &config.run(&["profile", "add", "ok_1.2-3", "-h", "h"], &[]),
        0,
    );
}
