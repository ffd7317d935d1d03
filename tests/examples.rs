//! The examples, run for real: `cargo test` builds them next to the test binaries.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().expect("test path");
    let path = deps
        .parent()
        .and_then(|dir| dir.parent())
        .map(|dir| dir.join("examples").join(name))
        .expect("target dir");
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    path
}

#[test]
fn blink_toggles_the_led_and_stops_on_ctrl_c() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "led", "-C", "3", "-q", "1"]);
    let mut blink = Command::new(example("blink"))
        .args(["127.0.0.1", &broker.port.to_string(), "led"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run blink");
    assert_eq!(stdout(&sub.finish()), "1\n0\n1\n");
    let status = Command::new("kill")
        .args(["-INT", &blink.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    blink.stdout = None;
    let out = wait_output(blink, STEP);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("published and acknowledged"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn watch_prints_topic_and_payload() {
    let broker = Broker::start();
    let mut watch = Command::new(example("watch"))
        .args(["127.0.0.1", &broker.port.to_string(), "home/#"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run watch");
    let mut stderr_lines = BufReader::new(watch.stderr.take().expect("stderr")).lines();
    let ready = stderr_lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(ready, "watching home/# (QoS 1)");
    assert_code(
        &run_on(&broker, &["pub", "-t", "home/kitchen", "-m", "21.5"]),
        0,
    );
    let mut stdout_lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let line = stdout_lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(line, "home/kitchen 21.5");
    let _ = watch.kill();
    let _ = watch.wait();
}
