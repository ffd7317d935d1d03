//! sub's output formats against a real mosquitto: templates, JSON lines, -N.

mod common;

use common::*;

fn publish_file(broker: &Broker, topic: &str, payload: &[u8], extra: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("payload");
    std::fs::write(&path, payload).expect("write");
    let mut args = vec!["pub", "-t", topic, "-f", path.to_str().expect("utf-8")];
    args.extend(extra);
    assert_code(&run_on(broker, &args), 0);
}

#[test]
fn template_prints_each_code() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &[
            "-t",
            "fmt/#",
            "-C",
            "1",
            "-q",
            "1",
            "-F",
            r"%t|%p|%x|%b|%l|%q|%r|%%\t%I",
        ],
    );
    publish_file(&broker, "fmt/a", b"hi!", &["-q", "1"]);
    let out = sub.finish();
    assert_code(&out, 0);
    let line = stdout(&out);
    let (fixed, time) = line.trim_end().split_once('\t').expect("tab");
    assert_eq!(fixed, "fmt/a|hi!|686921|aGkh|3|1|0|%");
    // mosquitto_sub's %I: local time to the second and a numeric offset.
    assert!(is_iso_with_offset(time), "{time}");
}

#[test]
fn a_template_wins_over_verbose_as_in_mosquitto_sub() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "tv", "-C", "1", "-v", "-F", "%t=%p"]);
    publish_file(&broker, "tv", b"x", &[]);
    let out = sub.finish();
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "tv=x\n");
}

#[test]
fn json_lines_keep_binary_payloads_intact() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "bin/#", "-C", "2", "--json"]);
    publish_file(&broker, "bin/text", "grüße 21.5".as_bytes(), &["-r"]);
    publish_file(&broker, "bin/raw", b"\x00\xff\x00tail", &[]);
    let out = sub.finish();
    assert_code(&out, 0);
    let text = stdout(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("valid JSON per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["topic"], "bin/text");
    assert_eq!(lines[0]["payload"], "grüße 21.5");
    assert_eq!(lines[0]["qos"], 0);
    assert!(
        lines[0]["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    // Not UTF-8 (and with NUL bytes): base64, never truncated.
    assert_eq!(lines[1]["payload_base64"], "AP8AdGFpbA==");
    assert!(lines[1].get("payload").is_none());
}

#[test]
fn json_pretty_and_forced_encodings() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &[
            "-t",
            "p",
            "-C",
            "1",
            "--json",
            "--pretty",
            "--payload-encoding",
            "hex",
        ],
    );
    publish_file(&broker, "p", b"AB", &[]);
    let out = sub.finish();
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    assert_eq!(value["payload_hex"], "4142");
    assert!(
        stdout(&out).lines().count() > 3,
        "pretty output spans lines"
    );
}

#[test]
fn no_newline_and_bad_templates() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "n", "-C", "2", "-N"]);
    assert_code(
        &run_on(&broker, &["pub", "-t", "n", "-m", "a", "-m", "b"]),
        0,
    );
    assert_eq!(stdout(&sub.finish()), "ab");
    for (template, needle) in [
        ("%z", "unknown format code %z"),
        ("100%", "lone %"),
        (r"\q", r"unknown escape \q"),
    ] {
        let out = run(
            &[
                "sub",
                "-h",
                "127.0.0.1",
                "-p",
                "9",
                "-t",
                "x",
                "-F",
                template,
            ],
            b"",
        );
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains(needle),
            "{template}: {}",
            stderr(&out)
        );
    }
    let out = run(
        &[
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            "9",
            "-t",
            "x",
            "--json",
            "-F",
            "%t",
        ],
        b"",
    );
    assert_code(&out, 2);
}

#[test]
fn filter_out_hides_matching_topics() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &["-t", "home/#", "-T", "home/+/debug", "-C", "2", "-v"],
    );
    for topic in [
        "home/kitchen/debug",
        "home/kitchen/temp",
        "home/hall/debug",
        "home/hall",
    ] {
        assert_code(&run_on(&broker, &["pub", "-t", topic, "-m", "x"]), 0);
    }
    assert_eq!(stdout(&sub.finish()), "home/kitchen/temp x\nhome/hall x\n");
}

#[test]
fn retained_only_lists_retained_messages_and_remove_retained_clears_them() {
    let broker = Broker::start();
    for (topic, value) in [("state/a", "1"), ("state/b", "2"), ("state/c", "3")] {
        assert_code(
            &run_on(&broker, &["pub", "-t", topic, "-m", value, "-r", "-q", "1"]),
            0,
        );
    }
    // Lists what is retained, then ends by itself after the quiet spell.
    let out = run_on(&broker, &["sub", "-t", "state/#", "--retained-only", "-v"]);
    assert_code(&out, 0);
    let mut lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    lines.sort();
    assert_eq!(lines, vec!["state/a 1", "state/b 2", "state/c 3"]);

    // Clears them (and waits for the broker to confirm).
    let out = run_on(
        &broker,
        &[
            "sub",
            "-t",
            "state/#",
            "--retained-only",
            "--remove-retained",
        ],
    );
    assert_code(&out, 0);
    let out = run_on(&broker, &["sub", "-t", "state/#", "--retained-only"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "", "nothing retained any more");
}

#[test]
fn remove_retained_spares_what_filter_out_and_match_hide() {
    let broker = Broker::start();
    for (topic, value) in [("rr/1", "one"), ("rr/2", "two"), ("rr/3", "keep-me")] {
        assert_code(
            &run_on(&broker, &["pub", "-t", topic, "-m", value, "-r", "-q", "1"]),
            0,
        );
    }
    // -T hides rr/2 and --match hides the payload without an 'o' at the end: neither is cleared.
    let out = run_on(
        &broker,
        &[
            "sub",
            "-t",
            "rr/#",
            "-T",
            "rr/2",
            "--match",
            "ne$",
            "--retained-only",
            "--remove-retained",
            "-v",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "rr/1 one\n");
    let out = run_on(&broker, &["sub", "-t", "rr/#", "--retained-only", "-v"]);
    let mut kept: Vec<String> = stdout(&out).lines().map(String::from).collect();
    kept.sort();
    assert_eq!(kept, vec!["rr/2 two", "rr/3 keep-me"]);
}

#[test]
fn retained_only_stops_at_the_first_live_message() {
    let broker = Broker::start();
    assert_code(&run_on(&broker, &["pub", "-t", "s", "-m", "old", "-r"]), 0);
    // A live message right after the retained one ends the run before the quiet spell.
    let sub = Background::sub(&broker, &["-t", "s", "--retained-only", "-W", "10s", "-d"]);
    assert_code(&run_on(&broker, &["pub", "-t", "s", "-m", "live"]), 0);
    let out = sub.finish();
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "old\n");
    // It did see the live message (so it ended on it, not on the quiet spell).
    assert!(stderr(&out).contains("retain 0"), "{}", stderr(&out));
}

/// Drops the `timestamp` of each JSON line, for comparing captures.
fn without_timestamps(capture: &str) -> Vec<serde_json::Value> {
    capture
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            value.as_object_mut().expect("object").remove("timestamp");
            value
        })
        .collect()
}

#[test]
fn a_capture_replayed_and_captured_again_is_identical_but_for_timestamps() {
    let broker = Broker::start();
    let record = Background::sub(&broker, &["-t", "rec/#", "-q", "2", "-C", "4", "--json"]);
    publish_file(
        &broker,
        "rec/bin",
        b"\x00\x01\xfe\xff nul and invalid utf-8",
        &["-q", "2"],
    );
    publish_file(&broker, "rec/text", "héllo".as_bytes(), &["-q", "1", "-r"]);
    assert_code(&run_on(&broker, &["pub", "-t", "rec/empty", "-n"]), 0);
    assert_code(
        &run_on(
            &broker,
            &["pub", "-t", "rec/text", "-m", "second", "-q", "2"],
        ),
        0,
    );
    let first = stdout(&record.finish());

    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.jsonl");
    std::fs::write(&capture, &first).expect("write capture");
    let again = Background::sub(
        &broker,
        &["-t", "rec/#", "-q", "2", "-C", "4", "--json", "-R"],
    );
    let out = run_on(
        &broker,
        &[
            "pub",
            "--replay",
            capture.to_str().expect("utf-8"),
            "--replay-timing",
        ],
    );
    assert_code(&out, 0);
    let second = stdout(&again.finish());
    assert_eq!(without_timestamps(&first), without_timestamps(&second));
    assert!(
        first.contains("payload_base64"),
        "the binary payload went through base64"
    );

    // --replay-timing keeps the recorded gaps.
    std::fs::write(
        &capture,
        concat!(
            r#"{"topic":"t","payload":"a","timestamp":"2026-11-22T08:00:00.000Z"}"#,
            "\n",
            r#"{"topic":"t","payload":"b","timestamp":"2026-11-22T08:00:00.400Z"}"#,
            "\n"
        ),
    )
    .expect("write");
    let path = capture.to_str().expect("utf-8");
    let started = std::time::Instant::now();
    assert_code(
        &run_on(&broker, &["pub", "--replay", path, "--replay-timing"]),
        0,
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));

    // ...on average too, when they are shorter than the timer's millisecond: 5,000 messages
    // 100 us apart take half a second, not a millisecond each (5 s and more).
    let lines: String = (0..5000)
        .map(|i| {
            format!(
                "{{\"topic\":\"t\",\"payload\":\"{i}\",\"timestamp\":\"2026-11-22T08:00:00.{:06}Z\"}}\n",
                i * 100
            )
        })
        .collect();
    std::fs::write(&capture, lines).expect("write");
    let started = std::time::Instant::now();
    assert_code(
        &run_on(&broker, &["pub", "--replay", path, "--replay-timing"]),
        0,
    );
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(499)
            && took < std::time::Duration::from_millis(2500),
        "{took:?} for a capture of 0.5 s"
    );

    // A broken capture is bad input naming the line.
    std::fs::write(
        &capture,
        "{\"topic\":\"ok\",\"payload\":\"x\"}\n{\"topic\":\"a/#\"}\n",
    )
    .expect("write");
    let out = run_on(
        &broker,
        &["pub", "--replay", capture.to_str().expect("utf-8")],
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("capture.jsonl line 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_help_carries_the_schema_itself() {
    for subcommand in ["sub", "rr", "check"] {
        let out = run(&[subcommand, "--help"], b"");
        assert_code(&out, 0);
        let help = stdout(&out);
        let keys: &[&str] = if subcommand == "check" {
            &["\"checks\"", "\"duration_ms\""]
        } else {
            &["\"timestamp\"", "\"payload_base64\"", "\"user_properties\""]
        };
        for key in keys {
            assert!(help.contains(key), "{subcommand} --help lacks {key}");
        }
        assert!(
            !help.contains("README"),
            "{subcommand} --help points to the README"
        );
    }
}

#[test]
fn stats_table_on_stderr_and_stdout_unchanged() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "stats/#", "-C", "5", "--stats", "-v"]);
    let args = command("pub", &broker, &["-t", "stats/busy", "-l", "-q", "1"]);
    assert_code(&run_args(&args, b"1\n22\n333\n"), 0);
    let args = command("pub", &broker, &["-t", "stats/calm", "-l", "-q", "1"]);
    assert_code(&run_args(&args, b"abcd\nxy\n"), 0);
    let out = sub.finish();
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "stats/busy 1\nstats/busy 22\nstats/busy 333\nstats/calm abcd\nstats/calm xy\n"
    );
    let err = stderr(&out);
    let rows: Vec<Vec<&str>> = err
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    let row = |topic: &str| {
        rows.iter()
            .find(|row| row.first() == Some(&topic))
            .unwrap_or_else(|| panic!("no {topic} row in:\n{err}"))
            .clone()
    };
    assert_eq!(
        row("topic"),
        ["topic", "messages", "per", "second", "last", "size"]
    );
    // busy: 3 messages, the last one 3 bytes; calm: 2, the last 2 bytes. Busiest first.
    let busy = row("stats/busy");
    assert_eq!((busy[1], busy[3], busy[4]), ("3", "3", "B"), "{err}");
    let calm = row("stats/calm");
    assert_eq!((calm[1], calm[3]), ("2", "2"), "{err}");
    let position = |topic: &str| err.find(topic).expect("row");
    assert!(position("stats/busy") < position("stats/calm"), "{err}");
    assert!(err.contains("5 messages on 2 topics"), "{err}");
    // Not a terminal: no live line.
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// `2026-11-29T11:31:06+0000`, as mosquitto_sub prints %I.
fn is_iso_with_offset(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| range.into_iter().all(|i| bytes[i].is_ascii_digit());
    bytes.len() == 24
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && (bytes[19] == b'+' || bytes[19] == b'-')
        && digits(20..24)
}
