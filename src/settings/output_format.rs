//! How `sub` and `rr` print: the output format, `-N` and `--match`.

use anyhow::Result;
use regex::bytes::Regex;

use crate::cli::env::Environment;
use crate::cli::{ColorChoice, OutputArgs};
use crate::error::usage;
use crate::output::{Format, Template};
use crate::payload::{Choice, Schemas};

/// How `sub` and `rr` print what they receive.
#[derive(Debug, Clone)]
pub struct Printing {
    pub format: Format,
    /// End every message with `\n` (off with `-N`).
    pub newline: bool,
    /// `--match`: only messages whose payload matches are printed and counted.
    pub payload_match: Option<Regex>,
    /// `--decode`: the codec for each topic.
    pub decode: Choice,
}

/// The output flags and `--match PATTERN`, checked.
pub(super) fn printing(
    args: &OutputArgs,
    pattern: Option<&str>,
    env: &dyn Environment,
) -> Result<Printing> {
    Ok(Printing {
        format: output_format(args, env)?,
        newline: !args.no_newline,
        payload_match: payload_regex(pattern)?,
        decode: decode_choice(args)?,
    })
}

/// `--decode`, with the `--proto` files it names compiled.
fn decode_choice(args: &OutputArgs) -> Result<Choice> {
    if args.decode.is_empty() && !args.proto.proto.is_empty() {
        return Err(usage(
            "--proto is read for --decode protobuf:TYPE: add --decode (e.g. --decode protobuf:acme.Reading)",
        ));
    }
    let schemas = Schemas::load(&args.proto.files()).map_err(usage)?;
    Choice::parse(&args.decode, &schemas).map_err(usage)
}

/// The output format the flags ask for.
fn output_format(args: &OutputArgs, env: &dyn Environment) -> Result<Format> {
    if args.pretty && !args.json && args.template.is_none() {
        return Err(usage(
            "--pretty indents --json or -F %j/%J: add one of them".to_string(),
        ));
    }
    Ok(if let Some(template) = &args.template {
        Format::Template(
            Template::parse(template)
                .map_err(usage)?
                .pretty(args.pretty),
        )
    } else if args.json {
        Format::Json {
            pretty: args.pretty,
            encoding: args.payload_encoding,
        }
    } else if args.verbose {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                use std::io::IsTerminal;
                std::io::stdout().is_terminal() && env.var("NO_COLOR").is_none()
            }
        };
        Format::Verbose { color }
    } else {
        Format::Raw
    })
}

/// `--match REGEX`, compiled for raw payload bytes (`.` does not match invalid UTF-8).
fn payload_regex(pattern: Option<&str>) -> Result<Option<Regex>> {
    pattern
        .map(|pattern| {
            Regex::new(pattern).map_err(|err| {
                let detail = err.to_string();
                let last = detail
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                usage(format!(
                    "--match '{pattern}' is not a valid regular expression: {last}"
                ))
            })
        })
        .transpose()
}
