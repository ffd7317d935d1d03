//! MQTT over WebSockets (ws:// and wss://), through the gateway of `tests/common/gateway.rs` in
//! front of a real mosquitto.

mod common;

use common::gateway::Gateway;
use common::pki::Pki;
use common::*;

#[test]
fn ws_round_trip_with_default_and_custom_path() {
    let broker = Broker::start();
    let gateway = Gateway::start(broker.port, None);
    let sub = Background::sub(&broker, &["-t", "over/ws", "-C", "2"]);
    let url = format!("ws://127.0.0.1:{}", gateway.port);
    assert_code(
        &run(
            &["pub", "-L", &url, "-t", "over/ws", "-m", "one", "-q", "1"],
            b"",
        ),
        0,
    );
    let url = format!("ws://127.0.0.1:{}/custom", gateway.port);
    assert_code(
        &run(
            &["pub", "-L", &url, "-t", "over/ws", "-m", "two", "-q", "2"],
            b"",
        ),
        0,
    );
    assert_eq!(stdout(&sub.finish()), "one\ntwo\n");
    assert_eq!(
        gateway.paths(),
        vec!["/mqtt".to_string(), "/custom".to_string()]
    );

    let out = run(
        &[
            "pub",
            "-L",
            &url,
            "--ws-path",
            "/other",
            "-t",
            "over/ws",
            "-m",
            "3",
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(gateway.paths().last().map(String::as_str), Some("/other"));
}

#[test]
fn wss_round_trip_and_verification() {
    let pki = Pki::new();
    let broker = Broker::start();
    let gateway = Gateway::start(broker.port, Some(pki.server_config("server")));
    let url = format!("wss://localhost:{}/mqtt", gateway.port);
    let sub = Background::sub(&broker, &["-t", "over/wss", "-C", "1"]);
    let out = run(
        &[
            "pub",
            "-L",
            &url,
            "--cafile",
            &pki.arg("ca.pem"),
            "-t",
            "over/wss",
            "-m",
            "secret",
            "-q",
            "1",
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&sub.finish()), "secret\n");
    // wss is never plaintext: without the CA the certificate is refused (exit 4).
    let out = run(&["pub", "-L", &url, "-t", "over/wss", "-m", "x"], b"");
    assert_code(&out, 4);
    assert!(
        stderr(&out).contains("not signed by a trusted CA"),
        "{}",
        stderr(&out)
    );
    // Subscribing over wss works too.
    let mut args = vec!["sub".to_string(), "-L".to_string(), url.clone()];
    args.extend(["--cafile", &pki.arg("ca.pem"), "-t", "back", "-C", "1"].map(String::from));
    let sub = Background::spawn(&args, "received SUBACK");
    assert_code(
        &run_on(&broker, &["pub", "-t", "back", "-m", "through the gateway"]),
        0,
    );
    assert_eq!(stdout(&sub.finish()), "through the gateway\n");
}

#[test]
fn ws_path_without_a_websocket_url_is_bad_input() {
    let out = run(
        &[
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            "9",
            "--ws-path",
            "/x",
            "-t",
            "t",
            "-m",
            "x",
        ],
        b"",
    );
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--ws-path needs a ws:// or wss:// URL"),
        "{}",
        stderr(&out)
    );
}

/// `--ws` (mosquitto 2.1): WebSockets instead of plain TCP, on the port given, path /mqtt.
#[test]
fn ws_flag_speaks_websockets_on_the_port_given() {
    let broker = Broker::start();
    let gateway = Gateway::start(broker.port, None);
    let sub = Background::sub(&broker, &["-t", "over/ws", "-C", "1"]);
    let port = gateway.port.to_string();
    let out = run(
        &[
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--ws",
            "-t",
            "over/ws",
            "-m",
            "flag",
            "-d",
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&sub.finish()), "flag\n");
    assert_eq!(gateway.paths(), vec!["/mqtt".to_string()]);
}
