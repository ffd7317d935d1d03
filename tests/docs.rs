//! The front door and the guides: README.md within 20 KB, every link of every document
//! resolving (files and headings), and every `mqtt-cli` command they show accepted by the
//! command line as written.

mod common;

use std::path::{Path, PathBuf};

use clap::Parser;
use common::argv::{argv, words};
use mqtt_cli::cli::Cli;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The documents a reader follows (the README, what it links to, and the maps), each with
/// its text.
fn documents() -> Vec<(PathBuf, String)> {
    let mut found: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "ARCHITECTURE.md"]
        .iter()
        .map(|name| root().join(name))
        .collect();
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let path = entry.expect("an entry of docs/").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read a document");
            (path, text)
        })
        .collect()
}

/// Each line of a document but the fences, and whether it is inside a code block.
fn lines(text: &str) -> Vec<(bool, &str)> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else {
            found.push((fenced, line));
        }
    }
    found
}

/// The text outside code blocks and inline code.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for (fenced, line) in lines(text) {
        if !fenced {
            // Inline code spans hold no links.
            let kept: String = line
                .split('`')
                .enumerate()
                .filter(|(index, _)| index % 2 == 0)
                .map(|(_, part)| part)
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&kept);
            out.push('\n');
        }
    }
    out
}

/// The targets of `[text](target)` links.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut found = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].to_string());
        }
    }
    found
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    lines(text)
        .into_iter()
        .filter(|(fenced, line)| !fenced && line.starts_with('#'))
        .map(|(_, line)| slug(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn the_readme_is_a_front_door_of_at_most_20_kb() {
    let size = std::fs::metadata(root().join("README.md"))
        .expect("README.md")
        .len();
    assert!(size <= 20 * 1024, "README.md is {size} bytes");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    for section in ["Install", "Quick start", "Exit codes", "Tests"] {
        assert!(
            readme.contains(&format!("\n## {section}\n")),
            "README.md has no '{section}' section"
        );
    }
}

#[test]
fn every_link_resolves_to_a_file_and_a_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for (document, text) in documents() {
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            checked += 1;
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap_or(Path::new(".")).join(file)
            };
            let name = document.strip_prefix(root()).unwrap_or(&document).display();
            if !target.exists() {
                broken.push(format!("{name}: {link}: no such file"));
                continue;
            }
            if !anchor.is_empty() {
                let text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&text).iter().any(|found| found == anchor) {
                    broken.push(format!("{name}: {link}: no such heading"));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The `mqtt-cli ...` commands of a console line: after `$ `, cut at pipes, redirections,
/// `&&` and `;`, with `VAR=value` prefixes and `echo ... |` sources left out.
fn commands(line: &str) -> Vec<Vec<String>> {
    let Some(command) = line.strip_prefix("$ ") else {
        return Vec::new();
    };
    let Ok(tokens) = words(command) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for segment in tokens.split(|token| ["|", "&&", ";", "&"].contains(&token.as_str())) {
        let mut segment: Vec<String> = segment
            .iter()
            .skip_while(|token| token.contains('=') && !token.starts_with('-'))
            .cloned()
            .collect();
        if let Some(at) = segment
            .iter()
            .position(|token| token.starts_with('>') || token.starts_with('<'))
        {
            segment.truncate(at);
        }
        if segment.first().is_some_and(|first| first == "mqtt-cli") {
            found.push(segment);
        }
    }
    found
}

#[test]
fn every_command_shown_is_accepted_as_written() {
    let mut refused = Vec::new();
    let mut checked = 0;
    for (document, text) in documents() {
        for (_, line) in lines(&text).into_iter().filter(|(fenced, _)| *fenced) {
            for command in commands(line.trim_start()) {
                checked += 1;
                if let Err(err) = Cli::try_parse_from(&command) {
                    use clap::error::ErrorKind;
                    if !matches!(
                        err.kind(),
                        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
                    ) {
                        let name = document.strip_prefix(root()).unwrap_or(&document).display();
                        let first = err.to_string();
                        let first = first.lines().next().unwrap_or_default().to_string();
                        refused.push(format!("{name}: {line}\n    {first}"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} commands found");
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

#[test]
fn words_are_split_as_a_shell_splits_them() {
    assert_eq!(argv("pub -t x -m y"), ["pub", "-t", "x", "-m", "y"]);
    assert_eq!(
        argv("sub -t 'a/#'  -F '%I %t'"),
        ["sub", "-t", "a/#", "-F", "%I %t"]
    );
    assert_eq!(
        argv(r#"pub -m "say \"hi\"" -m ''"#),
        ["pub", "-m", "say \"hi\"", "-m", ""]
    );
    assert_eq!(argv(r"pub -m a\ b # a comment"), ["pub", "-m", "a b"]);
    assert_eq!(argv("pub -m a#b"), ["pub", "-m", "a#b"]);
    assert!(words("pub -m 'open").is_err());
    assert_eq!(
        commands("$ MQTT_PASSWORD=x mqtt-cli pub -t a -s < f | mqtt-cli sub -t b > out"),
        [argv("mqtt-cli pub -t a -s"), argv("mqtt-cli sub -t b")]
    );
}

#[test]
fn a_heading_has_the_anchor_github_gives_it() {
    assert_eq!(
        slug(" Profiles: the brokers you use every day"),
        "profiles-the-brokers-you-use-every-day"
    );
    assert_eq!(
        slug(" Publishing: `mqtt-cli pub`"),
        "publishing-mqtt-cli-pub"
    );
}
