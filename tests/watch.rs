//! `sub --watch` under a real terminal: tmux (Debian's package; `.ci/run` installs it) runs
//! it, `send-keys` types, `capture-pane` reads the screen, and the tests assert what a person
//! would see: a line per topic updated in place, the keys, a resize, the screen given back on
//! `q` and on Ctrl+C. In a pipe, the table of topics at the end.

mod common;

use std::process::Command;
use std::time::Instant;

use common::*;

/// A tmux server of the test's own, with one window running `command` (then `exited=CODE`).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(width: u16, height: u16, command: &str) -> Tmux {
        let socket = format!("mqtt-cli-watch-{}-{}", std::process::id(), free_port());
        let tmux = Tmux { socket };
        let script = format!("echo before-watch; {command}; echo exited=$?; sleep 600");
        let started = tmux
            .tmux()
            .args([
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(script)
            .status()
            .expect("tmux is missing (apt-get install tmux; .ci/run installs it)");
        assert!(started.success(), "tmux new-session failed");
        tmux
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows what `shows` looks for.
    fn wait_for(&self, what: &str, shows: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if shows(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < STEP,
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let sent = self
            .tmux()
            .args(["send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(sent.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn watch_command(broker: &Broker, id: &str, rest: &str) -> String {
    format!(
        "'{}' sub -h 127.0.0.1 -p {} -i {id} -t 'w/#' --watch {rest}",
        env!("CARGO_BIN_EXE_mqtt-cli"),
        broker.port
    )
}

fn publish(broker: &Broker, topic: &str, payload: &str, extra: &[&str]) {
    let mut args = vec!["pub", "-t", topic, "-m", payload];
    args.extend(extra);
    assert_code(&run_on(broker, &args), 0);
}

fn line<'a>(screen: &'a str, start: &str) -> Option<&'a str> {
    screen.lines().find(|line| line.starts_with(start))
}

#[test]
fn a_line_per_topic_in_place_the_keys_and_q_gives_the_screen_back() {
    let broker = Broker::start();
    // Retained before the subscription: it arrives with its retained flag, at QoS 1.
    publish(&broker, "w/b/long/topic", r#"{"x":1}"#, &["-r", "-q", "1"]);
    let tmux = Tmux::start(100, 14, &watch_command(&broker, "watcher", "-q 1"));
    broker.wait_for_subscription("watcher");
    tmux.wait_for("the retained message", |screen| {
        line(screen, "w/b/long/topic").is_some()
    });
    for n in 1..=3 {
        publish(&broker, "w/a", &format!("hello {n}"), &[]);
    }
    let screen = tmux.wait_for("both topics, w/a three times", |screen| {
        line(screen, "w/a ").is_some_and(|l| l.contains(" 3 ") && l.ends_with("- 0  hello 3"))
            && line(screen, "w/b/long/topic").is_some_and(|l| l.ends_with(r#"r 1  {"x":1}"#))
    });
    assert!(screen.starts_with("2 topics  4 messages"), "{screen}");
    let rows: Vec<&str> = screen.lines().filter(|l| l.starts_with("w/")).collect();
    assert_eq!(
        rows.len(),
        2,
        "one line per topic, updated in place:\n{screen}"
    );
    assert!(
        rows[0].starts_with("w/b"),
        "in the order first seen:\n{screen}"
    );

    tmux.keys(&["p"]);
    tmux.wait_for("PAUSED", |screen| {
        screen.lines().next().is_some_and(|l| l.contains("PAUSED"))
    });
    tmux.keys(&["p"]);
    publish(&broker, "w/c", "third", &[]);
    tmux.wait_for("w/c after the pause", |screen| {
        line(screen, "w/c").is_some()
    });

    tmux.keys(&["/", "l", "o", "n", "g", "Enter"]);
    let screen = tmux.wait_for("the filter", |screen| {
        screen.contains("filter: long (1 shown)")
    });
    assert!(line(&screen, "w/a").is_none(), "filtered out:\n{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("all topics again", |screen| line(screen, "w/a").is_some());

    tmux.keys(&["s"]);
    tmux.wait_for("sort: topic", |screen| screen.contains("sort: topic"));

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the shell again", |screen| screen.contains("exited=0"));
    assert!(
        screen.starts_with("before-watch\nexited=0"),
        "the screen given back:\n{screen}"
    );
    assert!(!screen.contains("topics"), "{screen}");
}

#[test]
fn a_resize_is_redrawn_and_ctrl_c_gives_the_screen_back() {
    let broker = Broker::start();
    let tmux = Tmux::start(100, 10, &watch_command(&broker, "resized", ""));
    broker.wait_for_subscription("resized");
    let long = "z".repeat(300);
    publish(&broker, "w/long", &long, &[]);
    let screen = tmux.wait_for("the long payload", |screen| {
        line(screen, "w/long").is_some()
    });
    assert_eq!(
        line(&screen, "w/long").map(str::len),
        Some(100),
        "cut to the width:\n{screen}"
    );

    let resized = tmux
        .tmux()
        .args(["resize-window", "-x", "40", "-y", "10"])
        .status()
        .expect("resize-window");
    assert!(resized.success());
    let screen = tmux.wait_for("lines of 40 columns", |screen| {
        line(screen, "w/long").is_some_and(|l| l.len() == 40)
    });
    assert!(screen.lines().all(|l| l.chars().count() <= 40), "{screen}");

    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("the shell again", |screen| screen.contains("exited=0"));
    assert!(screen.starts_with("before-watch\nexited=0"), "{screen}");
}

#[test]
fn in_a_pipe_it_prints_the_table_of_topics_at_the_end() {
    let broker = Broker::start();
    let sub = Background::sub(&broker, &["-t", "w/#", "--watch", "-C", "3", "-i", "piped"]);
    publish(&broker, "w/1", "a", &[]);
    publish(&broker, "w/2", "b", &[]);
    publish(&broker, "w/1", "c", &[]);
    let out = sub.finish();
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "topic\tcount\tretained\tqos\tlast payload\nw/1\t2\t0\t0\tc\nw/2\t1\t0\t0\tb\n"
    );
}
