//! Brokers that are not mosquitto, for behaviour that differs between brokers: aedes (Node.js,
//! from npm) and rumqttd (Rust, from crates.io). `.ci/run` installs both once; a test run on a
//! machine where the registry could not be reached sets `MQTT_CLI_SKIP_FOREIGN` to the reason,
//! and the tests that need them say so and skip.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::free_port;

pub struct Foreign {
    child: Child,
    pub name: &'static str,
    pub port: u16,
    /// rumqttd's MQTT 5 listener (its MQTT 3.1.1 one is `port`).
    pub v5_port: Option<u16>,
    _dir: tempfile::TempDir,
}

impl Drop for Foreign {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Some(reason)` when the foreign brokers could not be installed here (no registry).
pub fn skipped() -> Option<String> {
    std::env::var("MQTT_CLI_SKIP_FOREIGN").ok()
}

/// Joins the parts of a needle that must stand on one line of a broker's output.
const LINE: char = '\u{1}';

fn home_cache() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/mqtt-cli-tests")
}

impl Foreign {
    /// aedes on a free loopback port (its modules where `.ci/run` put them, or `AEDES_NODE_PATH`).
    pub fn aedes() -> Foreign {
        let modules = std::env::var_os("AEDES_NODE_PATH")
            .map_or_else(|| home_cache().join("aedes/node_modules"), PathBuf::from);
        assert!(
            modules.join("aedes").is_dir(),
            "aedes is not installed in {} (.ci/run installs it)",
            modules.display()
        );
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/brokers/aedes.js");
        Foreign::spawn("aedes", |port, _, _| {
            let mut command = Command::new("node");
            command
                .arg(&script)
                .arg(port.to_string())
                .env("NODE_PATH", &modules);
            (command, vec![format!("listening {port}")])
        })
    }

    /// rumqttd on free loopback ports, MQTT 3.1.1 (`port`) and 5 (`v5_port`), with a 1 MB
    /// maximum payload.
    pub fn rumqttd() -> Foreign {
        let binary = std::env::var_os("RUMQTTD")
            .map(PathBuf::from)
            .or_else(|| {
                let home = std::env::var_os("HOME")?;
                let installed = PathBuf::from(home).join(".cargo/bin/rumqttd");
                installed.exists().then_some(installed)
            })
            .unwrap_or_else(|| PathBuf::from("rumqttd"));
        Foreign::spawn("rumqttd", |port, v5_port, dir| {
            let config = dir.join("rumqttd.toml");
            std::fs::write(
                &config,
                format!(
                    r#"id = 0

[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "127.0.0.1:{port}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true

[v5.1]
name = "v5-1"
listen = "127.0.0.1:{v5_port}"
next_connection_delay_ms = 1
    [v5.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true
"#
                ),
            )
            .expect("write rumqttd.toml");
            let mut command = Command::new(&binary);
            // -v: it says when each listener is up.
            command.arg("-v").arg("-c").arg(&config);
            let listening =
                |port: u16| format!("Listening for remote connections{LINE}\"127.0.0.1:{port}\"");
            (command, vec![listening(port), listening(v5_port)])
        })
    }

    /// Starts the broker `make` describes on two free ports (the second for a broker that
    /// has one more listener), and waits until its own output says it listens (each of the
    /// strings `make` gives is in it, its parts joined by [`LINE`] on one line): a port taken by another process meanwhile makes the
    /// broker fail, never a test talk to someone else's. Tries other ports five times.
    fn spawn(
        name: &'static str,
        make: impl Fn(u16, u16, &std::path::Path) -> (Command, Vec<String>),
    ) -> Foreign {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log_path = dir.path().join("log");
        for _ in 0..5 {
            let (port, second) = (free_port(), free_port());
            let log = std::fs::File::create(&log_path).expect("log file");
            let (mut command, needles) = make(port, second, dir.path());
            let mut child = command
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let said = std::fs::read_to_string(&log_path).unwrap_or_default();
                let on_a_line = |needle: &String| {
                    said.lines()
                        .any(|line| needle.split(LINE).all(|part| line.contains(part)))
                };
                if needles.iter().all(on_a_line) {
                    return Foreign {
                        child,
                        name,
                        port,
                        v5_port: Some(second),
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!("{name} did not start listening; its output:\n{log}");
    }

    /// `-h 127.0.0.1 -p PORT`.
    pub fn args(&self) -> Vec<String> {
        ["-h", "127.0.0.1", "-p", &self.port.to_string()]
            .map(String::from)
            .to_vec()
    }
}
