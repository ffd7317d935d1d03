//! The shell knows mqtt-cli: completion scripts loaded in real bash and zsh, man pages
//! rendered by man(1), and the version for bug reports.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A config file with two profiles, and a PATH where `mqtt-cli` is the binary under test
/// (the completion scripts run `mqtt-cli profile list --names`).
fn shell_env(dir: &Path) -> Vec<(String, String)> {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[profiles.alpha]\nhost = \"a\"\n[profiles.beta]\nhost = \"b\"\n",
    )
    .expect("config");
    let bin = Path::new(env!("CARGO_BIN_EXE_mqtt-cli"))
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    vec![
        ("PATH".to_string(), path),
        ("MQTT_CLI_CONFIG".to_string(), config.display().to_string()),
    ]
}

fn script(shell: &str) -> String {
    let out = run(&["completions", shell], b"");
    assert_code(&out, 0);
    stdout(&out)
}

/// The shell's candidates, one per line; a shell that hangs fails the test (after STEP).
fn candidates(mut command: Command, env: &[(String, String)]) -> Vec<String> {
    let child = command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the shell");
    let out = wait_output(child, STEP);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// What each shell must complete: subcommands, flags of subcommands, profile names.
const CASES: &[(&str, &[&str])] = &[
    ("mqtt-cli pu", &["pub"]),
    ("mqtt-cli che", &["check"]),
    ("mqtt-cli pub --qo", &["--qos"]),
    ("mqtt-cli sub --retained-o", &["--retained-only"]),
    ("mqtt-cli check --on", &["--only"]),
    ("mqtt-cli sub --prof", &["--profile"]),
    ("mqtt-cli sub --profile ", &["alpha", "beta"]),
    ("mqtt-cli check --profile al", &["alpha"]),
    ("mqtt-cli profile show ", &["alpha", "beta"]),
    ("mqtt-cli profile remove b", &["beta"]),
];

#[test]
fn bash_completes_subcommands_their_flags_and_profile_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("mqtt-cli.bash");
    std::fs::write(&file, script("bash")).expect("write script");
    let env = shell_env(dir.path());
    for (line, expected) in CASES {
        let mut bash = Command::new("bash");
        bash.arg("tests/shell/complete.bash").arg(&file);
        bash.args(line.split(' '));
        let got = candidates(bash, &env);
        for want in *expected {
            assert!(
                got.iter().any(|g| g == want),
                "{line:?}: {want:?} not in {got:?}"
            );
        }
    }
}

#[test]
fn zsh_completes_subcommands_their_flags_and_profile_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("_mqtt-cli"), script("zsh")).expect("write script");
    let env = shell_env(dir.path());
    for (line, expected) in CASES {
        let mut zsh = Command::new("zsh");
        zsh.arg("tests/shell/capture.zsh").arg(dir.path()).arg(line);
        let got = candidates(zsh, &env);
        for want in *expected {
            assert!(
                got.iter().any(|g| g == want),
                "{line:?}: {want:?} not in {got:?}"
            );
        }
    }
}

#[test]
fn the_other_shells_get_a_script_and_a_bad_shell_is_exit_2() {
    for shell in ["fish", "powershell", "elvish"] {
        assert!(script(shell).contains("mqtt-cli"), "{shell}");
    }
    assert_code(&run(&["completions", "tcsh"], b""), 2);
}

#[test]
fn man_pages_render_with_exit_codes_environment_files_json_and_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["man", "--out", &dir.path().display().to_string()], b"");
    assert_code(&out, 0);
    let render = |name: &str| {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.path().join(name))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("run man (package man-db)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = render("mqtt-cli.1");
    for needle in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "MQTT_PROFILE",
        "FILES",
        "EXAMPLES",
        "mqtt-cli-pub",
    ] {
        assert!(top.contains(needle), "{needle:?} in mqtt-cli(1):\n{top}");
    }
    for sub in [
        "pub",
        "sub",
        "rr",
        "check",
        "profile",
        "completions",
        "man",
        "version",
    ] {
        let page = render(&format!("mqtt-cli-{sub}.1"));
        assert!(page.contains("EXIT STATUS"), "mqtt-cli-{sub}(1):\n{page}");
    }
    assert!(render("mqtt-cli-pub.1").contains("--qos"));
    // Behind a proxy: the flags, and the environment they fall back on.
    let sub_page = render("mqtt-cli-sub.1");
    for needle in [
        "--proxy",
        "--bind-address",
        "--unix",
        "HTTPS_PROXY",
        "MQTT_PROXY_PASSWORD",
    ] {
        assert!(sub_page.contains(needle), "{needle:?} in mqtt-cli-sub(1)");
    }
    assert!(render("mqtt-cli-sub.1").contains("payload_base64"));
    assert!(render("mqtt-cli-check.1").contains("latency_ms"));
    for page in [
        "mqtt-cli-bench-pub.1",
        "mqtt-cli-bench-conn.1",
        "mqtt-cli-bench-merge.1",
    ] {
        let text = render(page);
        assert!(
            text.contains("REPORT") && text.contains("fail-if"),
            "{page}"
        );
    }
    assert!(render("mqtt-cli-bench-pub.1").contains("--ramp-up"));
    assert!(render("mqtt-cli-bench-conn.1").contains("per_connection_bytes"));
    for page in ["mqtt-cli-pub.1", "mqtt-cli-sub.1"] {
        let text = render(page);
        assert!(
            text.contains("MOSQUITTO") && text.contains("--property"),
            "{page}"
        );
    }
}

#[test]
fn version_is_one_line_and_the_subcommand_says_more() {
    let out = run(&["--version"], b"");
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("mqtt-cli {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&["version"], b"");
    assert_code(&out, 0);
    let text = stdout(&out);
    for needle in [
        "commit:",
        "rustls:     0.23",
        "rumqttc:    0.25.1",
        "MQTT 3.1.1, MQTT 5",
        "tcp, tls, ws, wss",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
}

/// The README's install step: after `cargo install`, `mqtt-cli man --out ~/.cargo/share/man/man1`
/// is enough for `man` to find the pages (it searches `../share/man` of each PATH entry).
#[test]
fn man_pages_beside_the_installed_binary_are_found_without_manpath() {
    let home = tempfile::tempdir().expect("tempdir");
    let bin = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    // A link, not a copy: a copy being written can be inherited by a process another test
    // starts at that moment, and executing it then fails with "Text file busy".
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mqtt-cli"), bin.join("mqtt-cli"))
        .expect("link the binary");
    let pages = home.path().join(".cargo/share/man/man1");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let installed = Command::new("mqtt-cli")
        .args(["man", "--out"])
        .arg(&pages)
        .env("PATH", &path)
        .env("HOME", home.path())
        .output()
        .expect("run the installed mqtt-cli");
    assert!(installed.status.success(), "{installed:?}");
    for page in ["mqtt-cli", "mqtt-cli-sub", "mqtt-cli-bench-pub"] {
        let found = Command::new("man")
            .args(["-w", page])
            .env("PATH", &path)
            .env("HOME", home.path())
            .env_remove("MANPATH")
            .output()
            .expect("run man -w");
        assert_eq!(
            String::from_utf8_lossy(&found.stdout).trim(),
            pages.join(format!("{page}.1")).display().to_string(),
            "man -w {page}: {}",
            String::from_utf8_lossy(&found.stderr)
        );
    }
}
