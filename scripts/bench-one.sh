#!/usr/bin/env bash
# One publish, process start to exit, mqtt-cli against mosquitto_pub at QoS 0 and QoS 1: the
# tools take turns (both see the same moments of this machine), RUNS each, medians and their
# ratio. What CI scripts and blinking loops are made of.
#
#   scripts/bench-one.sh            # RUNS=60
#   BIN=target/release/mqtt-cli RUNS=100 scripts/bench-one.sh
#
# Needs mosquitto and mosquitto-clients. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-60}
BIN=${BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release --quiet
    BIN=$PWD/target/release/mqtt-cli
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n' "$PORT" > "$WORK/m.conf"
"$MOSQUITTO" -c "$WORK/m.conf" > "$WORK/broker.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$WORK"' EXIT
until grep -q "listen socket on port $PORT" "$WORK/broker.log"; do  # stderr: unbuffered
    kill -0 $BROKER 2>/dev/null || { cat "$WORK/broker.log"; exit 1; }
    sleep 0.05
done

one() { # tool qos: the wall time of one publish, in microseconds
    local start=${EPOCHREALTIME/./}
    if [ "$1" = ours ]; then
        "$BIN" pub -h 127.0.0.1 -p "$PORT" -t bench/one -m hello -q "$2"
    else
        mosquitto_pub -h 127.0.0.1 -p "$PORT" -t bench/one -m hello -q "$2"
    fi
    local end=${EPOCHREALTIME/./}
    echo $(( end - start ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-28s %10s %14s %7s %s\n' "one publish (median of $RUNS)" mqtt-cli mosquitto_pub ratio target
for qos in 0 1; do
    ours=() theirs=()
    for _ in $(seq "$RUNS"); do
        ours+=("$(one ours "$qos")")
        theirs+=("$(one theirs "$qos")")
    done
    m=$(printf '%s\n' "${ours[@]}" | median)
    o=$(printf '%s\n' "${theirs[@]}" | median)
    ratio=$(awk -v a="$m" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.10) ? "ok" : "MISS" }')
    printf '%-28s %8sus %12sus %7s <=1.10 %s\n' "  QoS $qos" "$m" "$o" "$ratio" "$verdict"
done
