//! What the shell and the manual need: completion scripts (clap_complete), man pages
//! (clap_mangen), and `mqtt-cli version` for bug reports.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The profile names of the config file, one per line (what `--profile` completes to).
pub const PROFILE_NAMES: &str = "mqtt-cli profile list --names 2>/dev/null";

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mqtt-cli", &mut script);
    let script = String::from_utf8(script).context("completion script")?;
    let script = match shell {
        Shell::Bash => fix_bash(&script),
        Shell::Zsh => fix_zsh(&script),
        Shell::Fish => format!(
            "{script}complete -c mqtt-cli -l profile -f -r -a \"({PROFILE_NAMES})\"\n\
             complete -c mqtt-cli -n \"__fish_mqtt_cli_using_subcommand profile; and \
             __fish_seen_subcommand_from show remove\" -f -a \"({PROFILE_NAMES})\"\n"
        ),
        _ => script,
    };
    std::io::stdout()
        .write_all(script.as_bytes())
        .context("writing the script")?;
    Ok(())
}

/// clap_complete's bash script names the state of a command path by joining its words with
/// `__subcmd__`, and spells the binary's hyphen one way where it sets the state
/// (`mqtt_cli__subcmd__pub`) and another where it reads it (`mqtt__subcmd__cli__subcmd__pub`,
/// clap-rs/clap#6421, #6529): with `mqtt-cli` nothing after the subcommand completes. The
/// states get one spelling here; and `--profile`, `profile show` and `profile remove` complete
/// the profile names.
fn fix_bash(script: &str) -> String {
    let mut fixed = script
        .replace("mqtt__subcmd__cli", "mqtt_cli")
        .replace("mqtt__cli", "mqtt_cli");
    // profile show NAME, profile remove NAME: the names among the candidates.
    for action in ["show", "remove"] {
        fixed = fixed.replace(
            &format!(
                "mqtt_cli__subcmd__profile__subcmd__{action})\n            opts=\"--help --version\""
            ),
            &format!(
                "mqtt_cli__subcmd__profile__subcmd__{action})\n            opts=\"--help --version $({PROFILE_NAMES})\""
            ),
        );
    }
    // --profile: the names from the config file.
    fixed.replace(
        "                --profile)\n                    COMPREPLY=($(compgen -f \"${cur}\"))",
        &format!(
            "                --profile)\n                    COMPREPLY=($(compgen -W \"$({PROFILE_NAMES})\" -- \"${{cur}}\"))"
        ),
    )
}

/// zsh: `--profile`, `profile show` and `profile remove` complete the profile names.
fn fix_zsh(script: &str) -> String {
    let names = format!("{{compadd -- ${{(f)\"$({PROFILE_NAMES})\"}}}}");
    let mut fixed = script.replace(":PROFILE:_default'", &format!(":PROFILE:{names}'"));
    // The NAME argument of `(show)` and `(remove)` (not of `(add)`: a new name).
    for action in ["(show)", "(remove)"] {
        if let Some(at) = fixed.find(&format!("{action}\n_arguments")) {
            let end = fixed[at..].find(";;").map_or(fixed.len(), |end| at + end);
            let section = fixed[at..end].replace(":_default'", &format!(":{names}'"));
            fixed.replace_range(at..end, &section);
        }
    }
    fixed
}

/// Writes mqtt-cli.1 and mqtt-cli-SUBCOMMAND.1 to `dir`.
pub fn man_pages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let command = Cli::command();
    let mut written = Vec::new();
    let top = command.clone().name("mqtt-cli");
    write_page(dir, "mqtt-cli", top, &mut written)?;
    // A page per subcommand, and per nested one (`bench pub`: mqtt-cli-bench-pub).
    let page = |sub: &clap::Command, name: &str| {
        sub.clone()
            .name(name.to_string())
            .version(env!("CARGO_PKG_VERSION"))
            .disable_version_flag(true)
    };
    for sub in command.get_subcommands() {
        let name = format!("mqtt-cli-{}", sub.get_name());
        write_page(dir, &name, page(sub, &name), &mut written)?;
        for nested in sub.get_subcommands() {
            let name = format!("{name}-{}", nested.get_name());
            write_page(dir, &name, page(nested, &name), &mut written)?;
        }
    }
    for path in written {
        eprintln!("mqtt-cli: wrote {}", path);
    }
    Ok(())
}

fn write_page(
    dir: &Path,
    name: &str,
    command: clap::Command,
    written: &mut Vec<String>,
) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if command.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    extra_sections(name, &mut page)?;
    man.render_version_section(&mut page)?;
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path.display().to_string());
    Ok(())
}

/// Sections clap_mangen does not make: exit codes, environment, files, JSON, examples.
fn extra_sections(name: &str, page: &mut Vec<u8>) -> Result<()> {
    let mut roff = roff::Roff::new();
    let mut section = |title: &str, text: &str| {
        roff.control("SH", [title]);
        for paragraph in text.split("\n\n") {
            roff.control("PP", []);
            roff.control("nf", []);
            roff.text([roff::roman(paragraph)]);
            roff.control("fi", []);
        }
    };
    section("EXIT STATUS", crate::cli::EXIT_CODES);
    section("ENVIRONMENT", ENVIRONMENT);
    section("FILES", crate::cli::PROFILE_HELP);
    match name {
        "mqtt-cli-sub" | "mqtt-cli-rr" => section("JSON", crate::output::JSON_HELP),
        "mqtt-cli-check" => section("JSON", crate::cli::CHECK_JSON_HELP),
        _ => {}
    }
    if name.starts_with("mqtt-cli-bench") {
        section("REPORT", crate::cli::bench::BENCH_HELP);
        section("JSON", crate::cli::bench::BENCH_JSON_HELP);
    }
    if matches!(name, "mqtt-cli-pub" | "mqtt-cli-sub") {
        section("MOSQUITTO", MOSQUITTO);
    }
    section("EXAMPLES", EXAMPLES);
    roff.to_writer(page)?;
    Ok(())
}

const ENVIRONMENT: &str = "\
MQTT_URL, MQTT_HOST, MQTT_PORT, MQTT_USERNAME
    the broker and user when no flag or -L URL gives them

MQTT_PASSWORD, MQTT_PASSWORD_FILE
    the password (MQTT_PASSWORD only with a user name), off the command line

MQTT_PROFILE
    the profile to use when --profile is not given

HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (and lower case)
    the proxy when --proxy is not given, as curl reads them: HTTPS_PROXY for TLS
    (mqtts, wss), HTTP_PROXY for mqtt and ws, then ALL_PROXY; NO_PROXY lists the
    hosts reached directly (*, names, .domains, addresses, networks as 10.0.0.0/8)

MQTT_PROXY_PASSWORD
    the proxy's password, for a proxy URL with a user name and no password

MQTT_CLI_CONFIG
    the config file, instead of mqtt-cli/config.toml in the config directory

NO_COLOR
    no colours on a terminal";

const MOSQUITTO: &str = "\
mosquitto_pub and mosquitto_sub command lines run unchanged: every option of
theirs that applies is accepted with the same meaning, -D COMMAND PROPERTY VALUE
and -F templates (codes, widths, %j/%J, --pretty) included.

Differences: exit codes 2 (bad usage), 3 (cannot connect), 4 (TLS), 5 (refused),
6 (rejected), 7 (timeout) where mosquitto returns 1, 1, 1 or 8, 5, 0, 27; -d traces
on stderr; --insecure skips all certificate checks; -R, --retained-only and
--remove-retained end with exit 0, -W waiting for -C messages with 7;
--random-filter prints the share asked; -v prints `topic ` for an empty payload.

--proxy takes socks5h:// as mosquitto's does, and also socks5://, http:// and
https:// (HTTP CONNECT), and the proxy environment variables.

Refused in one line (exit 2): MQTT 3.1 (-V 31), TLS-PSK (--psk), OpenSSL engines
(--tls-engine, --keyform engine).
The full table: README, \"Compared with mosquitto_pub / mosquitto_sub\".";

const EXAMPLES: &str = "\
mqtt-cli sub -t 'home/#' -v
mqtt-cli pub -t home/led -m 1
mqtt-cli pub -t home/led -m 1 -m 0 --repeat 0 --interval 1s
mqtt-cli pub -L mqtts://broker.hivemq.com:8883/home/led -m 1
mqtt-cli profile add cloud -L mqtts://abc.hivemq.cloud:8883 -u me --password-command 'pass show mqtt'
mqtt-cli check --profile cloud --json";

/// `mqtt-cli version`: what a bug report needs.
pub fn version() -> Result<()> {
    println!("mqtt-cli {}", env!("CARGO_PKG_VERSION"));
    println!(
        "commit:     {}",
        option_env!("MQTT_CLI_COMMIT").unwrap_or("unknown")
    );
    println!("rumqttc:    0.25.1 (vendored, patched: vendor/rumqttc/PATCHES.md)");
    println!("rustls:     {} (ring)", env!("MQTT_CLI_RUSTLS_VERSION"));
    println!("protocols:  MQTT 3.1.1, MQTT 5");
    println!("transports: tcp, tls, ws, wss");
    Ok(())
}
