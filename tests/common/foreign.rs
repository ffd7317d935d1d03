//! Brokers that are not mosquitto, for behaviour that differs between brokers: aedes (Node.js,
//! from npm) and rumqttd (Rust, from crates.io). `.ci/run` installs both once; a test run on a
//! machine where the registry could not be reached sets `MQTT_CLI_SKIP_FOREIGN` to the reason,
//! and the tests that need them say so and skip.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, listens};

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
        Foreign::spawn("aedes", |port, _| {
            let mut command = Command::new("node");
            command
                .arg(&script)
                .arg(port.to_string())
                .env("NODE_PATH", &modules);
            command
        })
    }

    /// rumqttd on a free loopback port, MQTT 3.1.1 and 5, with a 1 MB maximum payload.
    pub fn rumqttd() -> Foreign {
        let binary = std::env::var_os("RUMQTTD")
            .map(PathBuf::from)
            .or_else(|| {
                let home = std::env::var_os("HOME")?;
                let installed = PathBuf::from(home).join(".cargo/bin/rumqttd");
                installed.exists().then_some(installed)
            })
            .unwrap_or_else(|| PathBuf::from("rumqttd"));
        let v5_port = free_port();
        let mut broker = Foreign::spawn("rumqttd", |port, dir| {
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
            command.arg("-c").arg(&config);
            command
        });
        broker.v5_port = Some(v5_port);
        broker
    }

    fn spawn(name: &'static str, make: impl Fn(u16, &std::path::Path) -> Command) -> Foreign {
        let dir = tempfile::tempdir().expect("temporary directory");
        for _ in 0..5 {
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("log")).expect("log file");
            let mut child = make(port, dir.path())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
            if listens(&mut child, port, Duration::from_secs(20)) {
                return Foreign {
                    child,
                    name,
                    port,
                    v5_port: None,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        panic!("{name} did not start listening; its output:\n{log}");
    }

    /// `-h 127.0.0.1 -p PORT`.
    pub fn args(&self) -> Vec<String> {
        ["-h", "127.0.0.1", "-p", &self.port.to_string()]
            .map(String::from)
            .to_vec()
    }
}
