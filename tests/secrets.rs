//! The password never shows: not in `--debug` traces, notices, or error messages, whichever way
//! it was given (-P, MQTT_PASSWORD, --password-file, the -L URL) and whether the connection
//! works, is refused, or fails.

mod common;

use common::*;

const SECRET: &str = "Zq7-s3cr3t-Xw9";

fn assert_hidden(what: &str, out: &std::process::Output) {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(!all.contains(SECRET), "{what} shows the password:\n{all}");
}

#[test]
fn the_password_never_appears_in_output() {
    let broker = Broker::with_password("alice", SECRET);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pw");
    std::fs::write(&file, format!("{SECRET}\n")).expect("write");
    let wrong_file = dir.path().join("wrong");
    std::fs::write(&wrong_file, format!("{SECRET}-wrong\n")).expect("write");
    let port = broker.port.to_string();
    let url = format!("mqtt://alice:{SECRET}@127.0.0.1:{port}/t");
    let wrong_url = format!("mqtt://alice:{SECRET}-wrong@127.0.0.1:{port}/t");
    let file = file.display().to_string();
    let wrong = format!("{SECRET}-wrong");
    let wrong_file = wrong_file.display().to_string();

    // (what, args, environment, expected exit code)
    type Run<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, String)>, i32);
    let runs: Vec<Run> = vec![
        (
            "-P",
            vec![
                "pub", "-t", "t", "-m", "x", "-u", "alice", "-P", SECRET, "-d",
            ],
            vec![],
            0,
        ),
        (
            "MQTT_PASSWORD",
            vec!["pub", "-t", "t", "-m", "x", "-u", "alice", "-d"],
            vec![("MQTT_PASSWORD", SECRET.to_string())],
            0,
        ),
        (
            "--password-file",
            vec![
                "pub",
                "-t",
                "t",
                "-m",
                "x",
                "-u",
                "alice",
                "--password-file",
                &file,
                "-d",
            ],
            vec![],
            0,
        ),
        (
            "MQTT_PASSWORD_FILE",
            vec!["sub", "-t", "t", "-u", "alice", "-E", "-d", "-V", "5"],
            vec![("MQTT_PASSWORD_FILE", file.clone())],
            0,
        ),
        (
            "the URL",
            vec!["pub", "-L", &url, "-m", "x", "-d"],
            vec![],
            0,
        ),
        (
            "a wrong -P",
            vec![
                "pub", "-t", "t", "-m", "x", "-u", "alice", "-P", &wrong, "-d",
            ],
            vec![],
            5,
        ),
        (
            "a wrong password file, MQTT 5",
            vec![
                "sub",
                "-t",
                "t",
                "-u",
                "alice",
                "--password-file",
                &wrong_file,
                "-d",
                "-V",
                "5",
            ],
            vec![],
            5,
        ),
        (
            "a wrong URL password",
            vec!["pub", "-L", &wrong_url, "-m", "x", "-d"],
            vec![],
            5,
        ),
        (
            "check",
            vec![
                "check", "-u", "alice", "-P", SECRET, "--only", "qos1", "--json", "-d",
            ],
            vec![],
            0,
        ),
        (
            "rr timing out",
            vec![
                "rr", "-u", "alice", "-P", SECRET, "-t", "a", "-e", "b", "-m", "x", "-W", "200ms",
                "-d",
            ],
            vec![],
            7,
        ),
    ];
    for (what, args, env, code) in runs {
        let mut all = vec![args[0].to_string()];
        if !args.contains(&"-L") {
            all.extend([
                "-h".to_string(),
                "127.0.0.1".to_string(),
                "-p".to_string(),
                port.clone(),
            ]);
        }
        all.extend(args[1..].iter().map(|arg| arg.to_string()));
        let mut command = cli();
        command.args(&all).stdin(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let out = wait_output(
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn"),
            std::time::Duration::from_secs(20),
        );
        assert_eq!(out.status.code(), Some(code), "{what}: {}", stderr(&out));
        assert_hidden(what, &out);
        if all.contains(&"-d".to_string()) && code != 2 {
            assert!(
                stderr(&out).contains("password <redacted>"),
                "{what}: {}",
                stderr(&out)
            );
        }
    }

    // Nowhere to connect, and a bad URL: the errors name things, never the password.
    let refused = run(
        &[
            "pub",
            "-L",
            &format!("mqtt://alice:{SECRET}@127.0.0.1:9/t"),
            "-m",
            "x",
            "-d",
        ],
        b"",
    );
    assert_code(&refused, 3);
    assert_hidden("a refused connection", &refused);
    let bad = run(
        &["pub", "-L", &format!("mqtt://alice:{SECRET}@/t"), "-m", "x"],
        b"",
    );
    assert_code(&bad, 2);
    assert_hidden("a bad URL", &bad);
}

#[test]
fn help_says_how_to_keep_the_password_off_the_command_line() {
    for command in [
        &["--help"][..],
        &["pub", "--help"],
        &["sub", "--help"],
        &["rr", "--help"],
        &["check", "--help"],
    ] {
        let out = run(command, b"");
        assert_code(&out, 0);
        let help = stdout(&out);
        assert!(
            help.contains("MQTT_PASSWORD or --password-file"),
            "{command:?}"
        );
    }
    let out = run(&["pub", "--help"], b"");
    assert!(
        stdout(&out).contains("Visible to other users in the process list"),
        "{}",
        stdout(&out)
    );
}
