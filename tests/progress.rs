//! The live line of a long `pub` on a terminal: driven under a pseudo-terminal made by
//! script(1) (util-linux), and absent in a pipe, with --quiet and for a single message.

mod common;

use std::process::{Command, Output};

use common::*;

/// Runs mqtt-cli under script(1): its stdout and stderr are a terminal; what it wrote comes
/// back on script's stdout. `NO_COLOR` is set, as `cli()` sets it.
fn on_a_terminal(args: &[String], stdin_file: &std::path::Path) -> Output {
    on_a_terminal_with(args, stdin_file, true)
}

fn on_a_terminal_with(args: &[String], stdin_file: &std::path::Path, no_color: bool) -> Output {
    let mut line = format!("'{}'", env!("CARGO_BIN_EXE_mqtt-cli"));
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    line.push_str(&format!(" < '{}'", stdin_file.display()));
    let mut script = cli_env(Command::new("script"));
    if !no_color {
        script.env_remove("NO_COLOR");
    }
    script.args(["-q", "-e", "-c", &line, "/dev/null"]);
    run_command(script, b"")
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

#[test]
fn sub_v_colours_the_topic_on_a_terminal_only() {
    let broker = Broker::start();
    assert_code(
        &run_on(&broker, &["pub", "-t", "colour/t", "-m", "x", "-r"]),
        0,
    );
    let sub = |extra: &[&str]| {
        let mut args = vec!["sub", "-t", "colour/t", "-v", "-C", "1"];
        args.extend_from_slice(extra);
        command(args[0], &broker, &args[1..])
    };
    let coloured = "\u{1b}[1;35mcolour/t\u{1b}[0m x";
    // A pipe: plain, unless asked.
    let out = run_args(&sub(&[]), b"");
    assert_eq!(stdout(&out), "colour/t x\n");
    let out = run_args(&sub(&["--color", "always"]), b"");
    assert_eq!(stdout(&out), format!("{coloured}\n"));
    // A terminal: coloured, but not with NO_COLOR or --color never.
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = lines_file(dir.path(), 0);
    let terminal = |args: &[String], no_color: bool| {
        let out = on_a_terminal_with(args, &empty, no_color);
        assert_code(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(terminal(&sub(&[]), false).contains(coloured));
    assert!(!terminal(&sub(&[]), true).contains('\u{1b}'));
    assert!(!terminal(&sub(&["--color", "never"]), false).contains('\u{1b}'));
    // Clean up the retained message.
    assert_code(&run_on(&broker, &["pub", "-t", "colour/t", "-n", "-r"]), 0);
}

#[test]
fn sub_stats_shows_a_live_line_on_a_terminal_and_clears_it() {
    let broker = Broker::start();
    assert_code(
        &run_on(&broker, &["pub", "-t", "live/s", "-m", "x", "-r"]),
        0,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = lines_file(dir.path(), 0);
    let args = command("sub", &broker, &["-t", "live/s", "-C", "1", "--stats"]);
    let out = on_a_terminal(&args, &empty);
    assert_code(&out, 0);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    // The live line, cleared, then the table.
    let cleared = screen
        .find("\r\u{1b}[2K")
        .unwrap_or_else(|| panic!("{screen:?}"));
    assert!(screen[..cleared].contains("0 messages"), "{screen:?}");
    assert!(
        screen[cleared..].contains("1 message on 1 topic in"),
        "{screen:?}"
    );
    // Messages stop: the line is still redrawn every second (it froze at its last message,
    // or showed none at all for one that came at once).
    let args = command("sub", &broker, &["-t", "live/s", "-W", "2500ms", "--stats"]);
    let out = on_a_terminal(&args, &empty);
    assert_code(&out, 0);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    let cleared = screen
        .rfind("\r\u{1b}[2K")
        .unwrap_or_else(|| panic!("{screen:?}"));
    assert!(screen[..cleared].contains("1 message, "), "{screen:?}");
    assert_code(&run_on(&broker, &["pub", "-t", "live/s", "-n", "-r"]), 0);
}

#[test]
fn a_bench_shows_a_live_line_on_a_terminal_and_the_report_after_it() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = lines_file(dir.path(), 0);
    let mut args = vec!["bench".to_string(), "pub".to_string()];
    args.extend(broker.args());
    args.extend(["--rate", "100", "--duration", "2500ms", "-q", "1"].map(String::from));
    let out = on_a_terminal(&args, &empty);
    assert_code(&out, 0);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        screen.contains("connected 2/2") && screen.contains("received ") && screen.contains("p99 "),
        "{screen:?}"
    );
    assert!(screen.contains("latency ms"), "{screen:?}");
    // In a pipe: the report alone.
    let piped = run_args(&args, b"");
    assert_code(&piped, 0);
    assert!(
        !stderr(&piped).contains("connected 2/2"),
        "{}",
        stderr(&piped)
    );
}
