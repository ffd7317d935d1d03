//! How the connection reaches the broker: a proxy (`--proxy`, else the environment as curl
//! reads it), a local source address (`-A`), or the broker's Unix socket (`--unix`).

use std::net::IpAddr;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

use anyhow::Result;
use url::Url;

use crate::broker_url::redact_url;
use crate::cli::ConnectArgs;
use crate::cli::env::Environment;
use crate::error::usage;
use crate::tls::{TlsOptions, TlsSetup, Trust};
use crate::types::{Proxy, ProxyScheme, Secret, Transport};

/// The way to the broker, when it is not a plain TCP connection to host and port.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub proxy: Option<Proxy>,
    pub bind_address: Option<IpAddr>,
    pub unix: Option<PathBuf>,
    /// TLS to an https:// proxy: its own trust (--proxy-cacert, else the Mozilla roots) and
    /// --proxy-insecure, no client certificate.
    pub proxy_tls: Option<TlsSetup>,
    /// Choose the local port ourselves (`bench`: thousands of connections to one broker, where
    /// the kernel's own search for a free port grows with each one).
    pub pick_source_port: bool,
}

impl Route {
    pub fn is_direct(&self) -> bool {
        self.proxy.is_none()
            && self.bind_address.is_none()
            && self.unix.is_none()
            && !self.pick_source_port
    }
}

/// The route for `host`, over `transport`: flags first, then the environment.
pub(super) fn route(
    args: &ConnectArgs,
    env: &dyn Environment,
    transport: &Transport,
    host: &str,
    tls_options: TlsOptions,
) -> Result<Route> {
    if let Some(path) = &args.unix {
        if !cfg!(unix) {
            return Err(usage("--unix needs a Unix system"));
        }
        if args.proxy.as_deref().is_some_and(|url| !url.is_empty()) {
            return Err(usage("--unix and --proxy do not go together"));
        }
        if args.bind_address.is_some() {
            return Err(usage("--unix and -A/--bind-address do not go together"));
        }
        if path.as_os_str().is_empty() {
            return Err(usage("--unix needs the path of the broker's socket"));
        }
        return Ok(Route {
            unix: Some(path.clone()),
            ..Route::default()
        });
    }
    let proxy = choose_proxy(args, env, transport, host)?;
    // The proxy's trust is its own (curl's --proxy-cacert, --proxy-insecure): the broker's
    // --cafile and --insecure are for the broker.
    let proxy_tls = match &proxy {
        Some(proxy) if proxy.scheme == ProxyScheme::Https => Some(crate::tls::build(TlsOptions {
            trust: if args.proxy_cacert.is_empty() {
                Trust::MozillaRoots
            } else {
                Trust::Files(args.proxy_cacert.clone())
            },
            insecure: args.proxy_insecure,
            min_version: tls_options.min_version,
            ..TlsOptions::default()
        })?),
        _ if !args.proxy_cacert.is_empty() || args.proxy_insecure => {
            return Err(usage(
                "--proxy-cacert and --proxy-insecure are for an https:// proxy (--proxy https://...)",
            ));
        }
        _ => None,
    };
    let bind_address = match args.bind_address.as_ref().map(|list| list.0.as_slice()) {
        None => None,
        Some([one]) => Some(*one),
        Some(_) => {
            return Err(usage(
                "-A: a list or range of addresses is for bench (spread over its clients); give one address",
            ));
        }
    };
    Ok(Route {
        proxy,
        bind_address,
        unix: None,
        proxy_tls,
        pick_source_port: false,
    })
}

fn choose_proxy(
    args: &ConnectArgs,
    env: &dyn Environment,
    transport: &Transport,
    host: &str,
) -> Result<Option<Proxy>> {
    if args.no_proxy || args.proxy.as_deref() == Some("") {
        return Ok(None);
    }
    if let Some(text) = &args.proxy {
        // main prints the flag (its password hidden).
        return parse_proxy(text, "--proxy", env).map(Some);
    }
    let tls = matches!(transport, Transport::Tls | Transport::Wss { .. });
    let names: &[&str] = if tls {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((name, text)) = names
        .iter()
        .find_map(|name| env.var(name).map(|text| (*name, text)))
    else {
        return Ok(None);
    };
    for no_proxy in ["no_proxy", "NO_PROXY"] {
        if let Some(list) = env.var(no_proxy)
            && bypasses(&list, host)
        {
            tracing::debug!("no proxy for {host} (env {no_proxy}; {name} is set)");
            return Ok(None);
        }
    }
    let proxy = parse_proxy(&text, name, env)?;
    tracing::debug!("proxy {proxy} (env {name})");
    Ok(Some(proxy))
}

/// Whether NO_PROXY's `list` (comma or space separated) names `host`: `*`, the host itself,
/// a domain it is in (`example.com` or `.example.com`), its IP address, or a network holding
/// it (`10.0.0.0/8`), as curl reads the list.
pub(super) fn bypasses(list: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip = host.parse::<IpAddr>().ok();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or(entry);
            if let (Some(ip), Some((network, bits))) = (host_ip, entry.split_once('/')) {
                return in_network(ip, network, bits);
            }
            let entry = entry
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            match (host_ip, entry.parse::<IpAddr>()) {
                (Some(ip), Ok(entry_ip)) => ip == entry_ip,
                (Some(_), Err(_)) | (None, Ok(_)) => false,
                (None, Err(_)) => {
                    host == entry
                        || host
                            .strip_suffix(&entry)
                            .is_some_and(|rest| rest.ends_with('.'))
                }
            }
        })
}

fn in_network(ip: IpAddr, network: &str, bits: &str) -> bool {
    let (Ok(network), Ok(bits)) = (network.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// A proxy URL: `scheme://[user[:password]@]host[:port]`; without a scheme, http:// (as
/// curl). The password may come from MQTT_PROXY_PASSWORD instead.
pub(super) fn parse_proxy(text: &str, origin: &str, env: &dyn Environment) -> Result<Proxy> {
    let shown = redact_url(text);
    let bad = |why: &str| usage(format!("invalid proxy URL '{shown}' ({origin}): {why}"));
    let full = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&full).map_err(|err| bad(&err.to_string()))?;
    let scheme = match url.scheme() {
        "socks5" => ProxyScheme::Socks5,
        "socks5h" => ProxyScheme::Socks5h,
        "http" => ProxyScheme::Http,
        "https" => ProxyScheme::Https,
        "socks4" | "socks4a" | "socks" => {
            return Err(bad(
                "SOCKS4 is not supported: use socks5:// or socks5h:// (names resolved by the proxy)",
            ));
        }
        other => {
            return Err(bad(&format!(
                "unknown scheme '{other}': use socks5://, socks5h://, http:// or https://"
            )));
        }
    };
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => return Err(bad("no host")),
    };
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "a proxy URL has no path: scheme://[user[:password]@]host:port",
        ));
    }
    // curl's defaults: 1080 for SOCKS and HTTP, 443 for HTTPS.
    let port = url.port().unwrap_or(match scheme {
        ProxyScheme::Https => 443,
        _ => 1080,
    });
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| bad("the user name or password is not UTF-8 once decoded"))
    };
    let username = match url.username() {
        "" => None,
        user => Some(decode(user)?),
    };
    let password = match (url.password(), &username) {
        (Some(password), _) => Some(Secret::new(decode(password)?)),
        (None, Some(_)) => env.var("MQTT_PROXY_PASSWORD").map(Secret::new),
        (None, None) => None,
    };
    Ok(Proxy {
        scheme,
        host,
        port,
        username,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars(&'static [(&'static str, &'static str)]);

    impl Environment for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn no_proxy_lists_are_read_as_curl_reads_them() {
        // A list, the hosts it sends straight to the broker, and those it leaves to the proxy.
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("*", &["broker.example.com"], &[]),
            (
                "example.com",
                &["broker.example.com", "example.com"],
                &["badexample.com"],
            ),
            (".example.com", &["broker.example.com"], &["example.org"]),
            ("EXAMPLE.com", &["Broker.Example.COM."], &[]),
            ("", &[], &["broker"]),
            (
                "localhost, 127.0.0.1,10.0.0.1",
                &["127.0.0.1", "10.0.0.1"],
                &["127.0.0.2"],
            ),
            ("127.0.0.0/8", &["127.0.0.2"], &["128.0.0.1"]),
            ("10.0.0.0/8", &[], &["127.0.0.2"]),
            ("::1", &["::1"], &["::2"]),
            ("[::1]", &["::1"], &[]),
        ];
        for &(list, direct, proxied) in cases {
            for (hosts, expected) in [(direct, true), (proxied, false)] {
                for host in hosts {
                    assert_eq!(
                        bypasses(list, host),
                        expected,
                        "NO_PROXY={list} host {host}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_proxy_variable_follows_the_transport() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["mqtt-cli", "sub", "-t", "x"]).expect("parse");
        let crate::cli::Command::Sub(sub) = cli.command else {
            panic!("sub");
        };
        let env = Vars(&[
            ("HTTP_PROXY", "http://plain:3128"),
            ("HTTPS_PROXY", "http://secure:3128"),
        ]);
        let path = || "/mqtt".to_string();
        for (transport, proxy) in [
            (Transport::Tcp, "plain"),
            (Transport::Ws { path: path() }, "plain"),
            (Transport::Tls, "secure"),
            (Transport::Wss { path: path() }, "secure"),
        ] {
            let chosen = choose_proxy(&sub.connect, &env, &transport, "broker")
                .expect("valid")
                .expect("a proxy");
            assert_eq!(chosen.host, proxy, "{transport}");
        }
    }

    #[test]
    fn proxy_urls() {
        let env = Vars(&[("MQTT_PROXY_PASSWORD", "from env")]);
        let proxy = parse_proxy("socks5h://alice@[::1]:9050", "--proxy", &env).expect("test setup");
        assert_eq!(proxy.scheme, ProxyScheme::Socks5h);
        assert_eq!(proxy.host, "::1");
        assert_eq!(proxy.port, 9050);
        assert_eq!(proxy.password.expect("test setup").expose(), "from env");
        assert_eq!(
            parse_proxy("http://al%40ice:p%3Ass@proxy:3128", "--proxy", &env)
                .expect("test setup")
                .password
                .expect("test setup")
                .expose(),
            "p:ss"
        );
        let plain = parse_proxy("proxy.example.com:3128", "HTTP_PROXY", &env).expect("test setup");
        assert_eq!(plain.to_string(), "http://proxy.example.com:3128");
        assert_eq!(
            parse_proxy("https://proxy", "--proxy", &env)
                .expect("test setup")
                .port,
            443
        );
        for (bad, why) in [
            ("socks4://proxy:1080", "SOCKS4 is not supported"),
            ("ftp://proxy", "unknown scheme 'ftp'"),
            ("http://user:secret@proxy:3128/path", "has no path"),
            ("http://proxy:99999", "invalid port"),
        ] {
            let message = parse_proxy(bad, "--proxy", &env)
                .expect_err("an error")
                .to_string();
            assert!(message.contains(why), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    fn connect_args(flags: &[&str]) -> ConnectArgs {
        use clap::Parser;
        let argv = ["mqtt-cli", "sub", "-t", "x"].iter().chain(flags);
        let cli = crate::cli::Cli::try_parse_from(argv).expect("parse");
        let crate::cli::Command::Sub(sub) = cli.command else {
            panic!("sub");
        };
        sub.connect
    }

    fn route_of(flags: &[&str], env: &Vars) -> Result<Route> {
        let options = TlsOptions {
            min_version: crate::tls::TlsVersion::V1_3,
            ..TlsOptions::default()
        };
        route(
            &connect_args(flags),
            env,
            &Transport::Tcp,
            "broker",
            options,
        )
    }

    fn refusal(flags: &[&str]) -> String {
        route_of(flags, &Vars(&[]))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn a_route_is_direct_only_without_proxy_source_address_and_socket() {
        let none = Vars(&[]);
        assert!(route_of(&[], &none).expect("route").is_direct());
        let bound = route_of(&["-A", "127.0.0.1"], &none).expect("route");
        assert_eq!(bound.bind_address, Some("127.0.0.1".parse().expect("ip")));
        assert!(!bound.is_direct());
        let proxied = route_of(&["--proxy", "socks5://127.0.0.1:1080"], &none).expect("route");
        assert!(!proxied.is_direct() && proxied.proxy_tls.is_none());
        let unix = route_of(&["--unix", "/run/broker.sock"], &none).expect("route");
        assert_eq!(unix.unix.as_deref(), Some(Path::new("/run/broker.sock")));
        assert!(!unix.is_direct() && unix.proxy.is_none());
        let via_env = Vars(&[("HTTP_PROXY", "http://127.0.0.1:3128")]);
        for direct in [&["--no-proxy"][..], &["--proxy", ""]] {
            assert!(
                route_of(direct, &via_env).expect("route").is_direct(),
                "{direct:?}"
            );
        }
        assert!(!route_of(&[], &via_env).expect("route").is_direct());
        // A socket path is the whole way: the environment's proxy is not read.
        let unix = route_of(&["--unix", "/run/broker.sock"], &via_env).expect("route");
        assert!(unix.proxy.is_none());
    }

    #[test]
    fn what_does_not_go_together_is_refused() {
        for (flags, why) in [
            (
                &["--unix", "/s", "--proxy", "socks5://p"][..],
                "--unix and --proxy",
            ),
            (&["--unix", "/s", "-A", "127.0.0.1"], "--unix and -A"),
            (
                &["--proxy", "http://p", "--proxy-insecure"],
                "are for an https:// proxy",
            ),
            (&["--proxy-cacert", "ca.pem"], "are for an https:// proxy"),
        ] {
            let message = refusal(flags);
            assert!(message.contains(why), "{flags:?}: {message}");
        }
        // clap refuses `--unix ''`; an empty path from elsewhere is refused here too.
        let mut args = connect_args(&[]);
        args.unix = Some(PathBuf::new());
        let empty = route(
            &args,
            &Vars(&[]),
            &Transport::Tcp,
            "b",
            TlsOptions::default(),
        );
        assert!(
            empty
                .expect_err("refused")
                .to_string()
                .contains("--unix needs the path")
        );
        // --proxy '' is no proxy: --unix goes with it.
        assert!(route_of(&["--unix", "/s", "--proxy", ""], &Vars(&[])).is_ok());
    }

    #[test]
    fn an_https_proxy_has_its_own_trust() {
        let none = Vars(&[]);
        let https = ["--proxy", "https://127.0.0.1:8443"];
        let tls = route_of(&https, &none)
            .expect("route")
            .proxy_tls
            .expect("TLS");
        assert_eq!(tls.options.trust, Trust::MozillaRoots);
        assert!(!tls.options.insecure);
        // The broker's minimum version holds for the proxy too; its client certificate not.
        assert_eq!(tls.options.min_version, crate::tls::TlsVersion::V1_3);
        let insecure = [&https[..], &["--proxy-insecure"]].concat();
        let tls = route_of(&insecure, &none)
            .expect("route")
            .proxy_tls
            .expect("TLS");
        assert!(tls.options.insecure);
        let dir = tempfile::tempdir().expect("test setup");
        let ca = dir.path().join("ca.pem");
        let key = rcgen::KeyPair::generate().expect("test setup");
        let cert = rcgen::CertificateParams::new(vec!["proxy".to_string()])
            .expect("test setup")
            .self_signed(&key)
            .expect("test setup");
        std::fs::write(&ca, cert.pem()).expect("test setup");
        let ca_text = ca.display().to_string();
        let with_ca = [&https[..], &["--proxy-cacert", &ca_text]].concat();
        let tls = route_of(&with_ca, &none)
            .expect("route")
            .proxy_tls
            .expect("TLS");
        assert_eq!(tls.options.trust, Trust::Files(vec![ca]));
    }

    #[test]
    fn networks_hold_what_their_prefix_says() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
        for (host, network, bits, inside) in [
            ("10.1.2.3", "10.0.0.0", "8", true),
            ("11.1.2.3", "10.0.0.0", "8", false),
            ("10.1.2.3", "10.1.2.0", "24", true),
            ("10.1.3.3", "10.1.2.0", "24", false),
            ("10.1.2.3", "10.1.2.3", "32", true),
            ("10.1.2.4", "10.1.2.3", "32", false),
            ("192.0.2.1", "0.0.0.0", "0", true),
            ("10.1.2.3", "10.0.0.0", "33", false),
            ("10.1.2.3", "10.0.0.0", "x", false),
            ("2001:db8::1", "2001:db8::", "32", true),
            ("2001:db9::1", "2001:db8::", "32", false),
            ("2001:db8::1", "2001:db8::1", "128", true),
            ("2001:db8::2", "2001:db8::1", "128", false),
            ("2001:db8::1", "::", "0", true),
            ("2001:db8::1", "2001:db8::", "129", false),
            ("::ffff:10.1.2.3", "10.0.0.0", "8", false),
            ("10.1.2.3", "::", "0", false),
        ] {
            assert_eq!(
                in_network(ip(host), network, bits),
                inside,
                "{host} in {network}/{bits}"
            );
        }
    }

    #[test]
    fn a_proxy_url_has_no_path_query_or_fragment() {
        for bad in [
            "http://proxy:3128/x",
            "http://proxy:3128?x=1",
            "http://proxy:3128#x",
        ] {
            let message = parse_proxy(bad, "--proxy", &Vars(&[]))
                .expect_err("an error")
                .to_string();
            assert!(message.contains("has no path"), "{bad}: {message}");
        }
        assert!(parse_proxy("http://proxy:3128/", "--proxy", &Vars(&[])).is_ok());
    }
}
