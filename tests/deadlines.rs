//! Every deadline is a deadline: `-W` bounds the whole run of `sub`, `rr` and (each check of)
//! `check`, connecting and closing included, against a broker stopped with SIGSTOP (its socket
//! accepts, nothing answers) and through a proxy that accepts and stays silent. The run ends
//! within `-W` plus a second, with the documented exit code.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// A TCP port that accepts connections and never says anything (a stopped peer, or a proxy
/// that hangs).
fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// Pauses the broker (SIGSTOP) until dropped (SIGCONT).
struct Paused(u32);

impl Paused {
    fn new(broker: &Broker) -> Paused {
        let pid = broker.pid();
        assert!(
            Command::new("kill")
                .args(["-STOP", &pid.to_string()])
                .status()
                .expect("kill")
                .success()
        );
        Paused(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// Runs `args`, which must end within `limit` plus a second with exit `code`.
fn ends_in_time(args: &[String], limit: Duration, code: i32) -> String {
    let started = Instant::now();
    let out = run_args(args, b"");
    let took = started.elapsed();
    assert_code(&out, code);
    assert!(
        took < limit + Duration::from_secs(1),
        "{args:?} took {took:?}: {}",
        stderr(&out)
    );
    stderr(&out)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

#[test]
fn w_bounds_a_run_whose_broker_stops_answering() {
    let broker = Broker::start();
    // Subscribed, then the broker stops: the count is not reached, and the close does not
    // wait for a broker that will not answer.
    let sub = Background::sub(&broker, &["-t", "t", "-C", "5", "-W", "3"]);
    let paused = Paused::new(&broker);
    let started = Instant::now();
    let out = sub.finish();
    assert_code(&out, 7);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Already stopped when asked: no CONNACK within -W (3: could not connect).
    let rr = command(
        "rr",
        &broker,
        &["-t", "req", "-e", "resp", "-m", "x", "-W", "3"],
    );
    let said = ends_in_time(&rr, Duration::from_secs(3), 3);
    assert!(said.contains("no CONNACK within -W 3s"), "{said}");
    let sub = command("sub", &broker, &["-t", "t", "-C", "1", "-W", "2"]);
    ends_in_time(&sub, Duration::from_secs(2), 3);
    drop(paused);
}

#[test]
fn w_bounds_connecting_through_a_silent_proxy_or_to_a_silent_port() {
    let silent = silent_port().to_string();
    let proxy = format!("http://127.0.0.1:{silent}");
    let direct = ["-h", "127.0.0.1", "-p", &silent];
    let through = ["-h", "127.0.0.1", "-p", "1883", "--proxy", &proxy];
    for place in [&direct[..], &through[..]] {
        for subcommand in [
            &["sub", "-t", "t", "-W", "2"][..],
            &["rr", "-t", "a", "-e", "b", "-m", "x", "-W", "2"][..],
        ] {
            let mut args = strings(&subcommand[..1]);
            args.extend(strings(place));
            args.extend(strings(&subcommand[1..]));
            ends_in_time(&args, Duration::from_secs(2), 3);
        }
    }
}

/// A broker that accepts every connection (CONNACK) and then answers nothing more: no SUBACK,
/// no PUBACK, no close after DISCONNECT.
fn broker_that_stops_after_connack() -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                if matches!(stream.read(&mut buffer), Ok(read) if read > 0) {
                    // CONNACK, MQTT 3.1.1: no session, accepted.
                    let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x00]);
                    while matches!(stream.read(&mut buffer), Ok(read) if read > 0) {}
                }
            });
        }
    });
    port
}

#[test]
fn w_bounds_each_check() {
    let port = broker_that_stops_after_connack().to_string();
    let started = Instant::now();
    let out = run(
        &["check", "-h", "127.0.0.1", "-p", &port, "-W", "2", "--json"],
        b"",
    );
    assert_code(&out, 8);
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    let checks = report["checks"].as_array().expect("checks");
    for check in checks {
        let took = check["duration_ms"].as_f64().expect("duration");
        assert!(took < 3000.0, "{check}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3) * checks.len() as u32,
        "{:?}",
        started.elapsed()
    );
    // Not connected at all (a silent proxy, a stopped broker): exit 3 within -W.
    let silent = silent_port().to_string();
    let proxy = format!("http://127.0.0.1:{silent}");
    for place in [
        &["-h", "127.0.0.1", "-p", &silent][..],
        &["-h", "127.0.0.1", "-p", "1883", "--proxy", &proxy][..],
    ] {
        let mut args = strings(&["check"]);
        args.extend(strings(place));
        args.extend(strings(&["-W", "2"]));
        ends_in_time(&args, Duration::from_secs(2), 3);
    }
}

/// `bench --duration` bounds the run, connecting included: through a proxy that never
/// answers, it ends within the duration and its 10 s close wait (it took 18 s of a 2 s run),
/// exit 3 with the report printed.
#[test]
fn bench_duration_bounds_connecting_through_a_silent_proxy() {
    let silent = silent_port().to_string();
    let proxy = format!("http://127.0.0.1:{silent}");
    let args = strings(&[
        "bench",
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        "1883",
        "--proxy",
        &proxy,
        "--duration",
        "2s",
        "--json",
    ]);
    let started = Instant::now();
    let out = run_args(&args, b"");
    assert_code(&out, 3);
    assert!(
        started.elapsed() < Duration::from_millis(13_500),
        "{:?}",
        started.elapsed()
    );
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("the report");
    assert_eq!(report["partial"], serde_json::Value::Bool(true));
}
