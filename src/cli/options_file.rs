//! `-o FILE` (mosquitto 2.1): options read from a file, one per line as `-option value`
//! (`#` starts a comment line), placed before the command line's so that an option given on
//! the command line wins over the file's; options that may repeat (`-t`, `--user-property`)
//! are taken from both, as mosquitto takes `-t` and `-T`. Secrets can live there, off argv.

use std::ffi::OsString;
use std::path::Path;

/// The largest options file read: far more than any set of options.
const MAX_FILE: usize = 64 * 1024;

/// `argv` with the options of its `-o FILE` (after the subcommand, `argv[1]`) in place.
/// `arg_of(token)`: the id of the subcommand's option `token` names (`-t`, `--topic`,
/// `--topic=x`), whether it may repeat, and whether it takes a value.
pub fn expand(
    argv: Vec<OsString>,
    arg_of: impl Fn(&str) -> Option<(String, bool, bool)>,
) -> Result<Vec<OsString>, String> {
    let positions: Vec<usize> = (2..argv.len()).filter(|&i| argv[i] == "-o").collect();
    let Some(&at) = positions.first() else {
        return Ok(argv);
    };
    if positions.len() > 1 {
        return Err("-o is given twice: one options file at most".into());
    }
    let Some(file) = argv.get(at + 1) else {
        return Err("-o needs the options file after it".into());
    };
    let path = Path::new(file);
    let bytes = crate::input::read_regular_file(path, MAX_FILE, "the options file (-o)")
        .map_err(|err| format!("{err:#}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{}: the options file is not UTF-8 text", path.display()))?;
    let rest: Vec<&OsString> = argv[2..]
        .iter()
        .enumerate()
        .filter(|(i, _)| *i + 2 != at && *i + 2 != at + 1)
        .map(|(_, arg)| arg)
        .collect();
    // The ids the command line gives itself.
    let given: Vec<String> = rest
        .iter()
        .filter_map(|arg| arg.to_str())
        .filter_map(|arg| arg_of(arg).map(|(id, _, _)| id))
        .collect();
    let mut from_file: Vec<OsString> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at_line = |why: &str| format!("{} line {}: {why}", path.display(), index + 1);
        let (option, value) = match line.split_once(char::is_whitespace) {
            Some((option, value)) => (option, Some(value.trim())),
            None => (line, None),
        };
        let Some((id, repeats, takes_value)) = arg_of(option) else {
            return Err(at_line(&format!(
                "'{option}' is not an option of this command"
            )));
        };
        if takes_value && value.is_none() && !option.contains('=') {
            return Err(at_line(&format!("{option} needs a value")));
        }
        if !takes_value && value.is_some() {
            return Err(at_line(&format!("{option} takes no value")));
        }
        if !repeats && given.contains(&id) {
            continue;
        }
        from_file.push(option.into());
        from_file.extend(value.map(OsString::from));
    }
    let mut out: Vec<OsString> = argv[..2].to_vec();
    out.extend(from_file);
    out.extend(rest.into_iter().cloned());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg_of(token: &str) -> Option<(String, bool, bool)> {
        let name = token.split('=').next().unwrap_or(token);
        Some(match name {
            "-t" | "--topic" => ("topics".into(), true, true),
            "-h" | "--host" => ("host".into(), false, true),
            "-P" | "--pw" | "--password" => ("password".into(), false, true),
            "-d" | "--debug" => ("debug".into(), false, false),
            _ => return None,
        })
    }

    fn expanded(file: &str, line: &[&str]) -> Result<Vec<String>, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("opts");
        std::fs::write(&path, file).expect("write");
        let mut argv: Vec<OsString> = vec!["mqtt-cli".into()];
        for word in line {
            argv.push(if *word == "FILE" {
                path.clone().into()
            } else {
                (*word).into()
            });
        }
        expand(argv, arg_of).map(|argv| {
            argv.into_iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect()
        })
    }

    #[test]
    fn the_files_options_come_first_and_the_command_line_wins() {
        let file = "# broker\n-h broker.example\n--pw s3cret pass\n\n-t from/file\n-d\n";
        assert_eq!(
            expanded(file, &["sub", "-o", "FILE", "-h", "other", "-t", "cli"]).expect("ok"),
            [
                "mqtt-cli",
                "sub",
                "--pw",
                "s3cret pass",
                "-t",
                "from/file",
                "-d",
                "-h",
                "other",
                "-t",
                "cli"
            ]
        );
    }

    #[test]
    fn a_bad_file_is_named_with_its_line() {
        let err = expanded("-h\n", &["pub", "-o", "FILE"]).expect_err("no value");
        assert!(err.ends_with("line 1: -h needs a value"), "{err}");
        let err = expanded("-d yes\n", &["pub", "-o", "FILE"]).expect_err("a value");
        assert!(err.ends_with("line 1: -d takes no value"), "{err}");
        let err = expanded("-q 1\n", &["pub", "-o", "FILE"]).expect_err("unknown");
        assert!(
            err.ends_with("line 1: '-q' is not an option of this command"),
            "{err}"
        );
        let err = expanded("", &["pub", "-o", "FILE", "-o", "FILE"]).expect_err("twice");
        assert!(err.contains("twice"), "{err}");
        let err = expanded("", &["pub", "-o"]).expect_err("no file");
        assert!(err.contains("needs the options file"), "{err}");
    }
}
