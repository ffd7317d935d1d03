//! mosquitto_pub/mosquitto_sub command lines run unchanged: each spelling of mosquitto's is
//! run with mosquitto's client and with ours against the same broker where the behaviour can be
//! compared, else with ours alone, and what arrives is checked. (The README's comparison table
//! lists the differences.)

mod common;

use std::process::{Command, Output};

use common::*;

/// mosquitto_pub with `args` (after the broker's -h/-p), `stdin` as its input.
fn mosquitto_pub(broker: &Broker, args: &[&str], stdin: &[u8]) -> Output {
    let mut command = Command::new("mosquitto_pub");
    command.args(broker.args()).args(args);
    run_command(command, stdin)
}

/// What a subscriber to `topic` gets while `publish` runs, `count` messages.
fn received(
    broker: &Broker,
    topic: &str,
    count: usize,
    publish: impl FnOnce() -> Output,
) -> String {
    let count = count.to_string();
    let sub = Background::sub(broker, &["-t", topic, "-C", &count, "-W", "10s"]);
    let out = publish();
    assert_code(&out, 0);
    let got = sub.finish();
    assert_code(&got, 0);
    stdout(&got)
}

/// The same command line through mosquitto_pub and `mqtt-cli pub`: the same messages arrive.
fn same_as_mosquitto_pub(args: &[&str], stdin: &[u8], count: usize) -> String {
    let broker = Broker::start();
    let topic = "compat/t";
    let mut full = vec!["-t", topic];
    full.extend_from_slice(args);
    let theirs = received(&broker, topic, count, || {
        mosquitto_pub(&broker, &full, stdin)
    });
    let mut ours_args = vec!["pub"];
    ours_args.extend_from_slice(&full);
    let ours = received(&broker, topic, count, || {
        run_args(&command(ours_args[0], &broker, &ours_args[1..]), stdin)
    });
    assert_eq!(ours, theirs, "mqtt-cli pub {args:?} vs mosquitto_pub");
    ours
}

#[test]
fn publish_spellings_deliver_what_mosquitto_pub_delivers() {
    assert_eq!(
        same_as_mosquitto_pub(&["--stdin-line"], b"a\nb\n", 2),
        "a\nb\n"
    );
    assert_eq!(
        same_as_mosquitto_pub(&["--stdin-file"], b"a\nb", 1),
        "a\nb\n"
    );
    // An empty message arrives (-C 1 ends) and prints nothing, as mosquitto_sub.
    assert_eq!(same_as_mosquitto_pub(&["--null-message"], b"", 1), "");
    assert_eq!(
        same_as_mosquitto_pub(
            &["-m", "x", "--repeat", "3", "--repeat-delay", "0.01"],
            b"",
            3
        ),
        "x\nx\nx\n"
    );
    assert_eq!(
        same_as_mosquitto_pub(&["-l", "-q", "1", "-M", "2", "--nodelay"], b"1\n2\n3\n", 3),
        "1\n2\n3\n"
    );
    assert_eq!(
        same_as_mosquitto_pub(&["-m", "v5", "-V", "mqttv5", "-I", "dev-"], b"", 1),
        "v5\n"
    );
}

/// `mqtt-cli ARGS -d` against `broker`: its trace.
fn traced(broker: &Broker, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("-d");
    let out = run_args(&command(all[0], broker, &all[1..]), b"");
    assert_code(&out, 0);
    stderr(&out)
}

#[test]
fn connection_spellings_mean_what_they_mean_to_mosquitto() {
    let broker = Broker::start();
    let trace = traced(
        &broker,
        &[
            "pub",
            "-t",
            "t",
            "-m",
            "x",
            "--disable-clean-session",
            "-i",
            "keep",
        ],
    );
    assert!(
        trace.contains("client id \"keep\"") && trace.contains("clean false"),
        "{trace}"
    );
    // -I: the prefix and the process id.
    let trace = traced(&broker, &["pub", "-t", "t", "-m", "x", "-I", "dev-"]);
    assert!(trace.contains("client id \"dev-"), "{trace}");
    // -x -1: the session never expires (MQTT 5).
    let out = run_on(
        &broker,
        &[
            "sub", "-t", "t", "-V", "5", "-c", "-i", "forever", "-x", "-1", "-E",
        ],
    );
    assert_code(&out, 0);
    // --pw with a user name.
    let secured = Broker::with_password("me", "s3cret");
    let out = run_on(
        &secured,
        &["pub", "-t", "t", "-m", "x", "-u", "me", "--pw", "s3cret"],
    );
    assert_code(&out, 0);
    // --version after the subcommand, as mosquitto_pub --version.
    for sub in ["pub", "sub", "rr", "check"] {
        let out = run(&[sub, "--version"], b"");
        assert_code(&out, 0);
        assert!(stdout(&out).contains(env!("CARGO_PKG_VERSION")), "{sub}");
    }
    // MQTT 3.1 by each of mosquitto's names (tests/mqtt31.rs goes further).
    for version in ["31", "mqttv31"] {
        let trace = traced(&broker, &["pub", "-t", "t", "-m", "x", "-V", version]);
        assert!(trace.contains("(MQTT 3.1, client id"), "{trace}");
    }
}

#[test]
fn property_flags_send_what_mosquitto_sends() {
    let broker = Broker::start();
    // -D publish ...: the same properties arrive (message expiry counts down: not compared).
    let args = [
        "-t",
        "props/t",
        "-m",
        "x",
        "-D",
        "publish",
        "content-type",
        "text/plain",
        "-D",
        "publish",
        "user-property",
        "k",
        "v",
        "--property",
        "publish",
        "user-property",
        "k",
        "w",
        "-D",
        "publish",
        "response-topic",
        "r/t",
        "-D",
        "publish",
        "correlation-data",
        "c1",
        "-D",
        "publish",
        "payload-format-indicator",
        "1",
        "-D",
        "publish",
        "message-expiry-interval",
        "3600",
    ];
    let printed = |publish: &dyn Fn() -> Output| {
        let format = "%C|%P|%R|%D|%F";
        let sub = Background::sub(
            &broker,
            &["-V", "5", "-t", "props/t", "-C", "1", "-F", format],
        );
        assert_code(&publish(), 0);
        stdout(&sub.finish())
    };
    let theirs = printed(&|| mosquitto_pub(&broker, &args, b""));
    let ours = printed(&|| run_args(&command("pub", &broker, &args), b""));
    assert_eq!(ours, "text/plain|k:v k:w|r/t|c1|1\n");
    assert_eq!(ours, theirs);
    // -D subscribe subscription-identifier: the broker tags what the subscription brings.
    assert_code(
        &run_on(&broker, &["pub", "-t", "props/r", "-m", "x", "-r"]),
        0,
    );
    let (theirs, ours) = both_print(
        &broker,
        "props/r",
        &[
            "-D",
            "subscribe",
            "subscription-identifier",
            "7",
            "-F",
            "%S",
        ],
    );
    assert_eq!(stdout(&theirs), "7\n");
    assert_eq!(stdout(&ours), stdout(&theirs));
    // -D connect ...: in CONNECT, which -D makes MQTT 5 (as mosquitto's -D does).
    let trace = traced(
        &broker,
        &[
            "pub",
            "-t",
            "t",
            "-m",
            "x",
            "-i",
            "props",
            "-D",
            "connect",
            "user-property",
            "a",
            "b",
            "-D",
            "connect",
            "session-expiry-interval",
            "30",
            "-D",
            "connect",
            "receive-maximum",
            "5",
        ],
    );
    assert!(
        trace.contains("MQTT 5")
            && trace.contains(
                "session expiry 30s, receive maximum 5, user properties [(\"a\", \"b\")]"
            ),
        "{trace}"
    );
    // What cannot be sent yet is named; exit 2 before connecting.
    for (args, says) in [
        (
            &[
                "pub",
                "-t",
                "t",
                "-m",
                "x",
                "-D",
                "connect",
                "authentication-method",
                "SCRAM",
            ][..],
            "-D connect authentication-method: mqtt-cli pub cannot send this property yet",
        ),
        (
            &[
                "pub",
                "-t",
                "t",
                "-m",
                "x",
                "-D",
                "disconnect",
                "reason-string",
                "bye",
            ][..],
            "-D disconnect reason-string: mqtt-cli pub cannot send this property yet",
        ),
        (
            &["sub", "-t", "t", "-D", "publish", "content-type", "x"][..],
            "mqtt-cli sub sends no PUBLISH packet",
        ),
        (
            &[
                "pub",
                "-t",
                "t",
                "-m",
                "x",
                "-D",
                "connect",
                "content-type",
                "x",
            ][..],
            "MQTT 5 does not allow content-type in CONNECT",
        ),
        (
            &["pub", "-t", "t", "-m", "x", "-D", "publish"][..],
            "the property is missing",
        ),
    ] {
        let out = run(args, b"");
        assert_code(&out, 2);
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn tls_spellings_are_accepted() {
    let pki = common::pki::Pki::new();
    let broker = pki.broker("server", "");
    let ca = pki.arg("ca.pem");
    for extra in [
        vec!["--tls-version", "tlsv1.2"],
        vec!["--tls-version", "tlsv1.3"],
        vec!["--tls-alpn", "mqtt"],
    ] {
        let mut args = vec!["pub", "-t", "t", "-m", "x", "--cafile", &ca];
        args.extend_from_slice(&extra);
        assert_code(&run_on(&broker, &args), 0);
    }
    // --tls-use-os-certs: the system's roots, which do not hold the test CA (exit 4, TLS).
    let out = run_on(
        &broker,
        &["pub", "-t", "t", "-m", "x", "--tls-use-os-certs"],
    );
    assert_code(&out, 4);
}

#[test]
fn ciphers_name_the_suites_as_mosquitto_does() {
    // A listener with one TLS 1.3 suite. mosquitto 2.0.11's broker cannot be kept to TLS 1.2
    // (its tls_version is a minimum), so TLS 1.2 names are compared where they leave TLS 1.3
    // alone (as OpenSSL's cipher list does), and the TLS 1.2 choice is a unit test in tls.rs.
    let pki = common::pki::Pki::new();
    let broker = pki.broker("server", "ciphers_tls1.3 TLS_AES_128_GCM_SHA256\n");
    let ca = pki.arg("ca.pem");
    // (the list, our exit code, mosquitto_pub's if it knows the names)
    for (ciphers, code, theirs) in [
        ("ECDHE-ECDSA-AES256-GCM-SHA384", 0, Some(0)),
        (
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
            0,
            Some(0),
        ),
        ("TLS_AES_128_GCM_SHA256", 0, None),
        ("TLS13_AES_128_GCM_SHA256", 0, None),
        (
            "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
            4,
            None,
        ),
    ] {
        let args = ["-t", "t", "-m", "x", "--cafile", &ca, "--ciphers", ciphers];
        let mut ours = vec!["pub"];
        ours.extend_from_slice(&args);
        let ours = run_on(&broker, &ours);
        assert_code(&ours, code);
        if code == 4 {
            assert!(
                stderr(&ours).contains("the broker accepts none of the --ciphers suites"),
                "{}",
                stderr(&ours)
            );
        }
        if let Some(theirs) = theirs {
            assert_code(&mosquitto_pub(&broker, &args, b""), theirs);
        }
    }
    // Names rustls does not have: one line, exit 2, before connecting.
    for bad in ["HIGH:!aNULL", "AES256-SHA", "DHE-RSA-AES256-GCM-SHA384"] {
        let out = run(&["pub", "-t", "t", "-m", "x", "--ciphers", bad], b"");
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("is not a cipher suite rustls has"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn random_filter_prints_about_that_share() {
    let broker = Broker::start();
    let input: String = (1..=1000).map(|n| format!("{n}\n")).collect();
    let sub = |percent: &str| {
        Background::sub(
            &broker,
            &[
                "-t",
                "rf",
                "-q",
                "1",
                "--random-filter",
                percent,
                "-W",
                "5s",
            ],
        )
    };
    let (all, half) = (sub("100"), sub("50"));
    let publish = command("pub", &broker, &["-t", "rf", "-q", "1", "-l"]);
    assert_code(&run_args(&publish, input.as_bytes()), 0);
    assert_eq!(stdout(&all.finish()).lines().count(), 1000);
    // Binomial(1000, 0.5): outside 350-650 with a probability under 1e-20.
    let shown = stdout(&half.finish()).lines().count();
    assert!((350..=650).contains(&shown), "{shown} of 1000 at 50%");
    for bad in ["0", "101", "lots"] {
        assert_code(&run(&["sub", "-t", "rf", "--random-filter", bad], b""), 2);
    }
}

/// mosquitto_sub's and our output for `args` (`sub ... -C 1`) on the retained message of `topic`.
fn both_print(broker: &Broker, topic: &str, args: &[&str]) -> (Output, Output) {
    let mut all = vec!["-V", "5", "-q", "1", "-t", topic, "-C", "1"];
    all.extend_from_slice(args);
    let theirs = {
        let mut command = Command::new("mosquitto_sub");
        command.args(broker.args()).args(&all).env("TZ", "UTC");
        run_command(command, b"")
    };
    let ours = {
        let mut sub = vec!["sub"];
        sub.extend_from_slice(&all);
        let mut command = cli();
        command.args(command_args(broker, &sub)).env("TZ", "UTC");
        run_command(command, b"")
    };
    (theirs, ours)
}

#[test]
fn format_codes_print_what_mosquitto_sub_prints() {
    let broker = Broker::start();
    let published = run_on(
        &broker,
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "fmt/m",
            "-m",
            r#"{"v":"hé!","n":[1,2.5,{"k":null}],"e":{},"f":[],"t":true}"#,
            "-q",
            "1",
            "-r",
            "--user-property",
            "k=v",
            "--user-property",
            "k=w",
            "--user-property",
            "k2=v2",
            "--content-type",
            "text/plain",
            "--payload-format",
            "utf8",
            "--response-topic",
            "fmt/reply",
            "--correlation-data",
            "c-1",
        ],
    );
    assert_code(&published, 0);
    // Every code and escape whose output does not depend on the moment (a year changes once a
    // year; %I, %U, @N... are checked against the clock in the unit tests), with widths and
    // flags; then mosquitto's JSON, compact and --pretty, its time of arrival left out. -v
    // does not change a template's output.
    let cases: &[&[&str]] = &[
        &[
            "-F",
            r"%t|%p|%l|%q|%r|%m|%x|%X|%P|%C|%D|%E|%F|%R|%A|%S|%%|[\0\a\e\r\v\t\\\n]|@Y|@@",
        ],
        &[
            "-F",
            "[%20t|%-20t|%.3t|%10.3t|%-10.3t|%5l|%-5l|%05l|%5m|%-5m|%03m|%5F|%05F]",
        ],
        &[
            "-F",
            "[%10p|%-10p|%010p|%5p|%07x|%08X|%-8x|%20C|%-20C|%.4C|%12R|%.3R|%5A|%05A|%-5E|%5S]",
        ],
        &["-F", "%j"],
        &["-F", "%J"],
        &["-F", "%j", "--pretty"],
        &["-F", "%J", "--pretty"],
        &["-v", "-F", "%t=%p"],
    ];
    for args in cases {
        let (theirs, ours) = both_print(&broker, "fmt/m", args);
        assert_code(&theirs, 0);
        assert_code(&ours, 0);
        assert_eq!(
            without_tst(&stdout(&ours)),
            without_tst(&stdout(&theirs)),
            "{args:?}\nours   {:?}\ntheirs {:?}",
            stdout(&ours),
            stdout(&theirs)
        );
    }
    assert_code(&run_on(&broker, &["pub", "-t", "fmt/m", "-n", "-r"]), 0);

    // Properties in the order the broker sent them, as mosquitto_sub prints them: here the
    // order mosquitto_pub's -D gave them, not the one we write ours in.
    let published = mosquitto_pub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "fmt/order",
            "-m",
            "{}",
            "-r",
            "-D",
            "publish",
            "response-topic",
            "r/t",
            "-D",
            "publish",
            "content-type",
            "text/plain",
            "-D",
            "publish",
            "user-property",
            "k",
            "v",
            "-D",
            "publish",
            "correlation-data",
            "c-2",
            "-D",
            "publish",
            "payload-format-indicator",
            "1",
            "-D",
            "publish",
            "user-property",
            "k2",
            "v2",
        ],
        b"",
    );
    assert_code(&published, 0);
    for args in [&["-F", "%j"][..], &["-F", "%J", "--pretty"]] {
        let (theirs, ours) = both_print(&broker, "fmt/order", args);
        assert_code(&ours, 0);
        assert!(
            stdout(&theirs).contains(r#""properties":{"response-topic":"r/t","content-type""#)
                || args.len() == 3,
            "{}",
            stdout(&theirs)
        );
        assert_eq!(
            without_tst(&stdout(&ours)),
            without_tst(&stdout(&theirs)),
            "{args:?}"
        );
    }
    assert_code(&run_on(&broker, &["pub", "-t", "fmt/order", "-n", "-r"]), 0);
}

#[test]
fn payloads_mosquitto_sub_prints_differently() {
    let broker = Broker::start();
    for (topic, payload) in [("odd/nul", "a\0b"), ("odd/text", "not json")] {
        let mut command = cli();
        command.args(command_args(&broker, &["pub", "-t", topic, "-s", "-r"]));
        assert_code(&run_command(command, payload.as_bytes()), 0);
    }
    // %j: mosquitto cuts the payload at the NUL byte; ours is whole (and valid JSON).
    let (theirs, ours) = both_print(&broker, "odd/nul", &["-F", "%j"]);
    assert!(
        stdout(&theirs).contains(r#""payloadlen":3,"payload":"a"}"#),
        "{}",
        stdout(&theirs)
    );
    assert!(
        stdout(&ours).contains(r#""payloadlen":3,"payload":"a\u0000b"}"#),
        "{}",
        stdout(&ours)
    );
    // %J on a payload that is not JSON: mosquitto prints an error and what came before; we
    // print nothing of that message and warn on stderr.
    let (theirs, ours) = both_print(&broker, "odd/text", &["-F", "<%J>"]);
    assert!(
        stderr(&theirs).contains("not valid JSON"),
        "{}",
        stderr(&theirs)
    );
    assert_eq!(stdout(&ours), "");
    assert!(
        stderr(&ours).contains("the payload on odd/text is not JSON (-F %J): message not printed"),
        "{}",
        stderr(&ours)
    );
    assert_code(&ours, 0);
}

#[test]
fn empty_payload_without_v_prints_nothing_as_mosquitto_sub() {
    let broker = Broker::start();
    let theirs = {
        let mut command = Command::new("mosquitto_sub");
        command
            .args(broker.args())
            .args(["-t", "empty/t", "-C", "2", "-i", "their-sub"]);
        command.stdout(std::process::Stdio::piped());
        command.spawn().expect("mosquitto_sub")
    };
    broker.wait_for_subscription("their-sub");
    let ours = Background::sub(&broker, &["-t", "empty/t", "-C", "2"]);
    assert_code(&run_on(&broker, &["pub", "-t", "empty/t", "-n"]), 0);
    assert_code(&run_on(&broker, &["pub", "-t", "empty/t", "-m", "x"]), 0);
    let theirs = wait_output(theirs, std::time::Duration::from_secs(10));
    let ours = ours.finish();
    assert_code(&ours, 0);
    assert_eq!(stdout(&theirs), "x\n");
    assert_eq!(stdout(&ours), stdout(&theirs));
}

fn command_args(broker: &Broker, args: &[&str]) -> Vec<String> {
    command(args[0], broker, &args[1..])
}
