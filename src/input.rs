//! Reading what the user points us at, within limits: only regular files (a FIFO with no
//! writer would hang, `/dev/zero` never ends), never more than the caller's cap (read up to
//! the cap and one byte more, never the whole thing first), and a password command within a
//! time limit. Errors name the file or command, never what it held.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::error::usage;

/// The longest string MQTT carries (user name, password, will payload, client id): its
/// length prefix is two bytes.
pub const MAX_STRING: usize = 65535;

/// The largest configuration file read (a profile file is a few kilobytes).
pub const MAX_CONFIG: usize = 1 << 20;

/// How long a `password_command` may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// `path`'s bytes, when it is a regular file of at most `limit` bytes; `what` names it in the
/// error ("password file", "message file").
pub fn read_regular_file(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>> {
    let cannot =
        |err: std::io::Error| usage(format!("cannot read {what} {}: {err}", path.display()));
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(usage(format!(
            "{what} {} is not a regular file (a FIFO, device or directory is not read)",
            path.display()
        )));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    read_at_most(file, limit).map_err(|err| match err {
        Limited::Io(err) => cannot(err),
        Limited::TooLong => usage(format!(
            "{what} {} is larger than {limit} bytes",
            path.display()
        )),
    })
}

/// Why [`read_at_most`] stopped.
#[derive(Debug)]
pub enum Limited {
    Io(std::io::Error),
    TooLong,
}

/// Everything `reader` gives, if that is at most `limit` bytes: reading stops one byte past it.
pub fn read_at_most(reader: impl Read, limit: usize) -> Result<Vec<u8>, Limited> {
    let mut data = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut data)
        .map_err(Limited::Io)?;
    if data.len() > limit {
        return Err(Limited::TooLong);
    }
    Ok(data)
}

/// What a password command did, when it did not give a password.
#[derive(Debug, PartialEq, Eq)]
pub enum CommandFailure {
    /// It could not be started.
    Start(String),
    /// It printed nothing, or did not end, within [`COMMAND_TIMEOUT`].
    TimedOut { printed: bool },
    /// It printed more than the limit.
    TooLong,
    /// It ended with a failure status.
    Failed(String),
}

/// Runs `sh -c command` with no input, reads at most `limit` bytes of its output, and waits
/// for it to end, all within `timeout`; past it the command (its process group) is killed. Its standard error goes to ours.
pub fn run_command(
    command: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, CommandFailure> {
    use std::process::{Command, Stdio};
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // A group of its own, to be stopped whole.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut shell, 0);
    let mut child = shell
        .spawn()
        .map_err(|err| CommandFailure::Start(err.to_string()))?;
    let stdout = child.stdout.take().expect("piped");
    let printed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rx = read_in_background(stdout, limit, printed.clone());
    let started = std::time::Instant::now();
    let data = match rx.recv_timeout(timeout) {
        Ok(data) => data,
        Err(_) => {
            kill_group(&mut child);
            return Err(CommandFailure::TimedOut {
                printed: printed.load(std::sync::atomic::Ordering::Relaxed),
            });
        }
    };
    if data.len() > limit {
        kill_group(&mut child);
        return Err(CommandFailure::TooLong);
    }
    // Its output is closed: it ends now, or is made to.
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(data),
            Ok(Some(status)) => return Err(CommandFailure::Failed(status.to_string())),
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                kill_group(&mut child);
                return Err(CommandFailure::TimedOut { printed: true });
            }
        }
    }
}

/// Reads at most `limit` + 1 bytes of `stdout` on a thread of its own, in chunks (`printed`
/// says whether anything came before the end); the bytes come on the channel at its end.
fn read_in_background(
    stdout: std::process::ChildStdout,
    limit: usize,
    printed: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut data = Vec::new();
        let mut reader = std::io::BufReader::new(stdout.take(limit as u64 + 1));
        let mut chunk = [0u8; 4096];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    printed.store(true, std::sync::atomic::Ordering::Relaxed);
                    data.extend_from_slice(&chunk[..read]);
                }
            }
        }
        let _ = tx.send(data);
    });
    rx
}

/// Stops `child`'s whole process group: the shell and what it started (a `sleep` left
/// running would hold our standard error open).
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .filter(|pid| *pid > 1)
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Refuses a string over MQTT's 65535 bytes before anything is sent (its length prefix would
/// wrap and the packet go out malformed).
pub fn check_string_length(what: &str, length: usize) -> Result<()> {
    if length > MAX_STRING {
        return Err(usage(format!(
            "{what} is {length} bytes: MQTT carries at most {MAX_STRING}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_one_byte_past_the_limit() {
        assert_eq!(read_at_most(&b"abc"[..], 3).expect("fits"), b"abc");
        assert!(matches!(
            read_at_most(&b"abcd"[..], 3),
            Err(Limited::TooLong)
        ));
        // An endless source is not read to its end.
        assert!(matches!(
            read_at_most(std::io::repeat(0), 1000),
            Err(Limited::TooLong)
        ));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_regular_file(dir.path(), 100, "config file").expect_err("a directory");
        assert!(format!("{err}").contains("not a regular file"), "{err}");
        let err =
            read_regular_file(Path::new("/dev/zero"), 100, "config file").expect_err("a device");
        assert!(format!("{err}").contains("not a regular file"), "{err}");
        let file = dir.path().join("big");
        std::fs::write(&file, [b'x'; 101]).expect("write");
        let err = read_regular_file(&file, 100, "message file").expect_err("too big");
        assert!(format!("{err}").contains("larger than 100 bytes"), "{err}");
        std::fs::write(&file, [b'x'; 100]).expect("write");
        assert_eq!(
            read_regular_file(&file, 100, "message file")
                .expect("fits")
                .len(),
            100
        );
    }

    #[test]
    fn a_command_is_read_within_its_limits() {
        let quick = Duration::from_secs(5);
        assert_eq!(
            run_command("echo secret", 100, quick).expect("ran"),
            b"secret\n"
        );
        assert_eq!(
            run_command("exit 3", 100, quick),
            Err(CommandFailure::Failed("exit status: 3".into()))
        );
        assert_eq!(
            run_command("head -c 1000 /dev/zero", 100, quick),
            Err(CommandFailure::TooLong)
        );
        let short = Duration::from_millis(300);
        assert_eq!(
            run_command("sleep 30", 100, short),
            Err(CommandFailure::TimedOut { printed: false })
        );
        assert_eq!(
            run_command("echo secret; sleep 30", 100, short),
            Err(CommandFailure::TimedOut { printed: true })
        );
        // Exactly the limit is within it.
        assert_eq!(
            run_command("head -c 100 /dev/zero", 100, quick)
                .expect("ran")
                .len(),
            100
        );
        // Its output closed, it still has to end in time.
        let started = std::time::Instant::now();
        assert_eq!(
            run_command("exec >&-; sleep 30", 100, short),
            Err(CommandFailure::TimedOut { printed: true })
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn strings_up_to_65535_bytes() {
        assert!(check_string_length("the password", 65_535).is_ok());
        let err = check_string_length("the password", 65_536).expect_err("too long");
        assert_eq!(
            format!("{err}"),
            "the password is 65536 bytes: MQTT carries at most 65535"
        );
        assert_eq!(MAX_CONFIG, 1_048_576);
    }

    /// What the command started is stopped with it: a `sleep` left behind would hold our
    /// standard error open.
    #[test]
    fn a_command_is_stopped_with_what_it_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pid");
        let command = format!("sleep 30 & echo $! > {}; wait", file.display());
        assert_eq!(
            run_command(&command, 100, Duration::from_millis(300)),
            Err(CommandFailure::TimedOut { printed: false })
        );
        let pid = std::fs::read_to_string(&file).expect("the pid");
        // Gone, or a zombie waiting to be reaped: not running. SIGKILL takes effect a moment
        // after it is sent: waited for, up to 5 s.
        let is_running = |stat: &str| {
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut state =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        while is_running(&state) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            state =
                std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        }
        let running = is_running(&state);
        assert!(!running, "the command's sleep is still running: {state}");
    }
}
