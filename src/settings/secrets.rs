//! Where passwords come from, besides the flags: a file's first line, an environment variable,
//! a command's first line of output. Errors never carry the password.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::usage;
use crate::vocabulary::Secret;

pub fn read_password_file(path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        usage(format!(
            "cannot read password file {}: {err}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("");
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
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|err| {
            usage(format!(
                "profile '{profile}': cannot run password_command: {err}"
            ))
        })?;
    if !output.status.success() {
        return Err(usage(format!(
            "profile '{profile}': password_command `{command}` failed ({})",
            output.status
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().next() {
        Some(line) if !line.is_empty() => Ok(Secret::new(line)),
        _ => Err(usage(format!(
            "profile '{profile}': password_command `{command}` printed no password"
        ))),
    }
}
