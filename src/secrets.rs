//! Where passwords come from, besides the flags: a file's first line, an environment variable,
//! a command's first line of output. Errors never carry the password.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::usage;
use crate::input::{
    COMMAND_TIMEOUT, CommandFailure, MAX_CONFIG, check_string_length, read_regular_file,
    run_command,
};
use crate::types::Secret;

pub fn read_password_file(path: &Path) -> Result<Secret> {
    let bytes = read_regular_file(path, MAX_CONFIG, "password file")?;
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().next().unwrap_or("");
    check_string_length(&format!("the password in {}", path.display()), line.len())?;
    if line.is_empty() {
        return Err(usage(format!(
            "password file {} is empty: put the password on its first line",
            path.display()
        )));
    }
    Ok(Secret::new(line))
}

/// Where a profile's password comes from.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    Plain(Secret),
    File(PathBuf),
    /// The name of an environment variable.
    Env(String),
    /// A shell command; the first line it prints is the password.
    Command(String),
}

impl PasswordSource {
    /// Reads the password. Errors never carry it.
    /// `var` reads an environment variable.
    pub fn read(&self, var: &dyn Fn(&str) -> Option<String>, profile: &str) -> Result<Secret> {
        match self {
            PasswordSource::Plain(secret) => Ok(secret.clone()),
            PasswordSource::File(path) => read_password_file(path),
            PasswordSource::Env(name) => var(name).map(Secret::new).ok_or_else(|| {
                usage(format!(
                    "profile '{profile}': password_env names {name}, which is not set"
                ))
            }),
            PasswordSource::Command(command) => run_password_command(command, profile),
        }
    }

    /// What `-d` and `profile show` say: never the password.
    pub fn describe(&self) -> String {
        match self {
            PasswordSource::Plain(_) => "(set, hidden)".to_string(),
            PasswordSource::File(path) => format!("from the file {}", path.display()),
            PasswordSource::Env(name) => format!("from ${name}"),
            PasswordSource::Command(command) => format!("from the command `{command}`"),
        }
    }
}

fn run_password_command(command: &str, profile: &str) -> Result<Secret> {
    let said = |what: String| {
        usage(format!(
            "profile '{profile}': password_command `{command}` {what}"
        ))
    };
    let output = run_command(command, MAX_CONFIG, COMMAND_TIMEOUT).map_err(|failure| {
        let seconds = COMMAND_TIMEOUT.as_secs();
        said(match failure {
            CommandFailure::Start(err) => format!("could not be run: {err}"),
            CommandFailure::TimedOut { printed: false } => {
                format!("printed nothing within {seconds} s (it was stopped)")
            }
            CommandFailure::TimedOut { printed: true } => format!(
                "printed but did not end within {seconds} s (it was stopped): it must print the password and exit"
            ),
            CommandFailure::TooLong => format!("printed more than {MAX_CONFIG} bytes (it was stopped)"),
            CommandFailure::Failed(status) => format!("failed ({status})"),
        })
    })?;
    let text = String::from_utf8_lossy(&output);
    match text.lines().next() {
        Some(line) if !line.is_empty() => {
            check_string_length(
                &format!("profile '{profile}': the password_command's password"),
                line.len(),
            )?;
            Ok(Secret::new(line))
        }
        _ => Err(said("printed no password".to_string())),
    }
}
