//! examples/kubernetes: the manifests validated against the Kubernetes schema (PyPI's
//! kubernetes-validate, strict: an unknown field fails), and the Indexed Job run here as the
//! cluster would run it: one process per completion index with the Job's environment
//! (`$(VAR)` expanded as the kubelet does, JOB_COMPLETION_INDEX set), against a mosquitto
//! configured by the example's ConfigMap, then the merge Job's own commands.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes")
}

fn manifests() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("examples/kubernetes")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    found.sort();
    found
}

fn validate(path: &Path) -> Output {
    Command::new("python3")
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "--kubernetes-version",
            "1.30.0",
        ])
        .arg(path)
        .output()
        .expect("python3")
}

/// The documents of a manifest, as JSON (read by PyYAML, which kubernetes-validate brings).
fn documents(path: &Path) -> Vec<Value> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_manifests_are_valid_kubernetes_and_a_wrong_field_is_caught() {
    let all = manifests();
    assert!(all.len() >= 4, "{all:?}");
    for path in &all {
        let out = validate(path);
        assert!(
            out.status.success(),
            "{}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator does read the Job: a misspelt field fails it.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("job.yaml");
    let job = std::fs::read_to_string(folder().join("bench-job.yaml")).expect("read");
    std::fs::write(&broken, job.replace("completions: 4", "completion: 4")).expect("write");
    let out = validate(&broken);
    assert!(!out.status.success(), "a misspelt field passed");
}

/// A container's environment (plain values), with `overrides` on top.
fn environment(container: &Value, overrides: &[(&str, String)]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|var| Some((var["name"].as_str()?.into(), var["value"].as_str()?.into())))
        .collect();
    for (name, value) in overrides {
        assert!(
            env.contains_key(*name) || *name == "JOB_COMPLETION_INDEX",
            "{name}"
        );
        env.insert(name.to_string(), value.clone());
    }
    env
}

/// A container's command or argument as the kubelet expands it: `$(NAME)` of a variable set
/// is its value, `$$` is `$`, anything else stays (a shell's `$(ls)`). A reference to a variable
/// the container does not set fails the test: in the cluster it would stay as it is, unnoticed.
fn expand(text: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        let reference = rest
            .strip_prefix("$(")
            .and_then(|inner| inner.split_once(')'))
            .filter(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        match reference {
            Some((name, after)) => {
                let value = env
                    .get(name)
                    .unwrap_or_else(|| panic!("$({name}) is not set in {text}"));
                out.push_str(value);
                rest = after;
            }
            None => {
                out.push('$');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Runs a container's command and arguments here, `mqtt-cli` being the binary under test.
fn run_container(container: &Value, env: &BTreeMap<String, String>, path: &str) -> Output {
    let words: Vec<String> = container["command"]
        .as_array()
        .into_iter()
        .chain(container["args"].as_array())
        .flatten()
        .map(|word| expand(word.as_str().expect("a string"), env))
        .collect();
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]).envs(env).env("PATH", path);
    command.output().expect("run the container's command")
}

fn pod_spec(document: &Value) -> &Value {
    &document["spec"]["template"]["spec"]
}

#[test]
fn the_indexed_job_runs_as_local_shards_and_the_merge_job_adds_them_up() {
    // The broker of broker.yaml: its ConfigMap's configuration, on a loopback port.
    let broker_docs = documents(&folder().join("broker.yaml"));
    let config = broker_docs[0]["data"]["mosquitto.conf"]
        .as_str()
        .expect("mosquitto.conf");
    let config: String = config
        .lines()
        .filter(|line| !line.starts_with("listener "))
        .map(|line| format!("{line}\n"))
        .collect();
    let broker = Broker::with_config(&config);

    // `mqtt-cli` on PATH, as in the image.
    let bin = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mqtt-cli"), bin.path().join("mqtt-cli"))
        .expect("symlink");
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let reports = tempfile::tempdir().expect("tempdir");
    let reports_dir = reports.path().display().to_string();

    let job = &documents(&folder().join("bench-job.yaml"))[0];
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let bench = &pod_spec(job)["containers"][0];
    let shards: Vec<std::thread::JoinHandle<Output>> = (0..completions)
        .map(|index| {
            let env = environment(
                bench,
                &[
                    ("BROKER_HOST", "127.0.0.1".into()),
                    ("BROKER_PORT", broker.port.to_string()),
                    ("CLIENTS", "2".into()),
                    ("RATE", "20".into()),
                    ("DURATION", "2s".into()),
                    ("REPORTS", reports_dir.clone()),
                    ("METRICS_LISTEN", "127.0.0.1:0".into()),
                    ("JOB_COMPLETION_INDEX", index.to_string()),
                ],
            );
            assert_eq!(
                env["SHARDS"],
                completions.to_string(),
                "SHARDS != completions"
            );
            let (bench, path) = (bench.clone(), path.clone());
            std::thread::spawn(move || run_container(&bench, &env, &path))
        })
        .collect();
    for shard in shards {
        let out = shard.join().expect("shard");
        assert_code(&out, 0);
    }

    let merge = &documents(&folder().join("merge-job.yaml"))[0];
    let spec = pod_spec(merge);
    let overrides = [("REPORTS", reports_dir.clone())];
    let wait = &spec["initContainers"][0];
    assert_code(
        &run_container(wait, &environment(wait, &overrides), &path),
        0,
    );
    let container = &spec["containers"][0];
    let out = run_container(container, &environment(container, &overrides), &path);
    assert_code(&out, 0);
    let table = stdout(&out);
    let processes = format!("{completions} processes");
    assert!(table.contains(&processes), "{table}");
    assert!(table.contains("lost 0, duplicated 0"), "{table}");
    // Each shard's 2 clients published to its own subscriber only.
    let sent: u64 = table
        .split("messages     sent ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|sent| sent.parse().ok())
        .expect("sent");
    assert!(
        table.contains(&format!("received {sent} of {sent} expected")),
        "{table}"
    );
}
