//! Failure kinds and the exit codes they map to.
//!
//! Errors travel as `anyhow::Error` so every layer can add context naming the file, host or topic;
//! a [`Failure`] somewhere in the chain says which documented exit code the process ends with.

use std::fmt;

/// The documented exit codes (README, `--help`). Anything without a kind exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad usage or bad input, found before connecting.
    Usage,
    /// Could not connect: DNS, refused, unreachable, connect timeout.
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The broker refused the connection (CONNACK return code).
    Refused,
    /// The broker rejected an operation (SUBACK failure, negative PUBACK, server DISCONNECT).
    Rejected,
    /// The expected messages or acknowledgements did not arrive in time.
    Timeout,
    /// `check` failed, or the connection was lost and not recovered.
    Lost,
    /// Ctrl+C a second time: leave without waiting (128 + SIGINT, as shells report it).
    Interrupted,
}

impl ErrorKind {
    /// The process exit code for this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::Connect => 3,
            ErrorKind::Tls => 4,
            ErrorKind::Refused => 5,
            ErrorKind::Rejected => 6,
            ErrorKind::Timeout => 7,
            ErrorKind::Lost => 8,
            ErrorKind::Interrupted => 130,
        }
    }
}

impl ErrorKind {
    /// The kind whose exit code is `code`, if any.
    pub fn from_exit_code(code: u8) -> Option<ErrorKind> {
        [
            ErrorKind::Usage,
            ErrorKind::Connect,
            ErrorKind::Tls,
            ErrorKind::Refused,
            ErrorKind::Rejected,
            ErrorKind::Timeout,
            ErrorKind::Lost,
            ErrorKind::Interrupted,
        ]
        .into_iter()
        .find(|kind| kind.exit_code() == code)
    }
}

/// An error with a known exit code. Wrap it in `anyhow` and add context freely.
#[derive(Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error that exits with `kind`'s code.
pub fn failure(kind: ErrorKind, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        kind,
        message: message.into(),
    })
}

/// Shorthand for a bad-input error (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    failure(ErrorKind::Usage, message)
}

/// The exit code an error maps to: the first [`Failure`] in its chain, else 1.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map_or(1, |failure| failure.kind.exit_code())
}

/// True when the error is a broken pipe on stdout (the reader went away: `sub | head -1`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn kind_survives_context() {
        let err = Err::<(), _>(failure(ErrorKind::Refused, "bad user name or password"))
            .context("connecting to localhost:1883")
            .expect_err("an error");
        assert_eq!(exit_code_of(&err), 5);
        assert_eq!(
            format!("{err:#}"),
            "connecting to localhost:1883: bad user name or password"
        );
    }

    #[test]
    fn plain_errors_exit_1() {
        assert_eq!(exit_code_of(&anyhow::anyhow!("boom")), 1);
    }
}
