#!/usr/bin/env bash
# Builds target/debian/mqtt-cli_<version>_<arch>.deb: the binary, its man pages and its
# completion scripts (written by the binary itself), README and licences.
#   scripts/deb.sh              the release build (whole-program optimised: minutes)
#   scripts/deb.sh dev          the debug build `cargo test` already made, for CI's package test
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
command -v cargo-deb >/dev/null 2>&1 || {
    echo "scripts/deb.sh: cargo-deb is missing: cargo install cargo-deb" >&2
    exit 1
}
cargo build --locked --profile "$profile"
target="${CARGO_TARGET_DIR:-target}"
dir="$profile"
[ "$profile" = dev ] && dir=debug
binary="$target/$dir/mqtt-cli"
# Cargo.toml names them under ./target whatever CARGO_TARGET_DIR says (cargo-deb maps only the
# binary's path to the real target directory).
assets="target/deb-assets"
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions"
"$binary" man --out "$assets/man" 2>/dev/null
gzip -9n "$assets/man"/*.1
"$binary" completions bash > "$assets/completions/mqtt-cli"
"$binary" completions zsh > "$assets/completions/_mqtt-cli"
"$binary" completions fish > "$assets/completions/mqtt-cli.fish"
cargo deb --no-build --profile "$profile" --output "$target/debian/"
