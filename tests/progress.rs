//! The live line of a long `pub` on a terminal: driven under a pseudo-terminal made by
//! script(1) (util-linux), and absent in a pipe, with --quiet and for a single message.

mod common;

use std::process::{Command, Output};

use common::*;

/// Runs mqtt-cli under script(1): its stdout and stderr are a terminal; what it wrote comes
/// back on script's stdout.
fn on_a_terminal(args: &[String], stdin_file: &std::path::Path) -> Output {
    let mut line = format!("'{}'", env!("CARGO_BIN_EXE_mqtt-cli"));
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    line.push_str(&format!(" < '{}'", stdin_file.display()));
    let child = cli_env(Command::new("script"))
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run script (package bsdutils)");
    wait_output(child, STEP)
}

/// The environment `cli()` gives mqtt-cli, for another program that runs it.
fn cli_env(mut command: Command) -> Command {
    let reference = cli();
    for (key, value) in reference.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
}

fn lines_file(dir: &std::path::Path, count: usize) -> std::path::PathBuf {
    let path = dir.join("lines");
    let text: String = (1..=count).map(|n| format!("{n}\n")).collect();
    std::fs::write(&path, text).expect("write lines");
    path
}

#[test]
fn a_long_publish_shows_a_live_line_on_a_terminal_and_clears_it() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = lines_file(dir.path(), 2000);
    let args = command("pub", &broker, &["-t", "live", "-l", "-q", "1"]);
    let out = on_a_terminal(&args, &lines);
    assert_code(&out, 0);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        screen.contains("sent ")
            && screen.contains("acknowledged ")
            && screen.contains("messages/s"),
        "{screen:?}"
    );
    // Gone when the run ends: the last thing written clears the line.
    assert!(
        screen
            .trim_end_matches(['\r', '\n'])
            .ends_with("\r\u{1b}[2K"),
        "{screen:?}"
    );

    // --quiet, or a single message: nothing.
    let mut quiet = args.clone();
    quiet.push("--quiet".to_string());
    let out = on_a_terminal(&quiet, &lines);
    assert_code(&out, 0);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("acknowledged"));
    let one = command("pub", &broker, &["-t", "live", "-m", "x"]);
    let out = on_a_terminal(&one, &lines);
    assert_code(&out, 0);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("acknowledged"));
}

#[test]
fn in_a_pipe_there_is_no_live_line() {
    let broker = Broker::start();
    let input: String = (1..=2000).map(|n| format!("{n}\n")).collect();
    let args = command("pub", &broker, &["-t", "live", "-l", "-q", "1"]);
    let out = run_args(&args, input.as_bytes());
    assert_code(&out, 0);
    assert_eq!(stderr(&out), "");
}
