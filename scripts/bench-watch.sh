#!/usr/bin/env bash
# Does `sub --watch` keep up? Publishes N messages over TOPICS topics at RATE messages a second
# (a `pub --replay --replay-timing` capture) to a local mosquitto while `sub --watch` runs in a
# real terminal (tmux, 200x50), and reads its screen: how many messages it shows when the
# publisher ends and how long after that it shows them all, its peak memory, and memory per topic.
#
#   scripts/bench-watch.sh                       # TOPICS=100000 N=200000 RATE=10000
#   TOPICS=10000 N=50000 scripts/bench-watch.sh  # smaller
#   SORT=rate scripts/bench-watch.sh             # the busiest first (sorted every frame)
#
# Needs: mosquitto, tmux, python3. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."

TOPICS=${TOPICS:-100000}
N=${N:-200000}
RATE=${RATE:-10000}
SORT=${SORT:-arrival}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
command -v tmux >/dev/null || { echo "bench-watch: tmux is missing (apt-get install -y tmux)" >&2; exit 2; }

cargo build --release --quiet
BIN=$PWD/target/release/mqtt-cli
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCKET="bench-watch-$$"
cat > "$WORK/mosquitto.conf" <<CONF
user root
persistence false
allow_anonymous true
log_type all
listener $PORT 127.0.0.1
CONF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER=$!
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null; kill $BROKER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done

# The capture: message i on topic i mod TOPICS, timestamps RATE a second.
python3 - "$N" "$TOPICS" "$RATE" > "$WORK/capture.jsonl" <<'PY'
import sys, datetime
n, topics, rate = map(int, sys.argv[1:])
start = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)
for i in range(n):
    at = start + datetime.timedelta(microseconds=i * 1_000_000 // rate)
    print('{"timestamp":"%s","topic":"bench/%d/value","payload":"%d"}'
          % (at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), i % topics, i))
PY

tmux -L "$SOCKET" -f /dev/null new-session -d -x 200 -y 50 \
    "'$BIN' sub -p $PORT -t 'bench/#' --watch --sort $SORT -i watcher; sleep 600"
for _ in $(seq 200); do grep -q "watcher 0 bench/#" "$WORK/mosquitto.log" && break; sleep 0.05; done
WATCHER=$(pgrep -f "^$BIN sub -p $PORT" | head -1)
header() { tmux -L "$SOCKET" capture-pane -p | head -1; }
shown() { header | awk '{ print $3 }'; }

start=${EPOCHREALTIME/./}
"$BIN" pub -p "$PORT" --replay "$WORK/capture.jsonl" --replay-timing
end=${EPOCHREALTIME/./}
at_end=$(shown)
all_at=""
for _ in $(seq 1200); do
    if [ "$(shown)" = "$N" ]; then all_at=${EPOCHREALTIME/./}; break; fi
    sleep 0.05
done
final=$(header)
rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$WATCHER/status")
cpu_ticks=$(awk '{ print $14 + $15 }' "/proc/$WATCHER/stat")
tmux -L "$SOCKET" send-keys q

secs=$(awk -v us=$(( end - start )) 'BEGIN { printf "%.2f", us / 1e6 }')
echo "sub --watch --sort $SORT: $N messages over $TOPICS topics, published at $RATE/s asked ($(awk -v n="$N" -v us=$(( end - start )) 'BEGIN { printf "%.0f", n / (us / 1e6) }')/s achieved, ${secs}s)"
echo "  shown when the publisher ended:   $at_end of $N"
if [ -n "$all_at" ]; then
    echo "  all shown:                        $(awk -v us=$(( all_at - end )) 'BEGIN { printf "%.0f ms", us / 1000 }') after the publisher ended"
else
    echo "  all shown:                        NO (the screen says: $final)"
fi
echo "  screen:                           $final"
echo "  peak RSS:                         $(( rss_kib / 1024 )) MiB ($(awk -v k="$rss_kib" -v t="$TOPICS" 'BEGIN { printf "%.0f", k * 1024 / t }') bytes per topic, all of the process counted)"
echo "  CPU of the watcher:               $(awk -v t="$cpu_ticks" -v s="$secs" 'BEGIN { printf "%.0f%% of one core over the run", t / s }')"
