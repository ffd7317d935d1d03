//! Limits before bytes: what MQTT or memory cannot carry is refused before anything is sent
//! (exit 2, port 9 where nothing listens, so that reaching the network would show as exit 3),
//! and input is read up to its cap, never until memory runs out; only regular files are read as
//! configuration; a password command has ten seconds.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `pub -h 127.0.0.1 -p 9 -t a ARGS` (nothing listens on port 9) with `env` set.
fn publish_to_port_9(env: &[(&str, &std::ffi::OsStr)], args: &[&str]) -> std::process::Output {
    let mut command = cli();
    command
        .envs(env.iter().copied())
        .args(["pub", "-h", "127.0.0.1", "-p", "9", "-t", "a"])
        .args(args);
    run_command(command, b"")
}

/// `publish_to_port_9` ends with exit 2 and one line containing `needle`.
fn refused_with(env: &[(&str, &std::ffi::OsStr)], args: &[&str], needle: &str) {
    let out = publish_to_port_9(env, args);
    assert_code(&out, 2);
    let said = stderr(&out);
    assert!(said.contains(needle), "{args:.40?}: {said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");
}

fn refused_before_connecting(args: &[&str], needle: &str) {
    refused_with(&[], args, needle);
}

#[test]
fn strings_over_65535_bytes_are_refused_before_connecting() {
    let long = "x".repeat(65_536);
    let just = "x".repeat(65_535);
    refused_before_connecting(&["-m", "1", "-u", &long], "the user name is 65536 bytes");
    refused_before_connecting(
        &["-m", "1", "-u", "u", "-P", &long],
        "the password is 65536 bytes: MQTT carries at most 65535",
    );
    refused_before_connecting(
        &["-m", "1", "--will-topic", "w", "--will-payload", &long],
        "the will payload (--will-payload) is 65536 bytes",
    );
    // At the limit it goes out (and fails to connect: port 9).
    let out = publish_to_port_9(&[], &["-m", "1", "-u", "u", "-P", &just]);
    assert_code(&out, 3);
    // From the environment and a file too.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("password");
    std::fs::write(&file, format!("{long}\n")).expect("write");
    refused_before_connecting(
        &[
            "-m",
            "1",
            "-u",
            "u",
            "--password-file",
            file.to_str().expect("path"),
        ],
        "is 65536 bytes",
    );
    refused_with(
        &[("MQTT_PASSWORD", long.as_ref())],
        &["-m", "1", "-u", "u"],
        "the password is 65536 bytes",
    );
}

#[test]
fn input_is_read_up_to_the_largest_packet_only() {
    // Endless files and pipes: reading stops at the protocol's limit.
    refused_before_connecting(&["-f", "/dev/zero"], "larger than the largest MQTT packet");
    let binary = env!("CARGO_BIN_EXE_mqtt-cli");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat /dev/zero | {binary} pub -h 127.0.0.1 -p 9 -t a -s"
        ))
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("standard input (-s) is larger than the largest MQTT packet"),
        "{}",
        stderr(&out)
    );
    // A pipe that ends is read as ever (process substitution gives -f a pipe).
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf hello | {binary} pub -h 127.0.0.1 -p 9 -t a -f /dev/stdin"
        ))
        .output()
        .expect("run sh");
    assert_code(&out, 3);
}

#[test]
fn an_endless_unpaced_repeat_is_refused() {
    refused_before_connecting(
        &["-m", "1", "--repeat", "0"],
        "--repeat 0 (until interrupted) needs --interval",
    );
    // With a pace (0: as fast as possible) it is asked for.
    let out = publish_to_port_9(&[], &["-m", "1", "--repeat", "0", "--interval", "0"]);
    assert_code(&out, 3);
}

#[test]
fn configuration_is_read_only_from_a_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for config in [
        fifo.as_path(),
        std::path::Path::new("/dev/zero"),
        dir.path(),
    ] {
        let started = Instant::now();
        refused_with(
            &[("MQTT_CLI_CONFIG", config.as_os_str())],
            &["-m", "1"],
            "is not a regular file",
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "# x\n".repeat(300_000)).expect("write");
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut command = cli();
    command
        .env("MQTT_CLI_CONFIG", &big)
        .args(["profile", "list"]);
    let out = run_command(command, b"");
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("larger than 1048576 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_password_command_has_ten_seconds_and_a_size_limit() {
    let cases = [
        ("sleep 100", "printed nothing within 10 s"),
        ("echo pw; sleep 100", "printed but did not end within 10 s"),
        (
            "head -c 200000000 /dev/zero",
            "printed more than 1048576 bytes",
        ),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|(command, says)| {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = dir.path().join("config.toml");
            std::fs::write(
                &config,
                format!(
                    "[profiles.slow]\nhost = \"127.0.0.1\"\nport = 9\nusername = \"u\"\npassword_command = \"{command}\"\n"
                ),
            )
            .expect("write");
            std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
            let child = cli()
                .env("MQTT_CLI_CONFIG", &config)
                .args(["pub", "--profile", "slow", "-t", "a", "-m", "1"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start");
            (dir, child, *says, Instant::now())
        })
        .collect();
    for (_dir, child, says, started) in runs {
        let out = wait_output(child, STEP);
        assert_code(&out, 2);
        let said = stderr(&out);
        assert!(said.contains("profile 'slow': password_command"), "{said}");
        assert!(said.contains(says), "{said}");
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "{:?}",
            started.elapsed()
        );
    }
}
