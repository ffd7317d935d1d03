//! Turns flags, the `-L` URL, environment variables and the profile into one validated value
//! before any network I/O (flags win, then the URL, then the environment, then the profile).
//!
//! Everything a user can get wrong dies here with a one-line message and exit 2, so the network
//! layer never sees a bad topic, an unreadable file or a keepalive rumqttc would panic on. One
//! file per concern; this one only gathers them.

pub mod bench;
mod check;
mod connect;
mod origin;
mod output_format;
mod properties;
mod publish;
mod request;
mod route;
mod subscribe;
mod will;

pub use crate::broker_url::{UrlParts, parse_url, redact_url};
pub use bench::{BenchSettings, bench_settings};
pub use check::{CheckSettings, check_settings};
pub use connect::{ConnectSettings, connect_settings};
pub use origin::report as report_origins;
pub use output_format::Printing;
pub use publish::{Payloads, PubSettings, pub_settings};
pub use request::{RrSettings, rr_settings};
pub use route::Route;
pub use subscribe::{Shown, SubSettings, sub_settings};
pub use will::Will;

pub use crate::types::{MAX_PACKET_SIZE, Secret, Transport};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::env::Environment;
    use crate::cli::{Cli, Command};
    use anyhow::Result;
    use clap::Parser;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|value| value.to_string())
        }
    }

    fn sub(argv: &[&str], env: &[(&'static str, &'static str)]) -> Result<SubSettings> {
        let cli = Cli::try_parse_from(["mqtt-cli", "sub"].iter().chain(argv))
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        let Command::Sub(args) = cli.command else {
            unreachable!("parsed a sub command")
        };
        let env = FakeEnv(env.iter().copied().collect());
        sub_settings(
            &args,
            crate::cli::config::Sources {
                env: &env,
                profile: None,
            },
        )
    }

    #[test]
    fn url_parts_fill_in_and_flags_win() {
        let settings = sub(
            &["-L", "mqtt://alice:s%40cret@broker.example:1884/a/b"],
            &[],
        )
        .expect("valid");
        assert_eq!(settings.connect.host, "broker.example");
        assert_eq!(settings.connect.port, 1884);
        assert_eq!(settings.connect.username.as_deref(), Some("alice"));
        assert_eq!(settings.connect.password, Some(Secret::new("s@cret")));
        assert_eq!(settings.filters, vec!["a/b".to_string()]);

        let settings = sub(
            &[
                "-L",
                "mqtt://broker.example/x",
                "-h",
                "other",
                "-p",
                "1",
                "-t",
                "y",
            ],
            &[("MQTT_HOST", "envhost")],
        )
        .expect("valid");
        assert_eq!(settings.connect.address(), "other:1");
        assert_eq!(settings.filters, vec!["y".to_string()]);
    }

    #[test]
    fn environment_is_the_last_resort() {
        let settings = sub(
            &["-t", "x"],
            &[
                ("MQTT_HOST", "envhost"),
                ("MQTT_PORT", "1999"),
                ("MQTT_USERNAME", "bob"),
                ("MQTT_PASSWORD", "pw"),
            ],
        )
        .expect("valid");
        assert_eq!(settings.connect.address(), "envhost:1999");
        assert_eq!(settings.connect.password, Some(Secret::new("pw")));
        // A password in the environment without a user name is ignored, not an error.
        let settings = sub(&["-t", "x"], &[("MQTT_PASSWORD", "pw")]).expect("valid");
        assert_eq!(settings.connect.password, None);
    }

    #[test]
    fn tls_follows_scheme_flags_and_port_8883() {
        let transport_and_port = |argv: &[&str]| {
            let settings = sub(argv, &[]).expect("valid");
            (
                settings.connect.transport,
                settings.connect.port,
                settings.connect.tls.is_some(),
            )
        };
        let ws = |path: &str| Transport::Ws {
            path: path.to_string(),
        };
        let wss = |path: &str| Transport::Wss {
            path: path.to_string(),
        };
        assert_eq!(
            transport_and_port(&["-t", "x"]),
            (Transport::Tcp, 1883, false)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "-p", "8883"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "--tls"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "--insecure"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-t", "x", "-p", "8883", "--no-tls"]),
            (Transport::Tcp, 8883, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "mqtts://h/x"]),
            (Transport::Tls, 8883, true)
        );
        assert_eq!(
            transport_and_port(&["-L", "ws://h", "-t", "x"]),
            (ws("/mqtt"), 80, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "ws://h:9001/p", "-t", "x"]),
            (ws("/p"), 9001, false)
        );
        assert_eq!(
            transport_and_port(&["-L", "wss://h", "-t", "x"]),
            (wss("/mqtt"), 443, true)
        );
        // A TLS option upgrades ws:// to wss://, never the other way round.
        assert_eq!(
            transport_and_port(&["-L", "ws://h:8080", "--tls", "-t", "x"]),
            (wss("/mqtt"), 8080, true)
        );
        let settings = sub(&["-L", "wss://[::1]:8081/mqtt", "-t", "x"], &[]).expect("valid");
        assert_eq!(
            settings.connect.websocket_url().as_deref(),
            Some("wss://[::1]:8081/mqtt")
        );
    }

    #[test]
    fn wildcards_and_question_marks_in_the_url_path_are_the_topic() {
        let filter = |url: &str| sub(&["-L", url], &[]).expect("valid").filters;
        assert_eq!(filter("mqtt://localhost:1883/home/#"), vec!["home/#"]);
        assert_eq!(filter("mqtt://localhost/#"), vec!["#"]);
        assert_eq!(filter("mqtt://localhost/+/temp"), vec!["+/temp"]);
        assert_eq!(filter("mqtt://localhost/a/%23"), vec!["a/#"]);
        assert_eq!(filter("mqtt://localhost/what?now"), vec!["what?now"]);
        let err = sub(&["-L", "mqtt://localhost/a/#/b"], &[]).expect_err("# not last");
        assert_eq!(crate::error::exit_code_of(&err), 2);
    }

    #[test]
    fn a_host_with_a_port_or_a_scheme_says_what_was_meant() {
        for (host, needle) in [
            ("localhost:1883", "did you mean -h localhost -p 1883?"),
            ("[::1]:1883", "did you mean -h ::1 -p 1883?"),
            (
                "mqtts://broker.example:8883",
                "use -L mqtts://broker.example:8883",
            ),
        ] {
            let err = sub(&["-h", host, "-t", "x"], &[]).expect_err("bad host");
            assert!(format!("{err:#}").contains(needle), "{host}: {err:#}");
        }
        for host in ["::1", "[::1]", "broker.example", "10.0.0.1"] {
            sub(&["-h", host, "-t", "x"], &[]).expect("valid host");
        }
    }

    #[test]
    fn ipv6_hosts() {
        let settings = sub(&["-L", "mqtt://[::1]:1884", "-t", "x"], &[]).expect("valid");
        assert_eq!(settings.connect.host, "::1");
        assert_eq!(settings.connect.address(), "[::1]:1884");
    }

    #[test]
    fn secrets_are_not_printed() {
        let settings = sub(&["-t", "x", "-u", "u", "-P", "hunter2"], &[]).expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2"));
        let err =
            sub(&["-L", "mqtt://u:hunter2@host:notaport", "-t", "x"], &[]).expect_err("bad port");
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
    }

    #[test]
    fn bad_input_is_usage() {
        for argv in [
            &["-t", "a/#/b"][..],
            &["-t", ""],
            &["-L", "http://host", "-t", "x"],
            &["-L", "mqtt://", "-t", "x"],
            &["-t", "x", "-c"],
            &["-t", "x", "-P", "pw"],
            &["-t", "x", "--will-payload", "bye"],
            &["-t", "x", "-W", "0s"],
            &["-t", "x", "--no-local"],
            &["-t", "x", "--retain-handling", "2"],
            &["-t", "x", "-x", "60"],
            &["-t", "x", "-V", "5", "-x", "60"],
            &["-t", "x", "--will-delay", "5s", "-V", "5"],
            &[
                "-t",
                "x",
                "--will-topic",
                "w",
                "--will-correlation-data",
                "hex:zz",
                "-V",
                "5",
            ],
        ] {
            let err = sub(argv, &[]).expect_err("must fail");
            assert_eq!(crate::error::exit_code_of(&err), 2, "{argv:?}: {err:#}");
        }
    }
}
