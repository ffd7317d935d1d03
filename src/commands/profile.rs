//! `mqtt-cli profile`: list, show, add, remove profiles in the config file, and say where it
//! is. `add` edits the file with toml_edit, so comments and the other profiles stay as written.

use std::path::Path;

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::cli::command_line::connection_flags;
use crate::cli::config::{
    ConfigFile, PROFILE_NAME_RULE, config_path, known_keys, read_config_text, valid_profile_name,
};
use crate::cli::env::ProcessEnv;
use crate::cli::{ProfileAction, ProfileArgs};
use crate::error::usage;

/// Runs `profile ACTION`; `given` holds the connection flags `add` was given, with their values.
pub fn run(args: &ProfileArgs, given: &[(String, Vec<String>)]) -> Result<()> {
    let path = config_path(&ProcessEnv)
        .ok_or_else(|| usage("no config directory: set MQTT_CLI_CONFIG to the file's path"))?;
    let flags: Vec<String> = connection_flags()
        .into_iter()
        .map(|(long, _, _)| long)
        .collect();
    match &args.action {
        ProfileAction::Path => println!("{}", path.display()),
        ProfileAction::List { names } => match ConfigFile::load(&ProcessEnv, &flags)? {
            None if *names => {}
            None => eprintln!("mqtt-cli: no config file at {}", path.display()),
            Some(config) => {
                for name in config.profiles.keys() {
                    if *names {
                        // For completion: only names that can be used.
                        if !config.broken.contains_key(name) && valid_profile_name(name) {
                            println!("{name}");
                        }
                        continue;
                    }
                    let mark = if config.default_profile.as_deref() == Some(name) {
                        " *"
                    } else {
                        ""
                    };
                    match config.broken.get(name) {
                        Some(problem) => println!("{name:?}{mark} (broken: {problem})"),
                        None => println!("{name}{mark}"),
                    }
                }
                if let Some(problem) = &config.default_problem
                    && !*names
                {
                    eprintln!("mqtt-cli: {problem}");
                }
            }
        },
        ProfileAction::Show { name } => {
            let config = ConfigFile::load(&ProcessEnv, &flags)?.ok_or_else(|| {
                usage(format!(
                    "no profile '{name}': there is no config file ({})",
                    path.display()
                ))
            })?;
            // A broken profile is shown too, with what is wrong.
            let profile = match config.profiles.get(name) {
                Some(profile) => profile,
                None => config.profile(name)?,
            };
            println!("# profile {name} in {}", path.display());
            if let Some(problem) = config.broken.get(name) {
                println!("# broken: {problem}");
            }
            for item in &profile.items {
                let value = match (&item.key[..], &item.value) {
                    ("password", _) => "\"(hidden)\"".to_string(),
                    ("url" | "proxy", toml::Value::String(url)) => {
                        toml::Value::String(crate::settings::redact_url(url)).to_string()
                    }
                    _ => item.value.to_string(),
                };
                println!("{} = {value}", item.key);
            }
        }
        ProfileAction::Add(add) => add_profile(&path, add, given, &flags)?,
        ProfileAction::Remove { name } => remove_profile(&path, name, &flags)?,
    }
    Ok(())
}

fn read_document(path: &Path) -> Result<Option<(String, DocumentMut)>> {
    let Some(text) = read_config_text(path)? else {
        return Ok(None);
    };
    let document = text
        .parse::<DocumentMut>()
        .map_err(|err| usage(format!("{}: {}", path.display(), err.message().trim())))?;
    Ok(Some((text, document)))
}

/// Writes the file; a new one is made private (0600), as it may hold a password.
fn write_document(path: &Path, document: &DocumentMut, new: bool) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).truncate(true).create(true);
    #[cfg(unix)]
    if new {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = new;
    use std::io::Write;
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(document.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn add_profile(
    path: &Path,
    add: &crate::cli::ProfileAddArgs,
    given: &[(String, Vec<String>)],
    flags: &[String],
) -> Result<()> {
    refuse_what_cannot_be_stored(&add.name, given)?;
    let (text, mut document, new) = match read_document(path)? {
        Some((text, document)) => (text, document, false),
        None => (String::new(), DocumentMut::new(), true),
    };
    if !new {
        // The file must be good before we add to it.
        ConfigFile::parse(path, &text, flags)?;
    }
    let table = profile_table(add, given, &known_keys(flags));
    if table.is_empty() {
        return Err(usage(
            "profile add needs connection flags to store, e.g. -h broker.example.com -p 8883 -u me --password-file ~/.mqtt-pass",
        ));
    }
    let profiles = document
        .entry("profiles")
        .or_insert_with(|| {
            let mut profiles = Table::new();
            profiles.set_implicit(true);
            Item::Table(profiles)
        })
        .as_table_mut()
        .ok_or_else(|| usage(format!("{}: 'profiles' is not a table", path.display())))?;
    profiles.insert(&add.name, Item::Table(table));
    if add.default {
        document.insert("default_profile", toml_edit::value(add.name.as_str()));
    }
    // The result must read back (e.g. a flag value the profile cannot hold).
    ConfigFile::parse(path, &document.to_string(), flags)?
        .profile(&add.name)?
        .layer(path)?;
    write_document(path, &document, new)?;
    eprintln!(
        "mqtt-cli: profile '{}' saved in {}",
        add.name,
        path.display()
    );
    Ok(())
}

/// Passwords are stored as where to find them (a file, a variable, a command), never
/// themselves; and a profile has a name `list` can show.
fn refuse_what_cannot_be_stored(name: &str, given: &[(String, Vec<String>)]) -> Result<()> {
    let url_password = given.iter().any(|(long, values)| {
        (long == "url" || long == "proxy")
            && values
                .iter()
                .any(|url| crate::settings::redact_url(url) != *url)
    });
    if url_password {
        return Err(usage(
            "profile add does not store the password of a URL (user:password@): give the URL without it and use --password-file, --password-env or --password-command (for a proxy: MQTT_PROXY_PASSWORD)",
        ));
    }
    if given.iter().any(|(long, _)| long == "password") {
        return Err(usage(
            "profile add does not store a password given with -P: use --password-file, --password-env or --password-command",
        ));
    }
    if !valid_profile_name(name) {
        return Err(usage(format!(
            "profile add {:?}: {PROFILE_NAME_RULE}",
            name
        )));
    }
    Ok(())
}

/// The profile's table: each known flag given, typed, and the password's source.
fn profile_table(
    add: &crate::cli::ProfileAddArgs,
    given: &[(String, Vec<String>)],
    known: &[String],
) -> Table {
    let mut table = Table::new();
    for (long, values) in given {
        if !known.contains(long) {
            continue;
        }
        let value: Value = match values.as_slice() {
            [] => true.into(),
            [one] if !is_list(long) => typed(long, one),
            many => many
                .iter()
                .map(String::as_str)
                .collect::<toml_edit::Array>()
                .into(),
        };
        table.insert(long, Item::Value(value));
    }
    if let Some(var) = &add.password_env {
        table.insert("password-env", toml_edit::value(var.as_str()));
    }
    if let Some(command) = &add.password_command {
        table.insert("password-command", toml_edit::value(command.as_str()));
    }
    table
}

/// Flags that may be given more than once are stored as arrays.
fn is_list(long: &str) -> bool {
    matches!(
        long,
        "cafile" | "alpn" | "connect-user-property" | "will-user-property"
    )
}

/// Numbers as TOML integers where the flag takes one, the rest as text.
fn typed(long: &str, text: &str) -> Value {
    let numeric = matches!(
        long,
        "port" | "keepalive" | "will-qos" | "receive-maximum" | "maximum-packet-size"
    );
    match text.parse::<i64>() {
        Ok(number) if numeric => number.into(),
        _ => text.into(),
    }
}

fn remove_profile(path: &Path, name: &str, flags: &[String]) -> Result<()> {
    let Some((text, mut document)) = read_document(path)? else {
        return Err(usage(format!(
            "no profile '{name}': there is no config file ({})",
            path.display()
        )));
    };
    let config = ConfigFile::parse(path, &text, flags)?;
    // A broken profile may be removed too.
    if !config.profiles.contains_key(name) {
        config.profile(name)?;
    }
    if let Some(profiles) = document.get_mut("profiles").and_then(Item::as_table_mut) {
        profiles.remove(name);
    }
    if config.default_profile.as_deref() == Some(name) {
        document.remove("default_profile");
    }
    write_document(path, &document, false)?;
    eprintln!("mqtt-cli: profile '{name}' removed from {}", path.display());
    Ok(())
}
