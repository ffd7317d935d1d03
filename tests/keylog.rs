//! `--tls-keylog FILE` and `SSLKEYLOGFILE`: the TLS session keys, in the NSS key log format, so
//! that Wireshark decrypts a capture of our own session. Checked with the real thing: `tshark`
//! (Debian's package; `.ci/run` installs it) captures a session on loopback and, given our key
//! log, finds the PUBLISH inside it (and, without it, nothing).

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use common::pki::Pki;
use common::*;

fn tshark() -> Command {
    let mut command = Command::new("tshark");
    command.env("LC_ALL", "C");
    command
}

/// What tshark finds in `capture`: the type, topic and payload (hex) of each MQTT packet.
fn mqtt_in(capture: &std::path::Path, port: u16, keylog: Option<&std::path::Path>) -> String {
    let mut command = tshark();
    command.arg("-r").arg(capture);
    if let Some(keylog) = keylog {
        command
            .arg("-o")
            .arg(format!("tls.keylog_file:{}", keylog.display()));
    }
    let out = command
        .args([
            "-d",
            &format!("tcp.port=={port},tls"),
            "-d",
            &format!("tls.port=={port},mqtt"),
        ])
        .args([
            "-Y",
            "mqtt",
            "-T",
            "fields",
            "-e",
            "mqtt.msgtype",
            "-e",
            "mqtt.topic",
            "-e",
            "mqtt.msg",
        ])
        .output()
        .expect("run tshark -r");
    assert!(
        out.status.success(),
        "tshark -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_capture_of_our_session_is_decrypted_with_our_key_log() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("session.pcapng");
    let keylog = dir.path().join("keys.log");

    // tshark prints each packet as it writes it (-P -l): what it printed is in the file.
    let mut capturing = tshark()
        .args([
            "-i",
            "lo",
            "-f",
            &format!("tcp port {}", broker.port),
            "-P",
            "-l",
            "-w",
        ])
        .arg(&capture)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tshark is missing (apt-get install tshark; .ci/run installs it)");
    let (lines_tx, lines) = mpsc::channel::<String>();
    for stream in [
        Box::new(capturing.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(capturing.stderr.take().expect("stderr")),
    ] {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
    }
    let mut seen = Vec::new();
    let mut wait_for = |needles: &[&str]| loop {
        let line = lines.recv_timeout(STEP).unwrap_or_else(|_| {
            panic!(
                "tshark never printed {needles:?}; it printed:\n{}",
                seen.join("\n")
            )
        });
        if needles.iter().all(|needle| line.contains(needle)) {
            return;
        }
        seen.push(line);
    };
    wait_for(&["Capture started"]);

    let port = broker.port.to_string();
    let ca = pki.arg("ca.pem");
    let keylog_arg = keylog.display().to_string();
    let out = run(
        &[
            "pub",
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            &ca,
            "-t",
            "plant/secret",
            "-m",
            "hidden-payload",
            "-q",
            "1",
            "--tls-keylog",
            &keylog_arg,
        ],
        b"",
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("TLS session keys are appended to"),
        "{}",
        stderr(&out)
    );
    // A last connection after ours: once tshark shows it, our session is all in the file.
    let sentinel = std::net::TcpStream::connect(("127.0.0.1", broker.port)).expect("connect");
    let sentinel_port = sentinel.local_addr().expect("addr").port();
    drop(sentinel);
    wait_for(&[&format!(" {sentinel_port} "), "[SYN]"]);
    let _ = Command::new("kill")
        .args(["-INT", &capturing.id().to_string()])
        .status();
    capturing.wait().expect("tshark ends");

    let mode = std::fs::metadata(&keylog)
        .expect("key log")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key log is its owner's only");
    let logged = std::fs::read_to_string(&keylog).expect("read key log");
    assert!(
        logged
            .lines()
            .any(|line| line.starts_with("CLIENT_TRAFFIC_SECRET_0 ")),
        "{logged}"
    );

    let seen = mqtt_in(&capture, broker.port, Some(&keylog));
    let publish = format!("3\tplant/secret\t{}", hex(b"hidden-payload"));
    assert!(
        seen.lines().any(|line| line == publish),
        "no {publish:?} in:\n{seen}"
    );
    let unkeyed = mqtt_in(&capture, broker.port, None);
    assert!(
        !unkeyed.contains("plant/secret"),
        "readable without the keys:\n{unkeyed}"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sslkeylogfile_is_read_as_other_tls_clients_read_it() {
    let pki = Pki::new();
    let broker = pki.broker("server", "");
    let dir = tempfile::tempdir().expect("tempdir");
    let keylog = dir.path().join("env-keys.log");
    let port = broker.port.to_string();
    let mut command = cli();
    command
        .args([
            "pub",
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            &pki.arg("ca.pem"),
        ])
        .args(["-t", "a", "-m", "1"])
        .env("SSLKEYLOGFILE", &keylog);
    let out = run_command(command, b"");
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("TLS session keys are appended to"),
        "{}",
        stderr(&out)
    );
    let logged = std::fs::read_to_string(&keylog).expect("read key log");
    assert!(logged.contains("CLIENT_TRAFFIC_SECRET_0 "), "{logged}");
}
