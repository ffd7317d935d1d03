//! The shape of the house, as rules a test can check: data flows one way (no import circle),
//! `lib.rs` is dispatch only and nothing under `commands` reaches up into it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let output = Command::new("python3")
        .arg(root().join("scripts/import-circles.py"))
        .arg(root().join("src"))
        .output()
        .expect("python3 runs scripts/import-circles.py");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "import circles:\n{text}");
    assert!(text.contains("0 files in 0 circle(s)"), "{text}");
}

#[test]
fn no_function_is_over_80_lines() {
    let output = Command::new("python3")
        .arg(root().join("scripts/long-functions.py"))
        .arg(root().join("src"))
        .arg("80")
        .output()
        .expect("python3 runs scripts/long-functions.py");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "long-functions.py failed:\n{text}");
    assert!(
        text.ends_with("0 function(s) over 80 lines\n"),
        "split these (a table that is clearer long may stay, with a reason here):\n{text}"
    );
}

#[test]
fn lib_rs_is_dispatch_only() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("read src/lib.rs");
    let lines = lib.lines().count();
    assert!(lines < 100, "src/lib.rs has {lines} lines: dispatch only");
    // What lib.rs defines, and nothing below it may use.
    for item in ["Prepared", "prepare", "run"] {
        assert!(
            lib.contains(&format!("pub enum {item}")) || lib.contains(&format!("fn {item}")),
            "lib.rs defines {item}"
        );
    }
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for file in files {
        if file.ends_with("src/lib.rs") || file.ends_with("src/main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for item in ["Prepared", "prepare", "run"] {
            for spelling in [format!("crate::{item}"), format!("crate::{{{item}")] {
                assert!(
                    !text.contains(&spelling),
                    "{} reaches up into lib.rs ({spelling})",
                    file.display()
                );
            }
        }
    }
}
