//! How `sub` and `rr` print: the output format and `--match`.

use anyhow::Result;
use regex::bytes::Regex;

use crate::cli::env::Environment;
use crate::cli::{ColorChoice, OutputArgs};
use crate::error::usage;
use crate::output::{Format, Template};

/// The output format the flags ask for.
pub(super) fn output_format(args: &OutputArgs, env: &dyn Environment) -> Result<Format> {
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
pub(super) fn payload_regex(pattern: Option<&str>) -> Result<Option<Regex>> {
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
