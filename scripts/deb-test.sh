#!/usr/bin/env bash
# The Debian package, built, installed, used and removed (run by .ci/run; needs root, dpkg,
# cargo-deb, mosquitto, man-db and bash-completion):
#   1. scripts/deb.sh builds it from the debug build `cargo test` made (the release build's
#      whole-program optimisation would add minutes and changes nothing packaged);
#   2. dpkg -i installs it; man -w finds every page; bash-completion loads its completion as
#      on TAB; zsh's and fish's scripts are where those shells look;
#   3. a retained publish to a mosquitto on a free loopback port, read back by a subscriber;
#   4. dpkg -r removes it, and every file it installed is gone.
set -euo pipefail
cd "$(dirname "$0")/.."
# dpkg needs ldconfig and start-stop-daemon (sbin), whatever PATH this was started with.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }

dpkg -s mqtt-cli >/dev/null 2>&1 && dpkg -r mqtt-cli >/dev/null
scripts/deb.sh dev
target="${CARGO_TARGET_DIR:-target}"
deb=$(ls -t "$target"/debian/mqtt-cli_*.deb | head -1)
echo "deb-test: $deb"
dpkg -i "$deb" >/dev/null
files=$(dpkg -L mqtt-cli | while read -r path; do [ -f "$path" ] && echo "$path"; done)
echo "$files" | grep -qx /usr/bin/mqtt-cli || fail "no /usr/bin/mqtt-cli"
for file in /usr/share/bash-completion/completions/mqtt-cli \
    /usr/share/zsh/vendor-completions/_mqtt-cli \
    /usr/share/fish/vendor_completions.d/mqtt-cli.fish \
    /usr/share/doc/mqtt-cli/copyright /usr/share/doc/mqtt-cli/README.md; do
    echo "$files" | grep -qx "$file" || fail "$file is not in the package"
done

# The installed binary, not one from a checkout or ~/.cargo/bin.
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH
[ "$(command -v mqtt-cli)" = /usr/bin/mqtt-cli ] || fail "mqtt-cli is not /usr/bin/mqtt-cli"
mqtt-cli --version | grep -q "^mqtt-cli " || fail "--version"
for page in mqtt-cli mqtt-cli-pub mqtt-cli-sub mqtt-cli-bench-pub; do
    [ "$(man -w "$page")" = "/usr/share/man/man1/$page.1.gz" ] || fail "man -w $page: $(man -w "$page" 2>&1)"
done
man mqtt-cli 2>/dev/null | grep -q "EXIT STATUS\|Exit codes" || fail "man mqtt-cli does not render"
# As on TAB: bash-completion (a login shell loads it) loads the script on first use.
spec=$(bash -lic '__load_completion mqtt-cli; complete -p mqtt-cli' 2>/dev/null)
echo "$spec" | grep -q -- "-F .* mqtt-cli$" || fail "bash: no completion for mqtt-cli: $spec"

# A publish, through a real broker on a free loopback port.
dir=$(mktemp -d)
trap 'kill "$broker" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n' "$port" > "$dir/mosquitto.conf"
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -c "$dir/mosquitto.conf" > "$dir/broker.log" 2>&1 &
broker=$!
# Ready when its own log says it listens (stderr: unbuffered).
until grep -q "Opening ipv4 listen socket on port $port" "$dir/broker.log"; do
    kill -0 "$broker" 2>/dev/null || fail "mosquitto did not start: $(cat "$dir/broker.log")"
    sleep 0.1
done
mqtt-cli pub -h 127.0.0.1 -p "$port" -t deb/test -m installed -q 1 -r || fail "publish"
got=$(mqtt-cli sub -h 127.0.0.1 -p "$port" -t deb/test -C 1 -W 10s) || fail "subscribe"
[ "$got" = installed ] || fail "received '$got'"

dpkg -r mqtt-cli >/dev/null
for file in $files; do
    [ ! -e "$file" ] || fail "$file is left after dpkg -r"
done
dpkg -s mqtt-cli 2>/dev/null | grep -q "^Status: install ok installed" && fail "still installed"
echo "deb-test: built, installed, used and removed cleanly ($(echo "$files" | wc -l) files)"
