//! Test support: a real mosquitto per test on a free loopback port, and the mqtt-cli binary.
#![allow(dead_code)]

pub mod argv;
pub mod foreign;
pub mod gateway;
pub mod pki;
pub mod proxies;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Numbers test client ids, unique within a test binary (each test has its own broker).
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// How long any single step may take before the test fails instead of hanging.
pub const STEP: Duration = Duration::from_secs(60);

/// The mosquitto broker binary, or a panic that says how to install it.
pub fn mosquitto_path() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("mosquitto"))
                .collect()
        })
        .unwrap_or_default();
    candidates.push("/usr/sbin/mosquitto".into());
    candidates.push("/usr/local/sbin/mosquitto".into());
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto not found: these tests need the mosquitto broker \
                 (Debian/Ubuntu: apt-get install -y mosquitto; macOS: brew install mosquitto)"
            )
        })
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a loopback port")
}

/// A mosquitto process, killed on drop.
pub struct Broker {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Broker {
    /// Anonymous access on a free loopback port.
    pub fn start() -> Broker {
        Broker::with_config("allow_anonymous true\n")
    }

    /// `config` is added to the listener line; files it names may live in `dir` (see `with_files`).
    pub fn with_config(config: &str) -> Broker {
        Broker::with_files(|_| config.to_string())
    }

    /// Builds the config with access to the broker's own temporary directory, for password
    /// files and the like.
    pub fn with_files(config: impl Fn(&std::path::Path) -> String) -> Broker {
        let dir = tempfile::tempdir().expect("temp dir");
        let body = config(dir.path());
        let persistence = if body.contains("persistence true") {
            ""
        } else {
            "persistence false\n"
        };
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.path().join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!(
                    "user root\n{persistence}listener {port} 127.0.0.1\n\
                     log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n\
                     log_type subscribe\n{body}"
                ),
            )
            .expect("write mosquitto.conf");
            let log = dir.path().join("mosquitto.log");
            let mut child = Command::new(mosquitto_path())
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("start mosquitto");
            if listens(&mut child, port, Duration::from_secs(10)) {
                return Broker { child, port, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("mosquitto did not start; its log:\n{last_log}");
    }

    /// A broker that admits only `user` with `password` (from a mosquitto_passwd file).
    pub fn with_password(user: &str, password: &str) -> Broker {
        let (user, password) = (user.to_string(), password.to_string());
        Broker::with_files(move |dir| {
            let file = dir.join("passwords");
            let status = Command::new("mosquitto_passwd")
                .args(["-c", "-b"])
                .arg(&file)
                .args([&user, &password])
                .status()
                .expect("run mosquitto_passwd (package mosquitto)");
            assert!(status.success());
            format!("allow_anonymous false\npassword_file {}\n", file.display())
        })
    }

    /// A broker that keeps sessions and queued messages on disk across [`Broker::restart`].
    pub fn persistent(config: &str) -> Broker {
        let config = config.to_string();
        Broker::with_files(move |dir| {
            format!(
                "persistence true\npersistence_location {}/\nallow_anonymous true\n{config}",
                dir.display()
            )
        })
    }

    /// Stops the broker as an administrator would (SIGTERM: a persistent broker saves its
    /// state) and starts it again on the same port with the same configuration.
    pub fn restart(&mut self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        let _ = self.child.wait();
        self.start_again();
    }

    /// The broker's process id (to pause it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the broker for good (SIGTERM).
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    /// Starts the stopped broker again, same port and configuration.
    pub fn start_again(&mut self) {
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("mosquitto.log"))
            .expect("log file");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            self.child = Command::new(mosquitto_path())
                .arg("-c")
                .arg(self.dir.path().join("mosquitto.conf"))
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("log file"))
                .spawn()
                .expect("start mosquitto");
            // Not listening when the port is not free yet: try again.
            if listens(&mut self.child, self.port, Duration::from_secs(2)) {
                return;
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            thread::sleep(Duration::from_millis(50));
        }
        panic!("mosquitto did not start again; its log:\n{}", self.log());
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// Waits until the broker has logged a subscription by `client_id` (log_type subscribe
    /// writes `<client id> <qos> <filter>` once the subscription is in place).
    pub fn wait_for_subscription(&self, client_id: &str) {
        self.wait_for_log(&format!(": {client_id} "), 1);
    }

    /// Waits until the broker has connected `client_id` `times` times in all (log_type notice:
    /// `New client connected from ... as <client id> (`).
    pub fn wait_for_connection(&self, client_id: &str, times: usize) {
        self.wait_for_log(&format!(" as {client_id} ("), times);
    }

    /// Waits until `times` lines of the broker's log contain `needle`.
    pub fn wait_for_log(&self, needle: &str, times: usize) {
        wait_for_lines(
            &self.dir.path().join("mosquitto.log"),
            needle,
            times,
            "the broker log",
        );
    }

    /// `-h 127.0.0.1 -p PORT`.
    pub fn args(&self) -> Vec<String> {
        vec![
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
        ]
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mosquitto TLS listener with these CA, certificate and key files, plus `extra` config.
pub fn tls_broker(ca: PathBuf, cert: PathBuf, key: PathBuf, extra: &str) -> Broker {
    let extra = extra.to_string();
    Broker::with_files(move |_| {
        format!(
            "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n{extra}",
            ca.display(),
            cert.display(),
            key.display()
        )
    })
}

/// `pub` of one QoS 1 message to topic `secure` on `broker` by `host`, with TLS `flags`.
pub fn publish_secure(broker: &Broker, host: &str, flags: &[&str]) -> Output {
    let port = broker.port.to_string();
    let mut args = vec![
        "pub", "-h", host, "-p", &port, "-t", "secure", "-m", "hello", "-q", "1",
    ];
    args.extend(flags);
    run(&args, b"")
}

/// Waits until `child` accepts connections on loopback `port` (true), or exits, or `limit`
/// passes (false). The listener must be the child's own: under parallel tests another broker
/// may have taken the port meanwhile, and this child is then about to exit (address in use)
/// while a connection to the port succeeds.
pub fn listens(child: &mut Child, port: u16, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && owns_listener(child.id(), port) {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Whether process `pid` holds the socket listening on TCP `port` (Linux: the listener's inode
/// in /proc/net/tcp and tcp6 among the process's file descriptors).
fn owns_listener(pid: u32, port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let listening = fields.get(3) == Some(&"0A");
                    let here = fields.get(1).is_some_and(|local| local.ends_with(&wanted));
                    (listening && here).then(|| fields.get(9).map(|inode| inode.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| {
            let target = target.to_string_lossy();
            inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
        })
}

/// Waits until `times` lines of the file `log` (`what`, for the failure) contain `needle`.
pub fn wait_for_lines(log: &std::path::Path, needle: &str, times: usize, what: &str) {
    let read = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + STEP;
    while Instant::now() < deadline {
        if read().lines().filter(|line| line.contains(needle)).count() >= times {
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
    panic!("{needle:?} not {times} time(s) in {what}:\n{}", read());
}

/// The mqtt-cli binary under test, with a clean environment for the variables it reads.
pub fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqtt-cli"));
    for var in [
        "MQTT_HOST",
        "MQTT_PORT",
        "MQTT_URL",
        "MQTT_USERNAME",
        "MQTT_PASSWORD",
        "MQTT_PASSWORD_FILE",
        "MQTT_CLIENT_ID",
        "MQTT_PROFILE",
        "MQTT_PROXY_PASSWORD",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    // No config file of the machine's: tests that want one set their own.
    command.env("MQTT_CLI_CONFIG", "/nonexistent/mqtt-cli-tests/config.toml");
    command.env("NO_COLOR", "1");
    command
}

/// Runs mqtt-cli to the end (with `stdin` as its input), failing the test if it hangs.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = cli();
    command.args(args);
    run_command(command, stdin)
}

/// Runs any program to the end (with `stdin` as its input), failing the test if it hangs.
pub fn run_command(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {:?}: {err}", command.get_program()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&data);
    });
    let output = wait_output(child, STEP);
    let _ = writer.join();
    output
}

/// Collects a child's output, killing it (and failing) if it runs past `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let out = collect(stdout.map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let err = collect(stderr.map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("mqtt-cli still running after {limit:?}; stderr:\n{stderr}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// `SUBCOMMAND -h 127.0.0.1 -p PORT REST...` as an argument list.
pub fn command(subcommand: &str, broker: &Broker, rest: &[&str]) -> Vec<String> {
    let mut all = vec![subcommand.to_string()];
    all.extend(broker.args());
    all.extend(rest.iter().map(|arg| arg.to_string()));
    all
}

/// `bench KIND` against the broker: its address goes after the kind (`bench pub -h .. -p ..`).
pub fn bench_args(broker: &Broker, args: &[&str]) -> Vec<String> {
    let mut all = vec!["bench".to_string(), args[0].to_string()];
    all.extend(broker.args());
    all.extend(args[1..].iter().map(|arg| arg.to_string()));
    all
}

/// `pub -t x -m x` to 127.0.0.1:`port`: for servers that are not a mosquitto of ours.
pub fn publish_x_to(port: u16) -> Output {
    run_on_port(port, &["pub", "-t", "x", "-m", "x"])
}

/// Runs `SUBCOMMAND -h 127.0.0.1 -p PORT REST...` (no stdin) against whatever listens on `port`.
pub fn run_on_port(port: u16, args: &[&str]) -> Output {
    let port = port.to_string();
    let mut all = vec![args[0], "-h", "127.0.0.1", "-p", &port];
    all.extend_from_slice(&args[1..]);
    run(&all, b"")
}

/// [`run`] with owned arguments, as [`command`] builds them.
pub fn run_args(args: &[String], stdin: &[u8]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, stdin)
}

/// Runs `SUBCOMMAND -h 127.0.0.1 -p PORT REST...` against the broker and returns its output.
pub fn run_on(broker: &Broker, args: &[&str]) -> Output {
    let all = command(args[0], broker, &args[1..]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(&refs, b"")
}

/// A subscriber (or any mqtt-cli) running in the background, started with `-d` so that the test
/// can wait for its SUBACK instead of sleeping.
pub struct Background {
    child: Option<Child>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
    stderr_rest: Option<thread::JoinHandle<()>>,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
}

impl Background {
    /// Starts `mqtt-cli ARGS -d` and returns once its stderr shows `ready` (e.g. "received SUBACK").
    pub fn spawn(args: &[String], ready: &str) -> Background {
        let mut with_debug = args.to_vec();
        with_debug.push("-d".to_string());
        let mut background = Background::start(&with_debug);
        background.wait_for_stderr(ready);
        background
    }

    /// Starts a subscriber: `sub ARGS` against the broker, returning once the broker has the
    /// subscription in place (from its log, so the subscriber need not trace packets).
    pub fn sub(broker: &Broker, args: &[&str]) -> Background {
        let mut all = command("sub", broker, args);
        let client_id = match args.iter().position(|arg| *arg == "-i") {
            Some(index) => args[index + 1].to_string(),
            None => {
                let id = format!("test-sub-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
                all.extend(["-i".to_string(), id.clone()]);
                id
            }
        };
        let mut background = Background::start(&all);
        let needle = format!(": {client_id} ");
        let deadline = Instant::now() + STEP;
        while !broker.log().lines().any(|line| line.contains(&needle)) {
            if !background.is_running() {
                let out = background.finish();
                panic!(
                    "the subscriber {client_id} ended before subscribing: {}",
                    stderr(&out)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{client_id} never subscribed; broker log:\n{}",
                broker.log()
            );
            thread::sleep(Duration::from_millis(5));
        }
        background
    }

    pub fn start(args: &[String]) -> Background {
        let mut child = cli()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mqtt-cli");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let rest = thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // Read stdout from the start, as a shell pipe would, so the process never stalls on a
        // full pipe while the test is busy elsewhere.
        let stdout = child.stdout.take().expect("stdout");
        let collected = thread::spawn(move || {
            let mut buffer = Vec::new();
            let _ = BufReader::new(stdout).read_to_end(&mut buffer);
            buffer
        });
        Background {
            child: Some(child),
            stderr_lines: rx,
            stderr_seen: Vec::new(),
            stderr_rest: Some(rest),
            stdout: Some(collected),
        }
    }

    /// Waits until a stderr line (seen before or arriving now) contains `needle`.
    pub fn wait_for_stderr(&mut self, needle: &str) {
        if self.stderr_seen.iter().any(|line| line.contains(needle)) {
            return;
        }
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.stderr_seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no stderr line with {needle:?}; stderr so far:\n{}",
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// The first stderr line seen so far that contains `needle` (after [`Self::wait_for_stderr`]).
    pub fn stderr_line(&self, needle: &str) -> String {
        self.stderr_seen
            .iter()
            .find(|line| line.contains(needle))
            .cloned()
            .unwrap_or_else(|| panic!("no stderr line with {needle:?}"))
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a signal (e.g. "INT", "TERM", "KILL") to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end; stderr is everything it printed.
    pub fn finish(mut self) -> Output {
        let child = self.child.take().expect("child");
        let mut output = wait_output(child, STEP);
        if let Some(stdout) = self.stdout.take() {
            output.stdout = stdout.join().unwrap_or_default();
        }
        if let Some(rest) = self.stderr_rest.take() {
            let _ = rest.join();
        }
        let mut lines = std::mem::take(&mut self.stderr_seen);
        lines.extend(self.stderr_lines.try_iter());
        output.stderr = lines.join("\n").into_bytes();
        output
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
#[track_caller]
pub fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status {:?}, expected {code}; stderr:\n{}",
        output.status,
        stderr(output)
    );
}

/// One client connection to a scripted fake broker: read the client's packets, send ours.
pub use rumqttc::v5::mqttbytes::v5::Packet as V5Packet;

pub struct FakeConnection {
    stream: TcpStream,
    buffer: bytes::BytesMut,
}

impl FakeConnection {
    /// The client's next packet; `None` when it closed the connection.
    pub fn next(&mut self) -> Option<rumqttc::Packet> {
        use std::io::Read;
        let mut chunk = [0u8; 4096];
        loop {
            match rumqttc::Packet::read(&mut self.buffer, 1 << 20) {
                Ok(packet) => return Some(packet),
                Err(rumqttc::Error::InsufficientBytes(_)) => {
                    let read = self.stream.read(&mut chunk).unwrap_or(0);
                    if read == 0 {
                        return None;
                    }
                    self.buffer.extend_from_slice(&chunk[..read]);
                }
                Err(err) => panic!("bad packet from the client: {err:?}"),
            }
        }
    }

    /// The client's next packet, skipping PINGREQs (answered).
    pub fn expect(&mut self) -> rumqttc::Packet {
        loop {
            match self.next() {
                Some(rumqttc::Packet::PingReq) => self.send(rumqttc::Packet::PingResp),
                Some(packet) => return packet,
                None => panic!("the client closed the connection"),
            }
        }
    }

    /// Reads the client's CONNECT and accepts it, without a session (MQTT 3.1.1).
    pub fn accept(&mut self) {
        let connect = self.expect();
        assert!(
            matches!(connect, rumqttc::Packet::Connect(_)),
            "expected CONNECT, got {connect:?}"
        );
        self.send(rumqttc::Packet::ConnAck(rumqttc::ConnAck::new(
            rumqttc::ConnectReturnCode::Success,
            false,
        )));
    }

    /// Reads the client's SUBSCRIBE and grants every filter the QoS it asked for (MQTT 3.1.1).
    pub fn suback_granted(&mut self) {
        let rumqttc::Packet::Subscribe(subscribe) = self.expect() else {
            panic!("expected SUBSCRIBE");
        };
        let codes = subscribe
            .filters
            .iter()
            .map(|filter| rumqttc::SubscribeReasonCode::Success(filter.qos))
            .collect();
        self.send(rumqttc::Packet::SubAck(rumqttc::SubAck::new(
            subscribe.pkid,
            codes,
        )));
    }

    /// The client's next MQTT 5 packet; `None` when it closed the connection.
    pub fn next_v5(&mut self) -> Option<V5Packet> {
        use std::io::Read;
        let mut chunk = [0u8; 4096];
        loop {
            match V5Packet::read(&mut self.buffer, Some(1 << 20)) {
                Ok(packet) => return Some(packet),
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => {
                    let read = self.stream.read(&mut chunk).unwrap_or(0);
                    if read == 0 {
                        return None;
                    }
                    self.buffer.extend_from_slice(&chunk[..read]);
                }
                Err(err) => panic!("bad MQTT 5 packet from the client: {err:?}"),
            }
        }
    }

    /// The client's next MQTT 5 packet, skipping PINGREQs (answered).
    pub fn expect_v5(&mut self) -> V5Packet {
        loop {
            match self.next_v5() {
                Some(V5Packet::PingReq(_)) => {
                    self.send_v5(V5Packet::PingResp(rumqttc::v5::mqttbytes::v5::PingResp))
                }
                Some(packet) => return packet,
                None => panic!("the client closed the connection"),
            }
        }
    }

    /// Reads the client's CONNECT and accepts it (MQTT 5); returns the CONNECT packet.
    pub fn accept_v5(&mut self) -> V5Packet {
        use rumqttc::v5::mqttbytes::v5::{ConnAck, ConnectReturnCode};
        let connect = self.expect_v5();
        assert!(
            matches!(connect, V5Packet::Connect(..)),
            "expected CONNECT, got {connect:?}"
        );
        self.send_v5(V5Packet::ConnAck(ConnAck {
            session_present: false,
            code: ConnectReturnCode::Success,
            properties: None,
        }));
        connect
    }

    /// Reads the client's SUBSCRIBE and answers with `codes` (MQTT 5); returns the SUBSCRIBE.
    pub fn suback_v5(
        &mut self,
        codes: Vec<rumqttc::v5::mqttbytes::v5::SubscribeReasonCode>,
    ) -> rumqttc::v5::mqttbytes::v5::Subscribe {
        let V5Packet::Subscribe(subscribe) = self.expect_v5() else {
            panic!("expected SUBSCRIBE");
        };
        self.send_v5(V5Packet::SubAck(rumqttc::v5::mqttbytes::v5::SubAck {
            pkid: subscribe.pkid,
            return_codes: codes,
            properties: None,
        }));
        subscribe
    }

    pub fn send_v5(&mut self, packet: V5Packet) {
        use std::io::Write;
        let mut out = bytes::BytesMut::new();
        packet.write(&mut out, None).expect("encode");
        self.stream.write_all(&out).expect("write to the client");
    }

    /// Reads (answering PINGREQs) until the client's DISCONNECT or its close, then returns: a
    /// broker closes the connection on DISCONNECT, and the client waits for that.
    pub fn until_disconnect(&mut self) {
        while let Some(packet) = self.next() {
            match packet {
                rumqttc::Packet::PingReq => self.send(rumqttc::Packet::PingResp),
                rumqttc::Packet::Disconnect => return,
                _ => {}
            }
        }
    }

    /// [`FakeConnection::until_disconnect`] for MQTT 5.
    pub fn until_disconnect_v5(&mut self) {
        while let Some(packet) = self.next_v5() {
            if matches!(packet, V5Packet::Disconnect(_)) {
                return;
            }
        }
    }

    /// Blocks until the client has sent something we have not read (without reading it), so
    /// that closing now makes the kernel reset the connection (RST) instead of closing it.
    pub fn wait_for_unread(&mut self) {
        let mut byte = [0u8; 1];
        let _ = self.stream.peek(&mut byte);
    }

    /// Bytes exactly as given, for packets the codecs would not write that way.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.stream.write_all(bytes).expect("write to the client");
    }

    pub fn send(&mut self, packet: rumqttc::Packet) {
        use std::io::Write;
        let mut out = bytes::BytesMut::new();
        packet.write(&mut out, 1 << 20).expect("encode");
        self.stream.write_all(&out).expect("write to the client");
    }
}

/// A scripted broker on a free loopback port: `script` handles the first client.
pub fn fake_broker(
    script: impl FnOnce(&mut FakeConnection) + Send + 'static,
) -> (u16, thread::JoinHandle<()>) {
    let mut script = Some(script);
    fake_broker_connections(1, move |_, connection| {
        if let Some(script) = script.take() {
            script(connection);
        }
    })
}

/// A scripted broker for `count` connections in turn: `script` gets each one's number (from 0).
/// A connection is closed when its script returns.
pub fn fake_broker_connections(
    count: usize,
    mut script: impl FnMut(usize, &mut FakeConnection) + Send + 'static,
) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = thread::spawn(move || {
        for number in 0..count {
            let (stream, _) = listener.accept().expect("accept");
            stream.set_read_timeout(Some(STEP)).expect("read timeout");
            let mut connection = FakeConnection {
                stream,
                buffer: bytes::BytesMut::new(),
            };
            script(number, &mut connection);
        }
    });
    (port, handle)
}

/// JSON objects' time of arrival (`"tst":"..."`, mosquitto_sub's `%j`) blanked out, so that two
/// outputs of one message compare.
pub fn without_tst(text: &str) -> String {
    let mut rest = text;
    let mut kept = String::new();
    while let Some(at) = rest.find("\"tst\":") {
        let end = rest[at..].find(',').expect("a key after tst");
        kept.push_str(&rest[..at]);
        kept.push_str("\"tst\":TIME");
        rest = &rest[at + end..];
    }
    kept.push_str(rest);
    kept
}
