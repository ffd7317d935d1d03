#!/usr/bin/env bash
# `bench conn` at the per-process file limit, the targets of issue 26, in one run against one
# local mosquitto:
#
#   1. bench conn -c CONNS (19000): connections/s and client memory per idle connection
#      (best of RUNS turns), targets >= 10000/s and <= 8 KiB; MQTT 5 beside it;
#   2. the process's wakeups while it holds CONNS idle connections with a KEEPALIVE-second
#      keep-alive: context switches of all its threads over WINDOW seconds, against the pings
#      due in that time (one per connection per keep-alive);
#   3. with BASE=<commit>, the same for that commit, built in a scratch worktree, side by side
#      (e.g. BASE=6484426, the code before issue 26's connection work).
#
#   scripts/bench-conn.sh
#   BASE=6484426 CONNS=19000 scripts/bench-conn.sh
#
# Needs: mosquitto, python3, an open-file hard limit above CONNS + 100. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-19000}
RUNS=${RUNS:-3}
KEEPALIVE=${KEEPALIVE:-5}
WINDOW=${WINDOW:-10}
BASE=${BASE:-}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
command -v python3 >/dev/null || { echo "bench-conn: python3 is missing" >&2; exit 2; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((CONNS + 100)) ] || { echo "bench-conn: ulimit -n $(ulimit -n) is below $((CONNS + 100))" >&2; exit 2; }

WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cat > "$WORK/mosquitto.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
max_connections -1
persistence false
EOF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; [ -n "$BASE" ] && git worktree remove --force "$WORK/base" 2>/dev/null; rm -rf "$WORK"' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null; do sleep 0.1; done

json() { python3 -c "import json, sys; r = json.load(sys.stdin); print($1)"; }

# The best connections/s and the smallest memory per connection of RUNS turns.
conn_figures() {
    local bin=$1 protocol=$2 best_rate=0 best_mem=999999 p99=
    for _ in $(seq "$RUNS"); do
        "$bin" bench conn -h 127.0.0.1 -p "$PORT" -V "$protocol" -c "$CONNS" --duration 2s --json > "$WORK/conn.json"
        local connected rate mem
        connected=$(json 'r["connections"]["connected"]' < "$WORK/conn.json")
        [ "$connected" = "$CONNS" ] || { echo "bench-conn: only $connected of $CONNS connected" >&2; exit 1; }
        rate=$(json 'round(r["rate"]["connections_per_s"])' < "$WORK/conn.json")
        mem=$(json 'round(r["memory"]["per_connection_bytes"] / 1024, 1)' < "$WORK/conn.json")
        p99=$(json 'r["latency_ms"]["connect"]["p99"]' < "$WORK/conn.json")
        best_rate=$(python3 -c "print(max($best_rate, $rate))")
        best_mem=$(python3 -c "print(min($best_mem, $mem))")
    done
    echo "$best_rate $best_mem $p99"
}

# Context switches of every thread of the process holding the connections, over WINDOW s.
wakeups() {
    local bin=$1
    "$bin" bench conn -h 127.0.0.1 -p "$PORT" -c "$CONNS" -k "$KEEPALIVE" --duration $((WINDOW + 2 * KEEPALIVE + 5))s --json > "$WORK/hold.json" &
    local pid=$!
    sleep $((2 * KEEPALIVE + 3))   # all connected, and every connection past its first ping
    switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }
    local before after
    before=$(switches); sleep "$WINDOW"; after=$(switches)
    wait "$pid"
    python3 -c "print(round(($after - $before) / $WINDOW))"
}

row() {
    local name=$1 bin=$2
    read -r rate mem p99 <<< "$(conn_figures "$bin" 4)"
    read -r rate5 mem5 _ <<< "$(conn_figures "$bin" 5)"
    local woke; woke=$(wakeups "$bin")
    local pings=$((CONNS / KEEPALIVE))
    echo "| $name | $rate (CONNACK p99 $p99 ms) | $mem KiB | $rate5 | $mem5 KiB | $woke/s for $pings pings/s |"
}

cargo build --release --quiet
echo "bench conn -c $CONNS against mosquitto on 127.0.0.1 (best of $RUNS; wakeups with -k $KEEPALIVE over $WINDOW s)"
echo
echo "| build | connections/s, 3.1.1 | memory per idle connection, 3.1.1 | connections/s, 5 | memory, 5 | context switches while idle |"
echo "|---|---|---|---|---|---|"
row "this tree" "$PWD/target/release/mqtt-cli"
if [ -n "$BASE" ]; then
    git worktree add --detach --force "$WORK/base" "$BASE" >/dev/null 2>&1
    (cd "$WORK/base" && CARGO_TARGET_DIR="$WORK/base-target" cargo build --release --quiet)
    row "$BASE" "$WORK/base-target/release/mqtt-cli"
fi
echo
echo "targets: >= 10000 connections/s, <= 8 KiB per idle connection (MQTT 3.1.1)"
