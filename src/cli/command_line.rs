//! The command line with the profile in use applied, as ripgrep reads its config file: the
//! profile's options are more arguments (flags the command line did not give), its address and
//! credentials a layer ([`ProfileLayer`]) that `settings` takes below the URL and the
//! environment. mosquitto's `-D` is rewritten into our flags before clap parses.

use std::ffi::OsString;

use anyhow::Result;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches};

use super::config::{CREDENTIAL_KEYS, ConfigFile, Profile, ProfileLayer, config_path};
use super::env::{Environment, ProcessEnv};
use super::{Cli, ConnectArgs};

/// The command line, with the profile in use applied.
#[derive(Debug)]
pub struct CommandLine {
    pub cli: Cli,
    /// The profile's address and credentials (a layer below the URL and the environment).
    pub profile: Option<ProfileLayer>,
    /// The connection flags given on the command line and their values (for `-d`, and what
    /// `profile add` stores).
    pub given: Vec<(String, Vec<String>)>,
    /// The profile's other options, as the flags they became (for `-d`).
    pub from_profile: Vec<(String, Vec<String>)>,
    /// The profile's credential options not used: the command line names another host.
    pub dropped: Vec<String>,
}

impl CommandLine {
    fn without_profile(cli: Cli, given: Vec<(String, Vec<String>)>) -> CommandLine {
        CommandLine {
            cli,
            profile: None,
            given,
            from_profile: Vec::new(),
            dropped: Vec::new(),
        }
    }
}

/// What went wrong with the command line: clap's own errors are printed its way.
#[derive(Debug)]
pub enum CommandLineError {
    Clap(clap::Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for CommandLineError {
    fn from(err: anyhow::Error) -> Self {
        CommandLineError::Other(err)
    }
}

/// The connection flags: long name, clap id, and whether the flag takes a value.
pub fn connection_flags() -> Vec<(String, String, bool)> {
    ConnectArgs::augment_args(clap::Command::new("connection"))
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?.to_string();
            Some((
                long,
                arg.get_id().to_string(),
                arg.get_action().takes_values(),
            ))
        })
        .collect()
}

/// Parses the command line and applies the profile in use (`--profile`, `MQTT_PROFILE`, else
/// the config file's `default_profile`): its options become flags the command line did not
/// give, its address and credentials a layer below the URL and the environment.
pub fn command_line(argv: Vec<OsString>) -> Result<CommandLine, CommandLineError> {
    let argv = options_file(argv)?;
    let argv = mosquitto_properties(argv)?;
    let (cli, matches) = parse(&argv)?;
    let Some(connect) = cli.command.connect_args() else {
        // `profile add`: the connection flags given, as they were written.
        let mut given = Vec::new();
        if let Some(("profile", profile)) = matches.subcommand()
            && let Some(("add", add)) = profile.subcommand()
        {
            given = given_flags(add, &connection_flags());
        }
        return Ok(CommandLine::without_profile(cli, given));
    };
    let name = connect
        .profile
        .clone()
        .or_else(|| ProcessEnv.var("MQTT_PROFILE"));
    let config_present = config_path(&ProcessEnv).is_some_and(|path| path.exists());
    let profile_wanted = name.is_some() || config_present;
    // The flags' table only when -d or a profile needs it (start-up time counts for one
    // publish), and then once.
    let flags = if connect.debug || profile_wanted {
        connection_flags()
    } else {
        Vec::new()
    };
    let given = if connect.debug {
        given_flags(leaf(&matches).1, &flags)
    } else {
        Vec::new()
    };
    if !profile_wanted {
        return Ok(CommandLine::without_profile(cli, given));
    }
    let longs: Vec<String> = flags.iter().map(|(long, _, _)| long.clone()).collect();
    let Some((config, name)) = chosen_profile(name, &longs)? else {
        return Ok(CommandLine::without_profile(cli, given));
    };
    let profile = config.profile(&name)?;
    let mut layer = profile.layer(&config.path)?;
    layer.elsewhere = other_host(connect, layer.own_host());
    let (path, sub_matches) = leaf(&matches);
    let mut from_profile = profile_flags(profile, &flags, sub_matches)?;
    // A client certificate is a credential too: only for the profile's own host.
    let dropped = if layer.elsewhere.is_some() {
        drop_credentials(&mut from_profile)
    } else {
        Vec::new()
    };
    let cli = if from_profile.is_empty() {
        cli
    } else {
        Cli::try_parse_from_argv(with_profile_flags(&argv, &path, &from_profile))
            .map_err(CommandLineError::Clap)?
    };
    Ok(CommandLine {
        cli,
        profile: Some(layer),
        given,
        from_profile,
        dropped,
    })
}

/// Parses argv: with only its subcommand's definition when that is enough (pub, sub, rr,
/// check), else with the whole command line's (help, errors, every other subcommand).
fn parse(argv: &[OsString]) -> Result<(Cli, ArgMatches), CommandLineError> {
    if let Some(parsed) = parse_one_subcommand(argv) {
        return Ok(parsed);
    }
    let matches = Cli::command()
        .try_get_matches_from(argv)
        .map_err(CommandLineError::Clap)?;
    let cli = Cli::from_arg_matches(&matches).map_err(CommandLineError::Clap)?;
    Ok((cli, matches))
}

/// The profile's options as flags, each checked, leaving out those the command line gave
/// (`sub_matches`); `flags` is the connection flags' table (long name, id, takes a value).
fn profile_flags(
    profile: &Profile,
    flags: &[(String, String, bool)],
    sub_matches: &ArgMatches,
) -> Result<Vec<(String, Vec<String>)>, CommandLineError> {
    let id_of = |long: &str| {
        flags
            .iter()
            .find(|(flag, _, _)| flag == long)
            .map(|(_, id, _)| id.clone())
    };
    let on_command_line = |long: &str| {
        id_of(long).is_some_and(|id| {
            sub_matches.value_source(&id) == Some(clap::parser::ValueSource::CommandLine)
        })
    };
    let takes_value = |long: &str| flags.iter().any(|(flag, _, takes)| flag == long && *takes);
    let check = key_checker();
    Ok(profile.flags(&on_command_line, &takes_value, &check)?)
}

/// The config file and the name of the profile in use (`--profile`/`MQTT_PROFILE` as `name`,
/// else the file's `default_profile`); `None` when no profile is in use.
fn chosen_profile(
    name: Option<String>,
    flags: &[String],
) -> Result<Option<(ConfigFile, String)>, CommandLineError> {
    let config = ConfigFile::load(&ProcessEnv, flags)?;
    Ok(match (config, name) {
        (Some(config), Some(name)) => Some((config, name)),
        (Some(config), None) => config.default_profile.clone().map(|name| (config, name)),
        (None, Some(name)) => {
            let path = config_path(&ProcessEnv).map_or_else(
                || "no config directory".to_string(),
                |p| p.display().to_string(),
            );
            return Err(crate::error::usage(format!(
                "no profile '{name}': there is no config file ({path}); `mqtt-cli profile add {name} ...` makes one"
            ))
            .into());
        }
        (None, None) => None,
    })
}

/// Checks a profile key's flag alone (built once; each key is checked against a copy), in
/// clap's words without its `error: `.
fn key_checker() -> impl Fn(&[String]) -> Result<(), String> {
    let parser = ConnectArgs::augment_args(
        clap::Command::new("profile")
            .no_binary_name(true)
            .disable_help_flag(true),
    );
    move |args: &[String]| {
        match parser.clone().try_get_matches_from(args) {
            // A key checked alone misses its pair (`key` needs `cert`): the whole command
            // line, parsed next, says whether the pair is there.
            Err(err) if err.kind() == clap::error::ErrorKind::MissingRequiredArgument => Ok(()),
            other => other.map(|_| ()),
        }
        .map_err(|err| {
            let text = err.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            line.strip_prefix("error: ").unwrap_or(line).to_string()
        })
    }
}

/// Takes the credential keys (a client certificate) out of a profile's flags: the names taken.
fn drop_credentials(from_profile: &mut Vec<(String, Vec<String>)>) -> Vec<String> {
    let mut dropped = Vec::new();
    from_profile.retain(|(key, _)| {
        let credential = CREDENTIAL_KEYS.contains(&key.as_str());
        if credential {
            dropped.push(key.clone());
        }
        !credential
    });
    dropped
}

/// The command line with the profile's flags after the (last) subcommand's name (`bench pub`).
fn with_profile_flags(
    argv: &[OsString],
    path: &[String],
    from_profile: &[(String, Vec<String>)],
) -> Vec<OsString> {
    let mut at = 0;
    for name in path {
        at = argv[at..]
            .iter()
            .position(|arg| arg == name.as_str())
            .map_or(argv.len(), |index| at + index + 1);
    }
    let mut with_profile: Vec<OsString> = argv[..at].to_vec();
    for (_, args) in from_profile {
        with_profile.extend(args.iter().map(OsString::from));
    }
    with_profile.extend_from_slice(&argv[at..]);
    with_profile
}

/// `pub`, `sub`, `rr` and `check` parsed with only their own definition built. clap builds every
/// subcommand's flags otherwise (each flattens the connection flags): 900 KB of heap touched,
/// some 200 page faults, a third of the time one publish takes, and one publish is what CI
/// scripts and blinking loops are made of. Anything this does not take as a plain run (help,
/// version, an error of any kind) is parsed again the whole way, so that its words are the same.
fn parse_one_subcommand(argv: &[OsString]) -> Option<(Cli, clap::ArgMatches)> {
    use super::{CheckArgs, Command, PubArgs, RrArgs, SubArgs};
    let name = argv.get(1)?.to_str()?;
    let definition = match name {
        "pub" => PubArgs::augment_args(clap::Command::new("pub")),
        "sub" => SubArgs::augment_args(clap::Command::new("sub")),
        "rr" => RrArgs::augment_args(clap::Command::new("rr")),
        "check" => CheckArgs::augment_args(clap::Command::new("check")),
        _ => return None,
    };
    let matches = clap::Command::new("mqtt-cli")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .subcommand(definition.disable_help_flag(true))
        .try_get_matches_from(argv)
        .ok()?;
    let (_, args) = matches.subcommand()?;
    let command = match name {
        "pub" => Command::Pub(PubArgs::from_arg_matches(args).ok()?),
        "sub" => Command::Sub(SubArgs::from_arg_matches(args).ok()?),
        "rr" => Command::Rr(RrArgs::from_arg_matches(args).ok()?),
        _ => Command::Check(CheckArgs::from_arg_matches(args).ok()?),
    };
    let cli = Cli {
        help: None,
        version: None,
        command,
    };
    Some((cli, matches))
}

/// The host the command line (`-h`, `-L`) or the environment (`MQTT_HOST`, `MQTT_URL`) names,
/// when it is not the profile's own `host`.
fn other_host(connect: &ConnectArgs, own: Option<String>) -> Option<String> {
    let own = own?;
    let url_host = |text: String| {
        crate::broker_url::parse_url(&text)
            .ok()
            .and_then(|url| url.host)
    };
    let named = connect
        .host
        .clone()
        .or_else(|| connect.url.clone().and_then(url_host))
        .or_else(|| ProcessEnv.var("MQTT_HOST"))
        .or_else(|| ProcessEnv.var("MQTT_URL").and_then(url_host))?;
    let bare = |host: &str| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    };
    (bare(&named) != bare(&own)).then_some(named)
}

/// mosquitto's `-D COMMAND PROPERTY VALUE`, rewritten into our flags (see
/// [`super::properties`]); the command line as it was when there is none.
/// `-o FILE` (mosquitto 2.1): the file's options before the command line's
/// (`options_file.rs`), each matched to its subcommand's option by clap's definition.
fn options_file(argv: Vec<OsString>) -> Result<Vec<OsString>, CommandLineError> {
    if !argv.iter().skip(2).any(|arg| arg == "-o") {
        return Ok(argv);
    }
    // Built: the groups an option names (`group = "payload"`) exist only then.
    let mut command = Cli::command();
    command.build();
    let Some(sub) = subcommand_of(&argv, &command) else {
        return Ok(argv);
    };
    let arg_of = |token: &str| {
        let name = token.split('=').next().unwrap_or(token);
        let names_it = |arg: &clap::Arg| match name.strip_prefix("--") {
            Some(long) => {
                arg.get_long() == Some(long)
                    || arg.get_all_aliases().unwrap_or_default().contains(&long)
            }
            None => {
                let mut chars = name.strip_prefix('-').unwrap_or_default().chars();
                match (chars.next(), chars.next()) {
                    (Some(short), None) => {
                        arg.get_short() == Some(short)
                            || arg
                                .get_all_short_aliases()
                                .unwrap_or_default()
                                .contains(&short)
                    }
                    _ => false,
                }
            }
        };
        // The message's sources (-m, -f, -s, -l, -n) are one option: the command line's
        // replaces the file's, as in mosquitto ("only one can be specified").
        let payload: Vec<&clap::Id> = sub
            .get_groups()
            .filter(|group| group.get_id() == "payload")
            .flat_map(|group| group.get_args())
            .collect();
        sub.get_arguments().find(|arg| names_it(arg)).map(|arg| {
            let takes_value = arg.get_action().takes_values();
            if payload.contains(&arg.get_id()) {
                return ("payload".to_string(), false, takes_value);
            }
            let repeats = matches!(
                arg.get_action(),
                clap::ArgAction::Append | clap::ArgAction::Count
            );
            (arg.get_id().to_string(), repeats, takes_value)
        })
    };
    super::options_file::expand(argv, arg_of)
        .map_err(|message| CommandLineError::Other(crate::error::usage(message)))
}

/// The definition of the subcommand `argv` names (`argv[1]`).
fn subcommand_of<'a>(argv: &[OsString], command: &'a clap::Command) -> Option<&'a clap::Command> {
    argv.get(1)
        .and_then(|sub| sub.to_str())
        .and_then(|name| command.find_subcommand(name))
}

fn mosquitto_properties(argv: Vec<OsString>) -> Result<Vec<OsString>, CommandLineError> {
    // -D, and -x (which implies MQTT 5 as in mosquitto 2.1): only then is clap's definition
    // built here (it costs the start of every run).
    let implies_v5 = |arg: &OsString| {
        arg == "-D"
            || arg == "--property"
            || arg == "-x"
            || arg
                .to_str()
                .is_some_and(|arg| arg.starts_with("--session-expiry"))
    };
    if !argv.iter().any(implies_v5) {
        return Ok(argv);
    }
    let command = Cli::command();
    let Some(sub) = subcommand_of(&argv, &command) else {
        return Ok(argv);
    };
    let mut with_value: Vec<String> = Vec::new();
    for arg in sub.get_arguments() {
        if arg.get_action().takes_values() && arg.get_id() != "property" {
            with_value.extend(arg.get_short().map(|short| format!("-{short}")));
            with_value.extend(arg.get_long().map(|long| format!("--{long}")));
            for alias in arg.get_all_aliases().unwrap_or_default() {
                with_value.push(format!("--{alias}"));
            }
            for short in arg.get_all_short_aliases().unwrap_or_default() {
                with_value.push(format!("-{short}"));
            }
        }
    }
    super::mosquitto_properties::rewrite(argv, |token| with_value.iter().any(|flag| flag == token))
        .map_err(|message| CommandLineError::Other(crate::error::usage(message)))
}

/// The innermost subcommand's matches, and the names that lead there (`["bench", "pub"]`).
fn leaf(matches: &clap::ArgMatches) -> (Vec<String>, &clap::ArgMatches) {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name.to_string());
        current = sub;
    }
    (path, current)
}

/// The connection flags given on the command line (not defaults), with their values.
fn given_flags(
    matches: &clap::ArgMatches,
    flags: &[(String, String, bool)],
) -> Vec<(String, Vec<String>)> {
    let mut given = Vec::new();
    for (long, id, takes_value) in flags {
        if matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        let values = if *takes_value {
            matches
                .get_raw(id)
                .into_iter()
                .flatten()
                .map(|value| value.to_string_lossy().into_owned())
                .collect()
        } else {
            Vec::new()
        };
        given.push((long.clone(), values));
    }
    given
}

impl Cli {
    fn try_parse_from_argv(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches_from(argv)?;
        Cli::from_arg_matches(&matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<OsString> {
        std::iter::once("mqtt-cli")
            .chain(line.split(' '))
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn one_subcommand_parses_as_the_whole_command_line_does() {
        for line in [
            "pub -t led -m 1 -m 0 --repeat 0 --interval 1s -q 1",
            "pub -h broker -p 8883 --cafile ca.pem -u me -t a -l -d",
            "pub -V 5 -t a -m x --user-property k=v --message-expiry 60 --topic-alias 2",
            "pub -L mqtts://me@host/t -m x --will-topic w --will-payload gone --will-qos 1",
            "sub -t a/# -t b -v -C 5 -W 3s --retained-only --remove-retained",
            "sub -t a -F %I_%t_%p -N -R",
            "sub -t a --json --pretty",
            "sub -V 5 -t a --retain-handling 2 --subscription-id 7 --no-local",
            "rr -t dev/cmd -e dev/state -m on -W 5s",
            "check -h localhost -V 5 --json --only qos1,retained --count 3",
            "pub -t a -m x --profile cloud --proxy socks5h://127.0.0.1:1080",
        ] {
            let argv = argv(line);
            let (fast, matches) = parse_one_subcommand(&argv).expect(line);
            let full = Cli::try_parse_from_argv(argv.clone()).expect(line);
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{line}");
            assert_eq!(
                leaf(&matches).0,
                [line.split(' ').next().unwrap_or_default()]
            );
        }
        // Help, the version and every error take the whole way (their words are clap's).
        for line in [
            "pub --help",
            "pub --version",
            "pub -t a -q 3",
            "pub --msg x",
            "bench pub",
        ] {
            assert!(parse_one_subcommand(&argv(line)).is_none(), "{line}");
        }
    }
}
