#!/usr/bin/env bash
# What --decode costs `sub`: drains N queued QoS 1 messages with and without decoding, the same
# messages, in one run against one local mosquitto, and prints the ratios next to the targets
# (issue 24: at most 1.5x plain `sub`), with the peak memory of each drain.
#
#   scripts/bench-decode.sh            # N=100000
#   N=20000 scripts/bench-decode.sh    # smaller
#
# protobuf: a 10-field message (acme.Reading below); sparkplug: NDATA with 10 aliased metrics,
# after its NBIRTH. Needs: mosquitto, GNU time (/usr/bin/time). Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
RUNS=${RUNS:-3}   # each drain: best of RUNS, plain and decoded alike
command -v /usr/bin/time >/dev/null || { echo "bench-decode: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

cargo build --release --quiet
BIN=$PWD/target/release/mqtt-cli
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/mosquitto.conf" <<CONF
user root
persistence false
allow_anonymous true
max_queued_messages 1000000
listener $PORT 127.0.0.1
CONF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
C=(-h 127.0.0.1 -p "$PORT")

cat > "$WORK/acme.proto" <<'PROTO'
syntax = "proto3";
package acme;
enum Unit { UNIT_UNSPECIFIED = 0; CELSIUS = 1; }
message Reading {
  string sensor_id = 1; double value = 2; Unit unit = 3; int64 at_ms = 4; uint32 seq = 5;
  float humidity = 6; bool ok = 7; string room = 8; sint32 delta = 9; uint64 counter = 10;
}
PROTO
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"sensor_id\":\"s-%d\",\"value\":%d.5,\"unit\":\"CELSIUS\",\"at_ms\":\"%d\",\"seq\":%d,\"humidity\":0.5,\"ok\":true,\"room\":\"lab\",\"delta\":-%d,\"counter\":\"%d\"}\n", i % 100, i, 1796300000000 + i, i, i % 7, i }' \
    > "$WORK/readings"
# seq given: the NBIRTH (seq 0) was another run's.
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) { printf "{\"seq\":%d,\"metrics\":[", i % 256
    for (m = 1; m <= 10; m++) printf "%s{\"alias\":%d,\"type\":\"Double\",\"value\":%d.25}", (m > 1 ? "," : ""), m, i + m
    printf "]}\n" } }' > "$WORK/ndata"
birth=$(awk 'BEGIN { printf "{\"metrics\":["
    for (m = 1; m <= 10; m++) printf "%s{\"name\":\"Line/Metric %d\",\"alias\":%d,\"type\":\"Double\",\"value\":0}", (m > 1 ? "," : ""), m, m
    printf "]}" }')

PB=(--decode protobuf:acme.Reading --proto "$WORK/acme.proto")
SP=(--decode sparkplug)
# Queues N messages for each session named (persistent, subscribed first), on topic $1.
queue() { # topic publish-args...
    local topic=$1; shift
    for session in plain decoded; do "$BIN" sub "${C[@]}" -t "$topic" -q 1 -c -i "$session-$topic" -E; done
    "$BIN" pub "${C[@]}" -t "$topic" -q 1 "$@"
}
# Drains one session; prints "microseconds peak-KiB lines".
drain() { # session topic decode-args...
    local session=$1 topic=$2; shift 2
    local start=${EPOCHREALTIME/./}
    /usr/bin/time -f %M -o "$WORK/rss" "$BIN" sub "${C[@]}" -t "$topic" -q 1 -c -i "$session-$topic" -C "$N" "$@" > "$WORK/out"
    local end=${EPOCHREALTIME/./}
    echo "$(( end - start )) $(tail -1 "$WORK/rss") $(wc -l < "$WORK/out")"
}
best() { sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf '%-44s %10s %10s %8s %8s\n' "drain $N queued QoS 1 (best of $RUNS)" "decoded" "plain" "ratio" "target"
for codec in protobuf sparkplug; do
    plain_us=() decoded_us=() plain_kib=0 decoded_kib=0
    for _ in $(seq "$RUNS"); do
        if [ "$codec" = protobuf ]; then
            queue bench/pb --encode protobuf:acme.Reading --proto "$WORK/acme.proto" -l < "$WORK/readings"
            read -r us kib lines <<<"$(drain decoded bench/pb "${PB[@]}")"
            decoded_us+=("$us"); decoded_kib=$kib; decoded_lines=$lines
            read -r us kib lines <<<"$(drain plain bench/pb)"
            plain_us+=("$us"); plain_kib=$kib
        else
            topic=spBv1.0/Bench/NDATA/edge
            for session in plain decoded; do "$BIN" sub "${C[@]}" -t 'spBv1.0/Bench/#' -q 1 -c -i "$session-sp" -E; done
            "$BIN" pub "${C[@]}" -t spBv1.0/Bench/NBIRTH/edge -q 1 --encode sparkplug -m "$birth"
            "$BIN" pub "${C[@]}" -t "$topic" -q 1 --encode sparkplug -l < "$WORK/ndata"
            start=${EPOCHREALTIME/./}
            /usr/bin/time -f %M -o "$WORK/rss" "$BIN" sub "${C[@]}" -t 'spBv1.0/Bench/#' -q 1 -c -i decoded-sp -C $((N + 1)) "${SP[@]}" > "$WORK/out"
            end=${EPOCHREALTIME/./}
            decoded_us+=("$(( end - start ))"); decoded_kib=$(tail -1 "$WORK/rss"); decoded_lines=$(wc -l < "$WORK/out")
            grep -q '"name":"Line/Metric 10"' <(tail -1 "$WORK/out") || { echo "bench-decode: sparkplug names not resolved" >&2; exit 1; }
            start=${EPOCHREALTIME/./}
            /usr/bin/time -f %M -o "$WORK/rss" "$BIN" sub "${C[@]}" -t 'spBv1.0/Bench/#' -q 1 -c -i plain-sp -C $((N + 1)) > "$WORK/out"
            end=${EPOCHREALTIME/./}
            plain_us+=("$(( end - start ))"); plain_kib=$(tail -1 "$WORK/rss")
        fi
    done
    d=$(printf '%s\n' "${decoded_us[@]}" | best); p=$(printf '%s\n' "${plain_us[@]}" | best)
    r=$(ratio "$d" "$p")
    printf '%-44s %8sms %8sms %8s %8s %s\n' "  --decode $codec ($decoded_lines lines)" "$((d / 1000))" "$((p / 1000))" "$r" "<=1.5" \
        "$(awk -v r="$r" 'BEGIN { print (r <= 1.5 ? "ok" : "MISS") }')"
    printf '%-44s %8sKiB %7sKiB %8s\n' "  peak RSS" "$decoded_kib" "$plain_kib" "$(ratio "$decoded_kib" "$plain_kib")"
done
