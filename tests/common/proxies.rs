//! Real proxy servers from Debian's packages on free loopback ports: tinyproxy (HTTP
//! CONNECT), microsocks (SOCKS5), stunnel (TLS in front of another proxy: an https:// proxy).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::pki::Pki;
use super::{free_port, listens, wait_for_lines};

/// A proxy server process on a free loopback port, its output in a log file.
pub struct Proxy {
    pub port: u16,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    /// Starts `program` (given its port and directory) and waits until the port accepts.
    pub fn spawn(make: impl Fn(u16, &Path) -> Command) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("proxy.log");
        for _ in 0..5 {
            let port = free_port();
            let mut command = make(port, dir.path());
            let file = std::fs::File::create(&log).expect("log");
            let mut child = command
                .stdout(file.try_clone().expect("log"))
                .stderr(file)
                .stdin(Stdio::null())
                .spawn()
                .expect("start the proxy (apt-get install tinyproxy microsocks stunnel4)");
            if listens(&mut child, port, Duration::from_secs(10)) {
                return Proxy {
                    port,
                    child,
                    log,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "the proxy did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// tinyproxy (HTTP CONNECT), with Basic authentication when `auth` is given.
    pub fn tinyproxy(auth: Option<(&str, &str)>) -> Proxy {
        Proxy::tinyproxy_with(auth, "")
    }

    /// tinyproxy with `extra` configuration lines.
    pub fn tinyproxy_with(auth: Option<(&str, &str)>, extra: &str) -> Proxy {
        let extra = extra.to_string();
        let auth = auth.map(|(user, password)| format!("BasicAuth {user} {password}\n"));
        Proxy::spawn(move |port, dir| {
            let conf = dir.join("tinyproxy.conf");
            std::fs::write(
                &conf,
                format!(
                    "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Info\nMaxClients 100\n\
                     Allow 127.0.0.1\n{}{extra}",
                    auth.clone().unwrap_or_default()
                ),
            )
            .expect("write tinyproxy.conf");
            let mut command = Command::new("tinyproxy");
            command.arg("-d").arg("-c").arg(conf);
            command
        })
    }

    /// microsocks (SOCKS5), with user name and password authentication when `auth` is given.
    pub fn microsocks(auth: Option<(&str, &str)>) -> Proxy {
        let auth = auth.map(|(user, password)| (user.to_string(), password.to_string()));
        Proxy::spawn(move |port, _| {
            let mut command = Command::new("microsocks");
            command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
            if let Some((user, password)) = &auth {
                command.args(["-u", user, "-P", password]);
            }
            command
        })
    }

    /// stunnel taking TLS (a certificate for localhost from `pki`) in front of `inner`: an
    /// https:// proxy.
    pub fn stunnel(pki: &Pki, inner: &Proxy) -> Proxy {
        let (cert, key, inner) = (pki.path("server.pem"), pki.path("server.key"), inner.port);
        Proxy::spawn(move |port, dir| {
            let conf = dir.join("stunnel.conf");
            std::fs::write(
                &conf,
                format!(
                    "foreground = yes\npid =\n[proxy]\naccept = 127.0.0.1:{port}\n\
                     connect = 127.0.0.1:{inner}\ncert = {}\nkey = {}\n",
                    cert.display(),
                    key.display()
                ),
            )
            .expect("write stunnel.conf");
            let mut command = Command::new("stunnel4");
            command.arg(conf);
            command
        })
    }

    pub fn url(&self, scheme: &str, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, password)) => {
                format!("{scheme}://{user}:{password}@127.0.0.1:{}", self.port)
            }
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `times` lines of the proxy's log contain `needle` (it may write after the
    /// client has gone).
    pub fn wait_for_log(&self, needle: &str, times: usize) {
        wait_for_lines(&self.log, needle, times, "the proxy's log");
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
