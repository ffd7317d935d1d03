//! Broker profiles: the config file (`$MQTT_CLI_CONFIG`, else `mqtt-cli/config.toml` in the
//! platform's config directory), read and checked whole, with file:line:column in every error.
//!
//! ```toml
//! default_profile = "hivemq"
//!
//! [profiles.hivemq]
//! url = "mqtts://abc.s1.eu.hivemq.cloud:8883"
//! username = "me"
//! password_command = "pass show mqtt/hivemq"
//! ```
//!
//! A profile holds connection options under their flags' long names (`-` or `_` alike). The
//! address and the credentials (`url`, `host`, `port`, `username`, the password sources) are a
//! layer of their own below the URL and the environment ([`ProfileLayer`]); every other option
//! becomes a flag the command line did not give ([`Profile::flags`]).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Result;
use toml::Spanned;

use super::env::Environment;
use crate::error::usage;
use crate::input::{MAX_CONFIG, read_regular_file};
use crate::secrets::PasswordSource;
use crate::types::Secret;

/// Keys of the address and credentials layer (below the URL and the environment).
pub const ADDRESS_KEYS: &[&str] = &[
    "url",
    "host",
    "port",
    "username",
    "password",
    "password-file",
    "password-env",
    "password-command",
];

/// What `settings` reads besides the flags: the environment, and the address and credentials
/// of the profile in use.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub env: &'a dyn Environment,
    pub profile: Option<&'a ProfileLayer>,
}

/// A profile's address and credentials: a layer below the URL and the environment.
#[derive(Debug, Clone, Default)]
pub struct ProfileLayer {
    pub name: String,
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
    /// Set when the command line (or `MQTT_HOST`/`MQTT_URL`) names a host other than the
    /// profile's own: its credentials are not sent there (as curl keeps them from a redirect's
    /// other host). The host named.
    pub elsewhere: Option<String>,
}

impl ProfileLayer {
    /// The profile's own host: `host`, else its URL's.
    pub fn own_host(&self) -> Option<String> {
        self.host.clone().or_else(|| {
            let url = crate::broker_url::parse_url(self.url.as_deref()?).ok()?;
            url.host
        })
    }
}

/// The credentials a profile keeps for its own host (flags they become).
pub const CREDENTIAL_KEYS: &[&str] = &["cert", "key", "keyform"];

/// Flags that are not connection settings and have no place in a profile.
const NOT_IN_PROFILES: &[&str] = &["debug", "quiet", "profile", "help", "property"];

/// Where the config file is: `$MQTT_CLI_CONFIG`, else the platform's config directory.
pub fn config_path(env: &dyn Environment) -> Option<PathBuf> {
    env.var("MQTT_CLI_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|dir| dir.join("mqtt-cli").join("config.toml")))
}

/// One `key = value` of a profile, with where it is.
#[derive(Debug, Clone)]
pub struct Item {
    /// The flag's long name (`_` turned into `-`).
    pub key: String,
    pub value: toml::Value,
    /// `FILE:LINE:COLUMN` of the key.
    pub place: String,
}

/// A named profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub items: Vec<Item>,
}

/// The config file, read and checked.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub default_profile: Option<String>,
    pub profiles: BTreeMap<String, Profile>,
    /// Profiles that cannot be used, with why (`FILE:LINE:COLUMN: ...`): `profile list` and
    /// `show` mark them, commands that use another profile still run.
    pub broken: BTreeMap<String, String>,
    /// Why `default_profile` cannot be used (it names no profile), with its place.
    pub default_problem: Option<String>,
}

/// Whether `name` may name a profile: letters, digits, `_`, `.` and `-`.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The rule for profile names, for error messages.
pub const PROFILE_NAME_RULE: &str = "a profile's name is letters, digits, '_', '.' and '-'";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    profiles: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    #[serde(default, alias = "default-profile")]
    default_profile: Option<Spanned<toml::Value>>,
}

/// Line and column (from 1) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn place(path: &Path, text: &str, span: Range<usize>) -> String {
    let (line, column) = line_column(text, span.start);
    format!("{}:{line}:{column}", path.display())
}

/// The known key nearest to `key`, when it is near enough to be a typo.
fn nearest<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|candidate| (strsim::jaro_winkler(key, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// The keys a profile may hold: the connection flags' long names, and the password sources.
pub fn known_keys(flags: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = flags
        .iter()
        .filter(|flag| !NOT_IN_PROFILES.contains(&flag.as_str()))
        .cloned()
        .collect();
    for extra in ["password-env", "password-command"] {
        if !keys.iter().any(|key| key == extra) {
            keys.push(extra.to_string());
        }
    }
    keys
}

/// The config file's text, `None` when there is none: a regular file of at most
/// [`MAX_CONFIG`] bytes, in UTF-8 (a FIFO would hang the reading, `/dev/zero` never end).
pub fn read_config_text(path: &Path) -> Result<Option<String>> {
    if std::fs::metadata(path).is_err_and(|err| err.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let bytes = read_regular_file(path, MAX_CONFIG, "the config file")?;
    String::from_utf8(bytes).map(Some).map_err(|_| {
        usage(format!(
            "the config file {} is not UTF-8 text",
            path.display()
        ))
    })
}

impl ConfigFile {
    /// Reads the config file; `Ok(None)` when there is none. `flags` are the connection
    /// flags' long names (the keys a profile may hold).
    pub fn load(env: &dyn Environment, flags: &[String]) -> Result<Option<ConfigFile>> {
        let Some(path) = config_path(env) else {
            return Ok(None);
        };
        let text = match read_config_text(&path)? {
            Some(text) => text,
            None => return Ok(None),
        };
        Self::parse(&path, &text, flags).map(Some)
    }

    /// Checks and reads the text of a config file.
    pub fn parse(path: &Path, text: &str, flags: &[String]) -> Result<ConfigFile> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            let at = err.span().map_or_else(
                || path.display().to_string(),
                |span| place(path, text, span),
            );
            usage(format!("{at}: {}", err.message().trim()))
        })?;
        let mut config = ConfigFile {
            path: path.to_path_buf(),
            ..ConfigFile::default()
        };
        let default_at = raw
            .default_profile
            .as_ref()
            .map(|value| place(path, text, value.span()));
        if let Some(value) = raw.default_profile {
            match value.get_ref() {
                toml::Value::String(name) => config.default_profile = Some(name.clone()),
                _ => {
                    return Err(usage(format!(
                        "{}: default_profile must be a string (a profile's name)",
                        place(path, text, value.span())
                    )));
                }
            }
        }
        let known = known_keys(flags);
        for (name, table) in raw.profiles {
            let name_at = place(path, text, name.span());
            let name = name.into_inner();
            let mut items: Vec<Item> = Vec::new();
            let mut problem = (!valid_profile_name(&name))
                .then(|| format!("{name_at}: profile {name:?}: {PROFILE_NAME_RULE}"));
            for (key, value) in table {
                let canonical = key.get_ref().replace('_', "-");
                let at = place(path, text, key.span());
                if !known.contains(&canonical) {
                    let hint = nearest(&canonical, known.iter().map(String::as_str))
                        .map(|key| format!(" (did you mean '{key}'?)"))
                        .unwrap_or_default();
                    problem.get_or_insert(format!(
                        "{at}: profile '{name}': unknown key '{}'{hint}",
                        key.get_ref()
                    ));
                    continue;
                }
                if let Some(twice) = items.iter().find(|item| item.key == canonical) {
                    problem.get_or_insert(format!(
                        "{at}: profile '{name}': '{}' is given twice (also at {})",
                        key.get_ref(),
                        twice.place
                    ));
                    continue;
                }
                items.push(Item {
                    key: canonical,
                    value: value.into_inner(),
                    place: at,
                });
            }
            if let Some(problem) = problem {
                config.broken.insert(name.clone(), problem);
            }
            config
                .profiles
                .insert(name.clone(), Profile { name, items });
        }
        if let Some(name) = &config.default_profile
            && !config.profiles.contains_key(name)
        {
            config.default_problem = Some(format!(
                "{}: default_profile '{name}' names no profile ({})",
                default_at.unwrap_or_default(),
                config.known()
            ));
        }
        Ok(config)
    }

    /// The profiles there are, in words.
    fn known(&self) -> String {
        let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
        if known.is_empty() {
            "the file has none".to_string()
        } else {
            format!("known: {}", known.join(", "))
        }
    }

    /// The profile called `name`, or why it cannot be used: it is broken (with its place), or
    /// there is none of that name (the known ones listed).
    pub fn profile(&self, name: &str) -> Result<&Profile> {
        if let Some(problem) = self.broken.get(name) {
            return Err(usage(problem.clone()));
        }
        if self.default_profile.as_deref() == Some(name)
            && let Some(problem) = &self.default_problem
        {
            return Err(usage(problem.clone()));
        }
        self.profiles.get(name).ok_or_else(|| {
            usage(format!(
                "no profile '{name}' in {} ({})",
                self.path.display(),
                self.known()
            ))
        })
    }
}

/// A value as flag arguments: text as is, numbers in decimal, `true` as the bare flag, arrays
/// and tables (`KEY=VALUE` pairs) as the flag repeated.
fn flag_values(item: &Item, flag_takes_value: bool) -> Result<Vec<Option<String>>> {
    let wrong = |what: &str| usage(format!("{}: '{}' must be {what}", item.place, item.key));
    let scalar = |value: &toml::Value| -> Result<String> {
        match value {
            toml::Value::String(text) => Ok(text.clone()),
            toml::Value::Integer(number) => Ok(number.to_string()),
            _ => Err(wrong("text or a number")),
        }
    };
    if !flag_takes_value {
        return match item.value {
            toml::Value::Boolean(true) => Ok(vec![None]),
            toml::Value::Boolean(false) => Ok(vec![]),
            _ => Err(wrong("true or false")),
        };
    }
    match &item.value {
        toml::Value::Array(values) => values.iter().map(|v| scalar(v).map(Some)).collect(),
        toml::Value::Table(table) => table
            .iter()
            .map(|(key, value)| scalar(value).map(|value| Some(format!("{key}={value}"))))
            .collect(),
        value => Ok(vec![Some(scalar(value)?)]),
    }
}

/// How a profile's flags are checked: `check(args)` parses `args` as connection flags and
/// says what is wrong with them.
pub type FlagCheck<'a> = &'a dyn Fn(&[String]) -> std::result::Result<(), String>;

impl Profile {
    /// The profile's options that are flags (all but the address and credentials), as
    /// arguments, each checked by `check`; `takes_value(flag)` says whether a flag has a value.
    /// Options whose flag (or a flag of the same group) the command line gave are left out.
    pub fn flags(
        &self,
        given: &dyn Fn(&str) -> bool,
        takes_value: &dyn Fn(&str) -> bool,
        check: FlagCheck<'_>,
    ) -> Result<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        for item in &self.items {
            if ADDRESS_KEYS.contains(&item.key.as_str()) {
                continue;
            }
            let mut args = Vec::new();
            for value in flag_values(item, takes_value(&item.key))? {
                // `--key=value`: a value that starts with '-' (keepalive = -5) is then read as
                // the key's value, and refused as one, not taken for another flag.
                args.push(match value {
                    Some(value) => format!("--{}={value}", item.key),
                    None => format!("--{}", item.key),
                });
            }
            check(&args)
                .map_err(|err| usage(format!("{}: profile '{}': {err}", item.place, self.name)))?;
            if !args.is_empty() && !group_given(&item.key, given) {
                out.push((item.key.clone(), args));
            }
        }
        Ok(out)
    }

    fn text(&self, key: &str) -> Option<(String, &Item)> {
        let item = self.items.iter().find(|item| item.key == key)?;
        match &item.value {
            toml::Value::String(text) => Some((text.clone(), item)),
            toml::Value::Integer(number) => Some((number.to_string(), item)),
            _ => None,
        }
    }

    /// The address and credentials layer, checked.
    pub fn layer(&self, config: &Path) -> Result<ProfileLayer> {
        for item in &self.items {
            if ADDRESS_KEYS.contains(&item.key.as_str())
                && !matches!(item.value, toml::Value::String(_) | toml::Value::Integer(_))
            {
                return Err(usage(format!(
                    "{}: profile '{}': '{}' must be text",
                    item.place, self.name, item.key
                )));
            }
        }
        // A password in the profile's URL (or its proxy's) is a plain password too.
        for key in ["url", "proxy"] {
            if let Some((url, item)) = self.text(key)
                && crate::broker_url::redact_url(&url) != url
            {
                refuse_if_readable_by_others(config, item, &self.name)?;
            }
        }
        let sources: Vec<&Item> = [
            "password",
            "password-file",
            "password-env",
            "password-command",
        ]
        .iter()
        .filter_map(|key| self.items.iter().find(|item| item.key == *key))
        .collect();
        if sources.len() > 1 {
            return Err(usage(format!(
                "{}: profile '{}': give one password source, not {}",
                sources[1].place,
                self.name,
                sources
                    .iter()
                    .map(|item| item.key.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )));
        }
        let password = match sources.first() {
            None => None,
            Some(item) => {
                let text = self
                    .text(&item.key)
                    .map(|(text, _)| text)
                    .unwrap_or_default();
                Some(match item.key.as_str() {
                    "password" => {
                        refuse_if_readable_by_others(config, item, &self.name)?;
                        PasswordSource::Plain(Secret::new(text))
                    }
                    "password-file" => PasswordSource::File(PathBuf::from(text)),
                    "password-env" => PasswordSource::Env(text),
                    _ => PasswordSource::Command(text),
                })
            }
        };
        let port = match self.text("port") {
            Some((text, item)) => Some(match text.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(usage(format!(
                        "{}: profile '{}': port '{text}' is not 1-65535",
                        item.place, self.name
                    )));
                }
            }),
            None => None,
        };
        Ok(ProfileLayer {
            name: self.name.clone(),
            url: self.text("url").map(|(text, _)| text),
            host: self.text("host").map(|(text, _)| text),
            port,
            username: self.text("username").map(|(text, _)| text),
            password,
            elsewhere: None,
        })
    }
}

/// Options of one group replace each other: a `--no-tls` given overrides the profile's `tls`.
fn group_given(key: &str, given: &dyn Fn(&str) -> bool) -> bool {
    const GROUPS: &[&[&str]] = &[
        &["tls", "no-tls", "insecure"],
        &["cafile", "capath", "native-roots"],
        &["cert", "key"],
        &["no-clean", "session-expiry"],
    ];
    let group = GROUPS
        .iter()
        .find(|group| group.contains(&key))
        .copied()
        .unwrap_or(&[]);
    given(key) || group.iter().any(|member| given(member))
}

/// A plain password in a file others can read is refused, as ssh refuses such a key.
fn refuse_if_readable_by_others(config: &Path, item: &Item, profile: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(config) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(usage(format!(
                    "{}: profile '{profile}': a plain password in a file others can read (mode {:o}): run `chmod 600 {}`, or use password_file, password_env or password_command",
                    item.place,
                    mode & 0o777,
                    config.display()
                )));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (config, item, profile);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_lines_and_columns_from_one() {
        assert_eq!(line_column("a = 1\nbb = 2\n", 6), (2, 1));
        assert_eq!(line_column("a = 1\nbb = 2\n", 11), (2, 6));
    }

    #[test]
    fn a_typo_gets_the_nearest_key() {
        let known = ["host", "port", "cafile", "username"];
        assert_eq!(nearest("hots", known.into_iter()), Some("host"));
        assert_eq!(nearest("user-name", known.into_iter()), Some("username"));
        assert_eq!(nearest("zzz", known.into_iter()), None);
    }

    #[test]
    fn profile_names_and_the_config_files_place() {
        for good in ["a", "prod-1.eu_x", "HiveMQ"] {
            assert!(valid_profile_name(good), "{good}");
        }
        for bad in ["", "a b", "new\nline", "a/b", "é"] {
            assert!(!valid_profile_name(bad), "{bad:?}");
        }
        struct Vars(Option<&'static str>);
        impl Environment for Vars {
            fn var(&self, name: &str) -> Option<String> {
                (name == "MQTT_CLI_CONFIG")
                    .then_some(self.0)
                    .flatten()
                    .map(str::to_string)
            }
        }
        assert_eq!(
            config_path(&Vars(Some("/etc/x.toml"))),
            Some(PathBuf::from("/etc/x.toml"))
        );
        if let Some(default) = config_path(&Vars(None)) {
            assert!(default.ends_with("mqtt-cli/config.toml"), "{default:?}");
        }
    }

    const FLAGS: &[&str] = &[
        "host",
        "port",
        "url",
        "username",
        "password",
        "password-file",
        "keepalive",
        "connect-timeout",
        "tls",
        "no-tls",
        "insecure",
        "cafile",
        "capath",
        "user-property",
        "debug",
        "quiet",
    ];

    fn flags() -> Vec<String> {
        FLAGS.iter().map(|flag| flag.to_string()).collect()
    }

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("c.toml"), text, &flags()).expect("parses")
    }

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", result.expect_err("an error"))
    }

    #[test]
    fn a_config_file_is_read_with_each_keys_place() {
        let config = parse(
            "default_profile = \"cloud\"\n[profiles.cloud]\nhost = \"h\"\nconnect_timeout = 5\n[profiles.local]\ntls = false\n",
        );
        assert_eq!(config.path, Path::new("c.toml"));
        assert_eq!(config.default_profile.as_deref(), Some("cloud"));
        assert!(config.broken.is_empty() && config.default_problem.is_none());
        let cloud = config.profile("cloud").expect("cloud");
        let keys: Vec<(&str, &str)> = cloud
            .items
            .iter()
            .map(|item| (item.key.as_str(), item.place.as_str()))
            .collect();
        // In the order of the keys, `_` read as `-`.
        assert_eq!(
            keys,
            [("connect-timeout", "c.toml:4:1"), ("host", "c.toml:3:1")]
        );
        assert_eq!(cloud.items[0].value, toml::Value::Integer(5));
        assert_eq!(config.profile("local").expect("local").items.len(), 1);
        assert_eq!(
            message(config.profile("none")),
            "no profile 'none' in c.toml (known: cloud, local)"
        );
        assert_eq!(parse("").known(), "the file has none");
        let wrong = ConfigFile::parse(Path::new("c.toml"), "default_profile = 1\n", &flags());
        assert!(message(wrong).contains("c.toml:1:19: default_profile must be a string"));
        let bad_toml = ConfigFile::parse(Path::new("c.toml"), "[profiles.a]\nhost = \n", &flags());
        assert!(message(bad_toml).starts_with("c.toml:2:"));
    }

    #[test]
    fn broken_profiles_are_marked_and_the_others_stay_usable() {
        let config = parse(concat!(
            "default_profile = \"gone\"\n",
            "[profiles.typo]\nhots = \"h\"\n",
            "[profiles.twice]\nconnect-timeout = 1\nconnect_timeout = 2\n",
            "[profiles.\"a b\"]\nhost = \"h\"\n",
            "[profiles.good]\nhost = \"h\"\n",
        ));
        assert!(config.profile("good").is_ok());
        let typo = message(config.profile("typo"));
        assert!(
            typo.contains("c.toml:3:1: profile 'typo': unknown key 'hots' (did you mean 'host'?)"),
            "{typo}"
        );
        let twice = message(config.profile("twice"));
        assert!(
            twice.contains(
                "c.toml:6:1: profile 'twice': 'connect_timeout' is given twice (also at c.toml:5:1)"
            ),
            "{twice}"
        );
        assert!(message(config.profile("a b")).contains(PROFILE_NAME_RULE));
        assert_eq!(config.broken.len(), 3);
        let gone = config
            .default_problem
            .clone()
            .expect("default_profile names none");
        assert!(
            gone.starts_with("c.toml:1:19: default_profile 'gone' names no profile (known: "),
            "{gone}"
        );
        assert_eq!(message(config.profile("gone")), gone);
    }

    #[test]
    fn a_profile_may_hold_the_connection_flags_and_the_password_sources() {
        let keys = known_keys(&flags());
        assert!(!keys.iter().any(|key| key == "debug" || key == "quiet"));
        assert_eq!(keys.iter().filter(|key| *key == "host").count(), 1);
        assert!(keys.iter().any(|key| key == "password-env"));
        assert!(keys.iter().any(|key| key == "password-command"));
        let with_env = known_keys(&["password-env".to_string()]);
        assert_eq!(with_env, ["password-env", "password-command"]);
    }

    fn profile(text: &str) -> Profile {
        parse(&format!("[profiles.p]\n{text}"))
            .profile("p")
            .expect("profile p")
            .clone()
    }

    fn as_flags(profile: &Profile, given: &[&str]) -> Result<Vec<(String, Vec<String>)>> {
        let takes_value = |flag: &str| !["tls", "no-tls", "insecure"].contains(&flag);
        let check = |args: &[String]| match args.first() {
            Some(arg) if arg.starts_with("--keepalive=-") => Err("a negative keepalive".into()),
            _ => Ok(()),
        };
        profile.flags(&|flag| given.contains(&flag), &takes_value, &check)
    }

    #[test]
    fn values_become_flag_arguments() {
        let p = profile(concat!(
            "host = \"h\"\nport = 1\nkeepalive = 30\ntls = true\ninsecure = false\n",
            "cafile = \"ca.pem\"\nuser_property = { a = \"1\", b = 2 }\nconnect_timeout = [\"5s\"]\n",
        ));
        let out = as_flags(&p, &[]).expect("flags");
        let expected: Vec<(String, Vec<String>)> = [
            ("cafile", vec!["--cafile=ca.pem"]),
            ("connect-timeout", vec!["--connect-timeout=5s"]),
            ("keepalive", vec!["--keepalive=30"]),
            ("tls", vec!["--tls"]),
            (
                "user-property",
                vec!["--user-property=a=1", "--user-property=b=2"],
            ),
        ]
        .into_iter()
        .map(|(key, args)| {
            (
                key.to_string(),
                args.into_iter().map(String::from).collect(),
            )
        })
        .collect();
        assert_eq!(out, expected);
        // What the command line gave, or another of its group, wins over the profile.
        let out = as_flags(&p, &["keepalive", "no-tls", "capath"]).expect("flags");
        let keys: Vec<&str> = out.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["connect-timeout", "user-property"]);
        let negative = message(as_flags(&profile("keepalive = -5\n"), &[]));
        assert_eq!(negative, "c.toml:2:1: profile 'p': a negative keepalive");
        let not_bool = message(as_flags(&profile("tls = \"yes\"\n"), &[]));
        assert!(
            not_bool.ends_with("'tls' must be true or false"),
            "{not_bool}"
        );
        let not_text = message(as_flags(&profile("cafile = 1.5\n"), &[]));
        assert!(
            not_text.ends_with("'cafile' must be text or a number"),
            "{not_text}"
        );
    }

    #[test]
    fn the_address_layer_is_checked() {
        let dir = tempfile::tempdir().expect("test setup");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "").expect("test setup");
        let layer = |text: &str| profile(text).layer(&file);
        let ok = layer("url = \"mqtts://u@b.example:8883\"\nport = \"1884\"\nusername = \"u\"\npassword_env = \"PW\"\n")
            .expect("layer");
        assert_eq!(ok.port, Some(1884));
        assert_eq!(ok.username.as_deref(), Some("u"));
        assert!(matches!(ok.password, Some(PasswordSource::Env(ref name)) if name == "PW"));
        assert_eq!(ok.own_host().as_deref(), Some("b.example"));
        let host = layer("host = \"h\"\nurl = \"mqtt://other\"\n").expect("layer");
        assert_eq!(host.own_host().as_deref(), Some("h"));
        assert_eq!(layer("port = 1\n").expect("layer").own_host(), None);
        assert!(message(layer("port = 0\n")).ends_with("port '0' is not 1-65535"));
        assert!(message(layer("port = 65536\n")).ends_with("port '65536' is not 1-65535"));
        assert!(message(layer("host = true\n")).ends_with("'host' must be text"));
        let two = message(layer("password_env = \"A\"\npassword_file = \"f\"\n"));
        assert!(
            two.ends_with("c.toml:2:1: profile 'p': give one password source, not password-file and password-env"),
            "{two}"
        );
        let file_source = layer("password_file = \"f\"\n").expect("layer").password;
        assert!(
            matches!(file_source, Some(PasswordSource::File(ref path)) if path == Path::new("f"))
        );
        let command = layer("password_command = \"pass x\"\n")
            .expect("layer")
            .password;
        assert!(matches!(command, Some(PasswordSource::Command(ref text)) if text == "pass x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for (mode, allowed) in [(0o600, true), (0o640, false), (0o604, false)] {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))
                    .expect("test setup");
                for text in ["password = \"s\"\n", "url = \"mqtt://u:s@h\"\n"] {
                    assert_eq!(layer(text).is_ok(), allowed, "{mode:o} {text}");
                }
                // A URL without a password may be read by anyone.
                assert!(layer("url = \"mqtt://u@h\"\n").is_ok());
            }
        }
    }

    #[test]
    fn the_config_file_is_a_regular_utf8_file_or_none() {
        let dir = tempfile::tempdir().expect("test setup");
        let file = dir.path().join("c.toml");
        assert_eq!(read_config_text(&file).expect("none"), None);
        std::fs::write(&file, "[profiles.a]\nhost = \"h\"\n").expect("test setup");
        assert_eq!(
            read_config_text(&file).expect("read").as_deref(),
            Some("[profiles.a]\nhost = \"h\"\n")
        );
        assert!(read_config_text(dir.path()).is_err());
        std::fs::write(&file, b"\xff\xfe").expect("test setup");
        assert!(message(read_config_text(&file)).ends_with("is not UTF-8 text"));
        std::fs::write(&file, "[profiles.a]\nhost = \"h\"\n").expect("test setup");
        struct Vars(String);
        impl Environment for Vars {
            fn var(&self, name: &str) -> Option<String> {
                (name == "MQTT_CLI_CONFIG").then(|| self.0.clone())
            }
        }
        let path = file.display().to_string();
        let loaded = ConfigFile::load(&Vars(path), &flags())
            .expect("load")
            .expect("a file");
        assert_eq!(loaded.path, file);
        assert!(loaded.profile("a").is_ok());
        let missing = dir.path().join("none.toml").display().to_string();
        assert!(
            ConfigFile::load(&Vars(missing), &flags())
                .expect("load")
                .is_none()
        );
    }
}
