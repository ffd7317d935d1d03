#!/usr/bin/env python3
"""How far vendor/rumqttc is from upstream rumqttc 0.25.1, outside test code: from each .rs file
the #[cfg(test)] items are taken out (a module, to its closing brace: code after a test module
still counts), files only tests use left out; added plus removed lines per file.
Also every `mqtt-cli patch` marker must carry its number (`mqtt-cli patch 12`).

usage: scripts/fork-diff.py [--max N]   (exit 1 above N lines, or on an unnumbered marker)
The upstream crate is fetched by cargo into its registry when it is not there yet."""
import difflib, glob, os, re, subprocess, sys, tempfile

VERSION = "0.25.1"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fork = os.path.join(root, "vendor", "rumqttc", "src")
limit = int(sys.argv[sys.argv.index("--max") + 1]) if "--max" in sys.argv else None


def upstream_dir():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    pattern = os.path.join(home, "registry", "src", "*", f"rumqttc-{VERSION}")
    found = glob.glob(pattern)
    if not found:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
                f.write(f'[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n'
                        f'[dependencies]\nrumqttc = "={VERSION}"\n')
            os.makedirs(os.path.join(tmp, "src"))
            open(os.path.join(tmp, "src", "lib.rs"), "w").close()
            subprocess.run(["cargo", "fetch", "--quiet"], cwd=tmp, check=True)
        found = glob.glob(pattern)
    if not found:
        sys.exit(f"fork-diff: rumqttc {VERSION} not found under {pattern}")
    return os.path.join(found[0], "src")


def code(path):
    """The file's lines without its #[cfg(test)] items (none for a file that is only tests)."""
    if not os.path.exists(path):
        return []
    text = open(path, encoding="utf-8").read()
    if re.match(r"\s*(//[^\n]*\n\s*)*#!\[cfg\(test\)\]", text):
        return []
    lines, kept, skipping, depth, opened = text.splitlines(), [], False, 0, False
    for line in lines:
        if not skipping and line.strip().startswith("#[cfg(test)]"):
            skipping, depth, opened = True, 0, False
            continue
        if skipping:
            bare = re.sub(r'"([^"\\]|\\.)*"|//.*', "", line)
            depth += bare.count("{") - bare.count("}")
            opened = opened or "{" in bare
            if (opened and depth <= 0) or (not opened and bare.rstrip().endswith(";")):
                skipping = False
            continue
        kept.append(line)
    return kept


def files(top):
    return {os.path.relpath(p, top) for p in glob.glob(os.path.join(top, "**", "*.rs"), recursive=True)
            if "/tests/" not in p and not p.endswith("_test.rs")}


upstream = upstream_dir()
total = 0
rows = []
for name in sorted(files(upstream) | files(fork)):
    added = removed = 0
    for line in difflib.unified_diff(code(os.path.join(upstream, name)), code(os.path.join(fork, name)),
                                     lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    if added or removed:
        rows.append((name, added, removed))
        total += added + removed
unnumbered = []
for path in sorted(glob.glob(os.path.join(fork, "**", "*.rs"), recursive=True)):
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if "mqtt-cli patch" in line and not re.search(r"mqtt-cli patch \d+", line):
            unnumbered.append(f"{os.path.relpath(path, fork)}:{number}")
for name, added, removed in rows:
    print(f"{added + removed:5}  +{added:<4} -{removed:<4} {name}")
print(f"{total} lines (+{sum(r[1] for r in rows)} -{sum(r[2] for r in rows)}) in {len(rows)} files "
      f"differ from rumqttc {VERSION} outside tests; {len(unnumbered)} unnumbered marker(s)")
for place in unnumbered:
    print(f"unnumbered: {place}")
if unnumbered or (limit is not None and total > limit):
    sys.exit(1)
