//! Reaching the broker through real proxies from Debian's packages (tinyproxy for HTTP
//! CONNECT, microsocks for SOCKS5, stunnel for an https:// proxy), from a source address
//! (`-A`), and over mosquitto's Unix socket listener.

mod common;

use common::gateway::Gateway;
use common::pki::Pki;
use common::proxies::Proxy;
use common::*;

/// Runs mqtt-cli with `env` set on top of the tests' clean environment.
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = cli();
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    run_command(command, b"")
}

/// `pub` of one QoS 1 message to `topic` on `localhost:port`, with `flags`.
fn publish(port: u16, topic: &str, flags: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "pub",
        "-h",
        "localhost",
        "-p",
        &port.to_string(),
        "-t",
        topic,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(["-m", "through", "-q", "1"].map(String::from));
    args.extend(flags.iter().map(|s| s.to_string()));
    args
}

fn run_strings(args: &[String], env: &[(&str, &str)]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_with_env(&args, env)
}

#[test]
fn http_connect_and_socks5_carry_mqtt_to_a_subscriber() {
    let broker = Broker::start();
    let http = Proxy::tinyproxy(None);
    let socks = Proxy::microsocks(None);
    let port = broker.port.to_string();
    for (proxy, scheme, seen) in [
        (&http, "http", format!("CONNECT localhost:{port}")),
        (&socks, "socks5", format!("connected to 127.0.0.1:{port}")),
        (&socks, "socks5h", format!("connected to localhost:{port}")),
    ] {
        let topic = format!("through/{scheme}");
        // The subscriber goes through the proxy too; the publisher connects directly.
        let sub = Background::spawn(
            &[
                "sub",
                "-h",
                "localhost",
                "-p",
                &port,
                "-t",
                &topic,
                "-C",
                "1",
                "--proxy",
                &proxy.url(scheme, None),
            ]
            .map(String::from),
            "SUBACK",
        );
        proxy.wait_for_log(&seen, 1);
        assert_code(&run_on(&broker, &["pub", "-t", &topic, "-m", scheme]), 0);
        let out = sub.finish();
        assert_code(&out, 0);
        assert_eq!(stdout(&out), format!("{scheme}\n"));
        assert!(
            stderr(&out).contains(&format!(
                "sending CONNECT to localhost:{port} through the proxy {scheme}://127.0.0.1:{}",
                proxy.port
            )),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn proxy_authentication_right_wrong_and_missing() {
    let pki = Pki::new();
    let broker = Broker::start();
    let tls = pki.broker("localhost-only", "");
    let ws = Gateway::start(broker.port, None);
    let wss = Gateway::start(broker.port, Some(pki.server_config("server")));
    let ca = pki.arg("ca.pem");
    let auth = Some(("alice", "s3cret-proxy"));
    for (proxy, scheme) in [
        (Proxy::tinyproxy(auth), "http"),
        (Proxy::microsocks(auth), "socks5h"),
    ] {
        let topic = format!("auth/{scheme}");
        let good = proxy.url(scheme, auth);
        let out = run_strings(
            &publish(broker.port, &topic, &["--proxy", &good, "-d"]),
            &[],
        );
        assert_code(&out, 0);
        assert!(!stderr(&out).contains("s3cret-proxy"), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("proxy {scheme}://alice:***@127.0.0.1")),
            "{}",
            stderr(&out)
        );

        // TLS, WebSockets and secure WebSockets through the authenticated tunnel.
        let out = run_strings(
            &publish(tls.port, &topic, &["--cafile", &ca, "--proxy", &good]),
            &[],
        );
        assert_code(&out, 0);
        for url in [
            format!("ws://localhost:{}/mqtt", ws.port),
            format!("wss://localhost:{}/mqtt", wss.port),
        ] {
            let mut args = vec![
                "pub", "-L", &url, "-t", &topic, "-m", "x", "-q", "1", "--proxy", &good,
            ];
            if url.starts_with("wss:") {
                args.extend(["--cafile", &ca]);
            }
            assert_code(&run_with_env(&args, &[]), 0);
        }

        // The password from MQTT_PROXY_PASSWORD, the user name in the URL.
        let user_only = format!("{scheme}://alice@127.0.0.1:{}", proxy.port);
        let out = run_strings(
            &publish(broker.port, &topic, &["--proxy", &user_only]),
            &[("MQTT_PROXY_PASSWORD", "s3cret-proxy")],
        );
        assert_code(&out, 0);

        let wrong = proxy.url(scheme, Some(("alice", "not-it")));
        let out = run_strings(
            &publish(broker.port, &topic, &["--proxy", &wrong, "-d"]),
            &[],
        );
        assert_code(&out, 3);
        let err = stderr(&out);
        assert!(err.contains("proxy authentication failed"), "{err}");
        assert!(err.contains("refused user 'alice'"), "{err}");
        assert!(!err.contains("not-it"), "{err}");

        let out = run_strings(
            &publish(broker.port, &topic, &["--proxy", &proxy.url(scheme, None)]),
            &[],
        );
        assert_code(&out, 3);
        assert!(
            stderr(&out).contains("wants a user name and password"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn tls_inside_the_tunnel_is_verified_against_the_broker_name_and_sni() {
    let pki = Pki::new();
    // A certificate for localhost only: the proxy is 127.0.0.1, the broker localhost.
    let broker = pki.broker("localhost-only", "");
    let http = Proxy::tinyproxy(None);
    let socks = Proxy::microsocks(None);
    for proxy in [http.url("http", None), socks.url("socks5h", None)] {
        let out = run_strings(
            &publish(
                broker.port,
                "tls/tunnel",
                &["--cafile", &pki.arg("ca.pem"), "--proxy", &proxy],
            ),
            &[],
        );
        assert_code(&out, 0);
        // check's own TLS look goes through the proxy as well.
        let out = run_with_env(
            &[
                "check",
                "-h",
                "localhost",
                "-p",
                &broker.port.to_string(),
                "--cafile",
                &pki.arg("ca.pem"),
                "--proxy",
                &proxy,
                "--json",
                "--only",
                "tls,qos1",
            ],
            &[],
        );
        assert_code(&out, 0);
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        let tls = &report["checks"][0];
        assert_eq!(tls["name"], "tls", "{report}");
        assert!(
            tls["details"]["subject"]
                .as_str()
                .expect("subject")
                .contains("localhost"),
            "{report}"
        );
    }
    // SNI is the broker's name, seen by the server at the end of the tunnel.
    for proxy in [http.url("http", None), socks.url("socks5", None)] {
        assert_eq!(sni_through(&proxy).as_deref(), Some("localhost"), "{proxy}");
    }
}

/// The server name (SNI) a TLS server reached through `proxy` sees from `pub -h localhost`.
fn sni_through(proxy: &str) -> Option<String> {
    let (port, hello) = common::pki::client_hello_recorder();
    let flags = ["--tls", "--connect-timeout", "5s", "--proxy", proxy];
    let out = run_strings(&publish(port, "x", &flags), &[]);
    assert_code(&out, 4);
    hello.join().expect("recorder").0
}

#[test]
fn websockets_through_both_proxies_and_wss_through_https_proxy() {
    let pki = Pki::new();
    let broker = Broker::start();
    let ws = Gateway::start(broker.port, None);
    let wss = Gateway::start(broker.port, Some(pki.server_config("server")));
    let tinyproxy = Proxy::tinyproxy(None);
    let socks = Proxy::microsocks(None);
    let https = Proxy::stunnel(&pki, &tinyproxy);
    let ws_url = format!("ws://localhost:{}/mqtt", ws.port);
    let wss_url = format!("wss://localhost:{}/mqtt", wss.port);
    let cases = [
        (ws_url.clone(), tinyproxy.url("http", None)),
        (ws_url, socks.url("socks5", None)),
        (wss_url.clone(), socks.url("socks5h", None)),
        // TLS to the proxy, and TLS to the broker inside it.
        (wss_url, format!("https://localhost:{}", https.port)),
    ];
    let ca = pki.arg("ca.pem");
    for (url, proxy) in cases {
        let mut args = vec!["pub", "-L", &url, "-t", "ws/proxy", "-m", "x", "-q", "1"];
        args.extend(["--proxy", &proxy]);
        if url.starts_with("wss:") {
            args.extend(["--cafile", &ca]);
        }
        if proxy.starts_with("https:") {
            args.extend(["--proxy-cacert", &ca]);
        }
        let out = run_with_env(&args, &[]);
        assert_code(&out, 0);
    }
    assert_eq!(ws.paths().len(), 2);
    assert_eq!(wss.paths().len(), 2);
    tinyproxy.wait_for_log(&format!("CONNECT localhost:{}", wss.port), 1);
}

/// An https:// proxy has its own trust, apart from the broker's (curl's --proxy-cacert and
/// --proxy-insecure): a plain broker behind it stays plain, the proxy's certificate can be
/// skipped without skipping the broker's, and the broker's --cafile does not vouch for it.
#[test]
fn an_https_proxy_has_trust_of_its_own() {
    let pki = Pki::new();
    let broker = Broker::start();
    let tinyproxy = Proxy::tinyproxy(None);
    let https = Proxy::stunnel(&pki, &tinyproxy);
    let proxy = format!("https://localhost:{}", https.port);
    let ca = pki.arg("ca.pem");
    let port = broker.port.to_string();
    let plain = [
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "p",
        "-m",
        "x",
        "--proxy",
        &proxy,
    ];
    for (extra, code) in [
        // The proxy's CA: the broker stays plain MQTT inside the tunnel.
        (&["--proxy-cacert", &ca][..], 0),
        (&["--proxy-insecure"][..], 0),
        // Neither: the Mozilla roots do not know the test CA (exit 3: the way to the broker
        // failed, at the proxy, which is named with the flag to use).
        (&[][..], 3),
        // The broker's --cafile is the broker's: it turns on TLS to the (plain) broker.
        (&["--cafile", &ca, "--proxy-insecure"][..], 4),
    ] {
        let mut args = plain.to_vec();
        args.extend(extra);
        let out = run_with_env(&args, &[]);
        assert_code(&out, code);
        if extra.is_empty() {
            assert!(
                stderr(&out).contains("TLS to the proxy")
                    && stderr(&out).contains("use --proxy-cacert with the proxy's CA"),
                "{}",
                stderr(&out)
            );
        }
        if extra.contains(&"--proxy-insecure") {
            assert!(
                stderr(&out).contains("--proxy-insecure"),
                "{}",
                stderr(&out)
            );
        }
    }
    // Only for an https:// proxy.
    let out = run_with_env(&["pub", "-t", "p", "-m", "x", "--proxy-insecure"], &[]);
    assert_code(&out, 2);
}

#[test]
fn the_environment_chooses_the_proxy_and_the_flag_wins() {
    let pki = Pki::new();
    let broker = Broker::start();
    let tls = pki.broker("server", "");
    let proxy = Proxy::tinyproxy(None);
    let good = proxy.url("http", None);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let ca = pki.arg("ca.pem");
    let plain = |flags: &[&str], env: &[(&str, &str)]| {
        run_strings(
            &publish(broker.port, "env", &[flags, &["-d"]].concat()),
            env,
        )
    };
    let secure = |env: &[(&str, &str)]| {
        run_strings(&publish(tls.port, "env", &["--cafile", &ca, "-d"]), env)
    };
    // HTTP_PROXY for mqtt://, HTTPS_PROXY for TLS; each ignores the other's.
    let out = plain(&[], &[("HTTP_PROXY", &good), ("HTTPS_PROXY", &dead)]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains(&format!("proxy {good} (env HTTP_PROXY)")),
        "{}",
        stderr(&out)
    );
    let out = secure(&[("HTTP_PROXY", &dead), ("HTTPS_PROXY", &good)]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("(env HTTPS_PROXY)"),
        "{}",
        stderr(&out)
    );
    // Lower case as curl reads it; ALL_PROXY when no scheme's own is set.
    assert_code(&plain(&[], &[("http_proxy", &good)]), 0);
    let out = secure(&[("ALL_PROXY", &good)]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("(env ALL_PROXY)"), "{}", stderr(&out));
    // A dead proxy in the environment fails (exit 3)...
    let out = plain(&[], &[("ALL_PROXY", &dead)]);
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("refused the connection: is the proxy running?"),
        "{}",
        stderr(&out)
    );
    // ...unless NO_PROXY names the host, or the command line says otherwise.
    for no_proxy in ["localhost", ".localhost", "*", "example.com,localhost"] {
        let out = plain(&[], &[("ALL_PROXY", &dead), ("NO_PROXY", no_proxy)]);
        assert_code(&out, 0);
        assert!(
            stderr(&out).contains("no proxy for localhost (env NO_PROXY"),
            "{}",
            stderr(&out)
        );
    }
    assert_code(&plain(&["--no-proxy"], &[("ALL_PROXY", &dead)]), 0);
    assert_code(&plain(&["--proxy", ""], &[("ALL_PROXY", &dead)]), 0);
    assert_code(&plain(&["--proxy", &good], &[("ALL_PROXY", &dead)]), 0);
    assert_code(&plain(&["--proxy", &dead], &[("ALL_PROXY", &good)]), 3);
}

#[test]
fn proxy_failures_in_words_exit_3() {
    let broker = Broker::start();
    let http = Proxy::tinyproxy(None);
    let socks = Proxy::microsocks(None);
    // Only port 9 may be asked for: CONNECT to the broker is forbidden (403).
    let strict = Proxy::tinyproxy_with(None, "ConnectPort 9\n");
    let nothing = free_port();
    let cases: Vec<(String, u16, &str)> = vec![
        // Nothing listens where the proxy should be.
        (
            format!("socks5://127.0.0.1:{nothing}"),
            broker.port,
            "refused the connection: is the proxy running?",
        ),
        // The proxy's own name does not resolve.
        (
            "http://nosuchproxy.invalid:3128".to_string(),
            broker.port,
            "the proxy http://nosuchproxy.invalid:3128: cannot resolve its host name",
        ),
        // The proxy cannot reach the broker: its status, or SOCKS reply, named.
        (
            http.url("http", None),
            nothing,
            "could not reach localhost:",
        ),
        (
            socks.url("socks5h", None),
            nothing,
            "connection refused (SOCKS reply 5)",
        ),
        (
            strict.url("http", None),
            broker.port,
            "refused to connect to localhost:",
        ),
        // Not a proxy: a broker, or the other kind of proxy.
        (
            format!("http://127.0.0.1:{}", broker.port),
            broker.port,
            "without answering CONNECT: is it an HTTP proxy?",
        ),
        (
            socks.url("http", None),
            broker.port,
            "is not an HTTP proxy: it answered",
        ),
        (
            http.url("socks5", None),
            broker.port,
            "is it a SOCKS5 proxy?",
        ),
    ];
    for (proxy, port, expected) in cases {
        let out = run_strings(
            &publish(
                port,
                "fail",
                &["--proxy", &proxy, "--connect-timeout", "2s"],
            ),
            &[],
        );
        assert_code(&out, 3);
        let err = stderr(&out);
        assert!(err.contains(expected), "--proxy {proxy}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn bad_proxy_flags_exit_2() {
    for (args, expected) in [
        (
            &["--proxy", "socks4://127.0.0.1:1080"][..],
            "SOCKS4 is not supported",
        ),
        (&["--proxy", "ftp://127.0.0.1"], "unknown scheme 'ftp'"),
        (&["--proxy", "http://u:pw@127.0.0.1:3128/x"], "has no path"),
        (
            &["--unix", "/tmp/x.sock", "--proxy", "http://127.0.0.1:3128"],
            "--unix and --proxy",
        ),
        (
            &["--unix", "/tmp/x.sock", "-A", "127.0.0.1"],
            "--unix and -A",
        ),
        (&["-A", "not-an-address"], "is not a local address"),
    ] {
        let mut full = vec!["pub", "-t", "x", "-m", "x"];
        full.extend(args);
        let out = run(&full, b"");
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("pw@"), "{}", stderr(&out));
    }
}

#[test]
fn bind_address_is_what_the_broker_sees() {
    let broker = Broker::start();
    let out = run_on(
        &broker,
        &["pub", "-t", "bind", "-m", "x", "-A", "127.0.0.2"],
    );
    assert_code(&out, 0);
    broker.wait_for_log("New connection from 127.0.0.2:", 1);
    // Through a proxy, -A is the source of the connection to the proxy.
    let proxy = Proxy::microsocks(None);
    let out = run_strings(
        &publish(
            broker.port,
            "bind",
            &["-A", "127.0.0.3", "--proxy", &proxy.url("socks5", None)],
        ),
        &[],
    );
    assert_code(&out, 0);
    proxy.wait_for_log("client[", 1);
    assert!(proxy.log().contains("127.0.0.3"), "{}", proxy.log());
    // An address this machine does not have, or of the other family.
    for (address, expected) in [
        ("192.0.2.1", "no interface of this machine has that address"),
        (
            "::1",
            "-A ::1 is an IPv6 address, and 127.0.0.1 has no IPv6 address",
        ),
    ] {
        let out = run_on(&broker, &["pub", "-t", "bind", "-m", "x", "-A", address]);
        assert_code(&out, 3);
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
}

#[test]
fn unix_socket_listener() {
    let broker = Broker::with_files(|dir| {
        format!(
            "allow_anonymous true\nlistener 0 {}\n",
            dir.join("mosquitto.sock").display()
        )
    });
    let socket = broker.dir.path().join("mosquitto.sock");
    let socket = socket.to_str().expect("utf-8 path");
    let sub = Background::spawn(
        &["sub", "--unix", socket, "-t", "unix/#", "-C", "1"].map(String::from),
        "SUBACK",
    );
    let out = run(
        &[
            "pub",
            "--unix",
            socket,
            "-t",
            "unix/a",
            "-m",
            "over the socket",
            "-q",
            "2",
        ],
        b"",
    );
    assert_code(&out, 0);
    let out = sub.finish();
    assert_eq!(stdout(&out), "over the socket\n");
    assert!(
        stderr(&out).contains(&format!("sending CONNECT to the Unix socket {socket}")),
        "{}",
        stderr(&out)
    );
    let missing = broker.dir.path().join("none.sock");
    let out = run(
        &[
            "pub",
            "--unix",
            missing.to_str().expect("path"),
            "-t",
            "x",
            "-m",
            "x",
        ],
        b"",
    );
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("no Unix socket at"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn profiles_keep_the_proxy_and_hide_its_password() {
    let broker = Broker::start();
    let proxy = Proxy::microsocks(Some(("alice", "s3cret-proxy")));
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    let with_config = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = cli();
        command.env("MQTT_CLI_CONFIG", &config).args(args);
        command.envs(env.iter().copied());
        run_command(command, b"")
    };
    let publish = [
        "pub",
        "--profile",
        "viaproxy",
        "-t",
        "p",
        "-m",
        "x",
        "-q",
        "1",
    ];
    let add = |proxy_url: &str| {
        with_config(
            &[
                "profile",
                "add",
                "viaproxy",
                "-h",
                "localhost",
                "-p",
                &broker.port.to_string(),
                "--proxy",
                proxy_url,
            ],
            &[],
        )
    };
    // profile add refuses a password in the proxy URL...
    let out = add(&proxy.url("socks5h", Some(("alice", "s3cret-proxy"))));
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("MQTT_PROXY_PASSWORD"),
        "{}",
        stderr(&out)
    );
    // ...and keeps one without it; the password then comes from the environment.
    let out = add(&format!("socks5h://alice@127.0.0.1:{}", proxy.port));
    assert_code(&out, 0);
    let out = with_config(&publish, &[("MQTT_PROXY_PASSWORD", "s3cret-proxy")]);
    assert_code(&out, 0);
    proxy.wait_for_log(&format!("connected to localhost:{}", broker.port), 1);
    // A password written into the file by hand is never shown.
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("alice@", "alice:s3cret-proxy@")).expect("write");
    let out = with_config(&["profile", "show", "viaproxy"], &[]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("alice:***@"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("s3cret-proxy"), "{}", stdout(&out));
    let out = with_config(&[&publish[..], &["-d"]].concat(), &[]);
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("s3cret-proxy"), "{}", stderr(&out));
}

#[test]
fn bench_connects_through_a_proxy() {
    let broker = Broker::start();
    let proxy = Proxy::microsocks(None);
    let out = run_with_env(
        &[
            "bench",
            "conn",
            "-h",
            "localhost",
            "-p",
            &broker.port.to_string(),
            "-c",
            "3",
            "--duration",
            "100ms",
            "--proxy",
            &proxy.url("socks5h", None),
        ],
        &[],
    );
    assert_code(&out, 0);
    proxy.wait_for_log(&format!("connected to localhost:{}", broker.port), 3);
}

/// MQTT 5 takes every route MQTT 3.1.1 takes: through an HTTP and a SOCKS5 proxy, from a
/// source address (also for a ws:// URL, whose host the connector must be given, not the
/// URL), over wss through a proxy, and over a Unix socket.
#[test]
fn mqtt_5_takes_every_route() {
    let pki = Pki::new();
    let broker = Broker::with_files(|dir| {
        format!(
            "allow_anonymous true\nlistener 0 {}\n",
            dir.join("mosquitto.sock").display()
        )
    });
    // Also the TCP listener the other cases use.
    let tcp = Broker::start();
    let socket = broker.dir.path().join("mosquitto.sock");
    let ws = Gateway::start(tcp.port, None);
    let wss = Gateway::start(tcp.port, Some(pki.server_config("server")));
    let tinyproxy = Proxy::tinyproxy(None);
    let socks = Proxy::microsocks(None);
    let port = tcp.port.to_string();
    let ca = pki.arg("ca.pem");
    let ws_url = format!("ws://localhost:{}/mqtt", ws.port);
    let wss_url = format!("wss://localhost:{}/mqtt", wss.port);
    let http = tinyproxy.url("http", None);
    let socks5h = socks.url("socks5h", None);
    let socket = socket.to_str().expect("utf-8 path");
    let direct = ["-h", "127.0.0.1", "-p", &port];
    let cases: Vec<Vec<&str>> = vec![
        [&direct[..], &["--proxy", &http]].concat(),
        [&direct[..], &["--proxy", &socks5h]].concat(),
        [&direct[..], &["-A", "127.0.0.2"]].concat(),
        vec!["-L", &ws_url, "-A", "127.0.0.1"],
        vec!["-L", &ws_url, "--proxy", &http],
        vec!["-L", &wss_url, "--cafile", &ca, "--proxy", &socks5h],
        vec!["--unix", socket],
    ];
    for route in cases {
        let mut args = vec!["pub", "-V", "5", "-t", "v5/route", "-m", "x", "-q", "1"];
        args.extend(&route);
        let out = run_with_env(&args, &[]);
        assert_code(&out, 0);
        assert!(stderr(&out).is_empty(), "{route:?}: {}", stderr(&out));
    }
    assert_eq!(ws.paths().len(), 2);
    assert_eq!(wss.paths().len(), 1);
    tcp.wait_for_log("New connection from 127.0.0.2:", 1);
}
