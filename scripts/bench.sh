#!/usr/bin/env bash
# Benchmark mqtt-cli against mosquitto_pub / mosquitto_sub on the same work, in one run, against
# one local mosquitto, and print the ratios next to the targets.
#
#   scripts/bench.sh            # N=100000 messages of 64 bytes
#   N=20000 scripts/bench.sh    # smaller
#
# Needs: mosquitto, mosquitto-clients, GNU time (/usr/bin/time). Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
RUNS=${RUNS:-3}            # each publish measurement: best of RUNS, for both tools alike
SINGLE_RUNS=${SINGLE_RUNS:-30}
for tool in mosquitto_pub mosquitto_sub /usr/bin/time openssl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y mosquitto mosquitto-clients time openssl)" >&2; exit 2; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

cargo build --release --quiet
BIN=$PWD/target/release/mqtt-cli

WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
TLS_PORT=$(free_port)
# A CA and a server certificate for localhost, made as users make them (openssl, v3 with SAN).
(
    cd "$WORK"
    openssl req -new -x509 -days 2 -keyout ca.key -out ca.crt -nodes -subj "/CN=bench CA" 2>/dev/null
    openssl genrsa -out server.key 2048 2>/dev/null
    openssl req -new -key server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\n' > v3.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
        -days 2 -extfile v3.ext 2>/dev/null
)
cat > "$WORK/mosquitto.conf" <<CONF
user root
persistence false
allow_anonymous true
max_queued_messages 1000000
listener $PORT 127.0.0.1
listener $TLS_PORT 127.0.0.1
cafile $WORK/ca.crt
certfile $WORK/server.crt
keyfile $WORK/server.key
CONF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "%064d\n", i }' > "$WORK/lines"
C=(-h 127.0.0.1 -p "$PORT")

now_us() { echo $(( $(date +%s%N) / 1000 )); }
TICK_MS=$(( 1000 / $(getconf CLK_TCK) ))
# CPU time (user + system) the broker has used so far, in ms.
broker_cpu_ms() { awk -v t="$TICK_MS" '{ print ($14 + $15) * t }' "/proc/$BROKER/stat"; }
# Time the broker was running or ready to run (waiting for a core), in ms: the rest of the wall
# time it slept, having nothing to do. From the scheduler's own account (/proc/PID/schedstat).
broker_busy_ms() { awk '{ printf "%d", ($1 + $2) / 1000000 }' "/proc/$BROKER/schedstat"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "ok" : "MISS" }'; }

# Publishes the lines with one tool; a mosquitto_sub counts what arrives. The counter subscribes
# at QoS 0 so that the time measures the publisher's QoS flow, not the subscriber's own handshake.
# Prints: pub_exit_us delivered_us delivered_count broker_cpu_ms broker_busy_ms
publish_once() { # tool qos
    local tool=$1 qos=$2 topic="bench/$1/$2/$RANDOM"
    mosquitto_sub "${C[@]}" -t "$topic" -q 0 -C "$N" -W 120 > "$WORK/received" 2>/dev/null &
    local counter=$!
    sleep 0.3
    local cpu0; cpu0=$(broker_cpu_ms)
    local busy0; busy0=$(broker_busy_ms)
    local start; start=$(now_us)
    if [ "$tool" = mqtt-cli ]; then
        "$BIN" pub "${C[@]}" -t "$topic" -l -q "$qos" < "$WORK/lines"
    else
        mosquitto_pub "${C[@]}" -t "$topic" -l -q "$qos" < "$WORK/lines"
    fi
    local exited; exited=$(now_us)
    # A lossy publisher never completes the count: stop waiting 2 s after it exited.
    ( sleep 2; kill $counter 2>/dev/null ) & local killer=$!
    wait $counter 2>/dev/null || true
    kill $killer 2>/dev/null || true
    local done_at; done_at=$(now_us)
    local cpu=$(( $(broker_cpu_ms) - cpu0 ))
    local busy=$(( $(broker_busy_ms) - busy0 ))
    local got; got=$(wc -l < "$WORK/received")
    if [ "$got" -eq "$N" ]; then echo "$((exited - start)) $((done_at - start)) $got $cpu $busy"; else echo "$((exited - start)) - $got $cpu $busy"; fi
}

# Best of RUNS (by time to exit); a run that lost messages is reported as such.
publish_run() { # tool qos
    local best="" line
    for _ in $(seq "$RUNS"); do
        line=$(publish_once "$1" "$2")
        if [ -z "$best" ] || [ "${line%% *}" -lt "${best%% *}" ]; then best=$line; fi
    done
    echo "$best"
}

echo "mqtt-cli $("$BIN" --version | cut -d' ' -f2) vs $(mosquitto_pub --help | sed -n 2p)"
echo "N=$N lines of 64 bytes; publish figures are the best of $RUNS runs; $(nproc) cores"
echo
printf '%-40s %12s %12s %8s %8s %s\n' "work" "mqtt-cli" "mosquitto" "ratio" "target" ""
row() { # label ours theirs unit target verdict-limit
    local r; r=$(ratio "$2" "$3")
    printf '%-40s %10s%s %10s%s %8s %8s %s\n' "$1" "$2" "$4" "$3" "$4" "$r" "$5" "${6:+$(verdict "$r" "$6")}"
}
ms() { [ "$1" = - ] && echo - || echo $(( $1 / 1000 )); }
for qos in 0 1 2; do
    read -r m_exit m_done m_got m_cpu m_busy <<<"$(publish_run mqtt-cli $qos)"
    read -r o_exit o_done o_got o_cpu _ <<<"$(publish_run mosquitto $qos)"
    printf '%-40s %12s %12s\n' "pub -l QoS $qos: delivered" "$m_got/$N" "$o_got/$N"
    row "  time to exit" "$(ms "$m_exit")" "$(ms "$o_exit")" ms "-"
    # 1.00: the broker was busy the whole time; above it waited for us.
    [ "$m_done" != - ] && row "  mqtt-cli: wall until delivered / broker CPU" "$(ms "$m_done")" "$m_cpu" ms "<=1.10" 1.10
    # The same, counting the time the broker was ready but waiting for a core (three busy
    # processes on this machine's cores) as busy: above 1.00 only when it slept, waiting for us.
    [ "$m_done" != - ] && row "  mqtt-cli: wall / broker running or ready" "$(ms "$m_done")" "$m_busy" ms "<=1.10" 1.10
    if [ $qos = 0 ]; then
        Q0_DONE=$o_done
        # mqtt-cli exits once the broker has closed the connection after DISCONNECT, i.e. has
        # taken every message; mosquitto_pub exits with messages still in socket buffers. The
        # comparable figure is the time until the subscriber has them all.
        row "  time until all delivered" "$(ms "$m_done")" "$(ms "$o_done")" ms "<=1.0" 1.0
        row "  broker CPU during the run" "$m_cpu" "$o_cpu" ms "-"
    elif [ "$m_done" = - ]; then
        printf '%-40s %12s\n' "  all delivered vs mosquitto_pub QoS 0" "LOST: MISS"
    else
        # No target: it depends on the broker's speed (issue 12), the ratio above is the target.
        row "  all delivered vs mosquitto_pub QoS 0" "$(ms "$m_done")" "$(ms "$Q0_DONE")" ms "-"
        # The broker is single-threaded: the time cannot be shorter than the CPU it needs.
        row "  broker CPU vs mosquitto_pub QoS 0 time" "$m_cpu" "$(ms "$Q0_DONE")" ms "-"
    fi
done

# Drain: two persistent sessions, one per tool, each with N queued QoS 1 messages.
"$BIN" sub "${C[@]}" -t bench/drain -q 1 -c -i drain-mqtt-cli -E
mosquitto_sub "${C[@]}" -t bench/drain -q 1 -c -i drain-mosquitto -E
"$BIN" pub "${C[@]}" -t bench/drain -l -q 1 < "$WORK/lines"
start=$(now_us); got_m=$("$BIN" sub "${C[@]}" -t bench/drain -q 1 -c -i drain-mqtt-cli -C "$N" | wc -l); m=$(( $(now_us) - start ))
start=$(now_us); got_o=$(mosquitto_sub "${C[@]}" -t bench/drain -q 1 -c -i drain-mosquitto -C "$N" | wc -l); o=$(( $(now_us) - start ))
printf '%-40s %12s %12s\n' "sub drain $N queued QoS 1 | wc -l" "$got_m/$N" "$got_o/$N"
row "  time" "$(ms "$m")" "$(ms "$o")" ms "<=1.0" 1.0

# One publish, process start to exit: the two tools take turns (so that both see the same
# moments of this machine), SINGLE_RUNS each; the median of each. Peak memory of one run.
one_publish() { # tool tls(0|1): prints the wall time of one run in us
    local where=("${C[@]}")
    [ "$2" = 1 ] && where=(-h localhost -p "$TLS_PORT" --cafile "$WORK/ca.crt")
    # $EPOCHREALTIME, not date(1): no process of its own inside the measured time.
    local start=${EPOCHREALTIME/./}
    if [ "$1" = mqtt-cli ]; then
        "$BIN" pub "${where[@]}" -t bench/one -m hello
    else
        mosquitto_pub "${where[@]}" -t bench/one -m hello
    fi
    local end=${EPOCHREALTIME/./}
    echo $(( end - start ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
single_pair() { # tls(0|1): prints "ours theirs", the medians
    local ours=() theirs=()
    for _ in $(seq "$SINGLE_RUNS"); do
        ours+=("$(one_publish mqtt-cli "$1")")
        theirs+=("$(one_publish mosquitto "$1")")
    done
    echo "$(printf '%s\n' "${ours[@]}" | median) $(printf '%s\n' "${theirs[@]}" | median)"
}
read -r m o <<<"$(single_pair 0)"
row "single publish, wall (median of $SINGLE_RUNS)" "$m" "$o" us "<=1.1" 1.1
# Over TLS (verified against the CA): mosquitto holds the CONNACK until its session tickets are
# acknowledged, which a client that delays its ACKs makes wait 40 ms.
read -r m o <<<"$(single_pair 1)"
row "single TLS publish, wall (median of $SINGLE_RUNS)" "$m" "$o" us "<=0.3" 0.3
m_rss=$(/usr/bin/time -f %M "$BIN" pub "${C[@]}" -t bench/one -m hello 2>&1 >/dev/null | tail -1)
o_rss=$(/usr/bin/time -f %M mosquitto_pub "${C[@]}" -t bench/one -m hello 2>&1 >/dev/null | tail -1)
printf '%-40s %9sKiB %9sKiB %8s %8s %s\n' "single publish, peak RSS" "$m_rss" "$o_rss" "$(ratio "$m_rss" "$o_rss")" "<=16MiB" \
    "$([ "$m_rss" -le 16384 ] && echo ok || echo MISS)"
