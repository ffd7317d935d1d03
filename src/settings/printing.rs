//! How `sub` and `rr` print: the output format and `--match`.

use anyhow::Result;
use regex::bytes::Regex;

use crate::cli::OutputArgs;
use crate::error::usage;
use crate::output::{Format, Template};

/// The output format the flags ask for.
pub(super) fn output_format(args: &OutputArgs) -> Result<Format> {
    Ok(if let Some(template) = &args.template {
        Format::Template(Template::parse(template).map_err(usage)?)
    } else if args.json {
        Format::Json {
            pretty: args.pretty,
            encoding: args.payload_encoding,
        }
    } else if args.verbose {
        Format::Verbose
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
