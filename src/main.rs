//! The `mqtt-cli` binary: parse, set up logging, run, and map the outcome to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use mqtt_cli::cli::command_line::{CommandLineError, command_line};
use mqtt_cli::error::{exit_code_of, is_broken_pipe};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, format};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

fn main() -> ExitCode {
    let line = match command_line(std::env::args_os().collect()) {
        Ok(line) => line,
        Err(CommandLineError::Clap(err)) => return usage_error(err),
        Err(CommandLineError::Other(err)) => return fail(&err),
    };
    let (debug, quiet) = line
        .cli
        .command
        .connect_args()
        .map_or((false, false), |connect| (connect.debug, connect.quiet));
    init_logging(debug, quiet);

    let prepared = match mqtt_cli::prepare(line) {
        Ok(prepared) => prepared,
        Err(err) => return fail(&err),
    };
    // One thread for a client; bench drives many connections on every core.
    let mut builder = if matches!(prepared, mqtt_cli::Prepared::Bench(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mqtt-cli: error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(mqtt_cli::run(prepared));
    // Do not wait for the stdin reader thread or lingering tasks.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

/// The one error line, and the exit code its kind maps to.
fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("mqtt-cli: error: {err:#}");
    ExitCode::from(exit_code_of(err))
}

/// clap's errors in our style (`mqtt-cli: error: ...`, exit 2); help and version as clap prints
/// them (exit 0).
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let text = err.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    match tip(&err) {
        // Ours instead of clap's guess (--msg: "a similar argument exists: --message-expiry").
        Some(tip) => {
            let first = text.lines().next().unwrap_or_default();
            eprintln!(
                "mqtt-cli: error: {first}\n  tip: {tip}\n\nFor more information, try '--help'."
            );
        }
        None => eprint!("mqtt-cli: error: {text}"),
    }
    ExitCode::from(2)
}

/// What a newcomer needs that clap's words do not say.
fn tip(err: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.as_str(),
        _ => "",
    };
    match (err.kind(), arg) {
        // mosquitto's -h is the host, and so is ours.
        (ErrorKind::UnknownArgument, "-h") | (ErrorKind::InvalidValue, "--host <HOST>") => {
            Some("help is --help; -h is the broker's host, as in mosquitto_pub")
        }
        (ErrorKind::UnknownArgument, "--msg" | "--payload") => Some("the message is -m/--message"),
        _ => None,
    }
}

/// A notice as the README shows it: `mqtt-cli: connection lost: ...; reconnecting`.
struct Notice;

impl<S, N> FormatEvent<S, N> for Notice
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        writer.write_str("mqtt-cli: ")?;
        context
            .field_format()
            .format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Notices go to stderr; `--debug` adds packet traces with timestamps, `--quiet` silences notices.
fn init_logging(debug: bool, quiet: bool) {
    let level = if quiet {
        LevelFilter::OFF
    } else if debug {
        LevelFilter::DEBUG
    } else {
        LevelFilter::INFO
    };
    let filter = Targets::new().with_target("mqtt_cli", level);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_level(debug)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    if debug {
        tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .init();
    } else {
        tracing_subscriber::registry()
            .with(layer.event_format(Notice).with_filter(filter))
            .init();
    }
}
