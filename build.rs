//! Facts for `mqtt-cli version`: the commit built, and the rustls version in Cargo.lock.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|commit| !commit.is_empty());
    if let Some(commit) = commit {
        println!("cargo:rustc-env=MQTT_CLI_COMMIT={commit}");
    }
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let rustls = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"rustls\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|version| version.trim_end_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MQTT_CLI_RUSTLS_VERSION={rustls}");
}
