#!/usr/bin/env bash
# STOP-to-durable latency through the real daemon: the time from a STOP deliver_sm leaving the
# carrier (smppguard-sink) until its deliver_sm_resp arrives. The proxy answers a STOP only after
# the opt-out is fsynced (store.sync: true), so this is the time to a durable opt-out as the
# carrier sees it. A program that prints figures (JSON), not a test.
#
#   bench/stop.sh            # with an existing Release build (build/release, SMPPGUARD_BENCH=ON)
#   BUILD_DIR=build/x STOPS=2000 MO_COUNT=200000 bench/stop.sh
#
# Scenarios, all on a store of SUBSCRIBERS (1,000,000) made by smppguard-storegen:
#   low load  one STOP at a time: one upstream session, the sink's MO window 1, every MO a STOP
#             from a subscriber of its own (--mo-stops-only); STOPS of them.
#   MO half rate  the same MO mix at MO_RATE per second (5,000, about half of what the MO path
#             reached at full speed on the bench machine) for MO_RATE_SECONDS (10).
#   MO load   the MO scenario of bench/run.sh: two upstream sessions, MO_WINDOW (256) in flight
#             per bind at full speed, MO_COUNT MOs of which 5% keywords (STOP, HELP, START in
#             turn): the STOPs' latency alone, and all MOs'.
# A receiver (smppguard-loadgen --mode receive) is bound as in bench/run.sh. After each scenario
# the daemon is killed with SIGKILL and `storegen check` counts the acknowledged STOPs that are
# opted out in the store. Everything listens on 127.0.0.1 port 0, lives in a temp dir and is
# removed at exit. On a shared machine, run it under a lock that the other measurements take too
# (flock LOCKFILE bench/stop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BUILD_DIR=${BUILD_DIR:-build/release}
SUBSCRIBERS=${SUBSCRIBERS:-1000000}
STOPS=${STOPS:-2000}
MO_COUNT=${MO_COUNT:-200000}
MO_WINDOW=${MO_WINDOW:-256}
MO_RATE=${MO_RATE:-5000}          # MOs per second offered in the half-rate scenario
MO_RATE_SECONDS=${MO_RATE_SECONDS:-10}

bin=$root/$BUILD_DIR/smppguard
tools=$root/$BUILD_DIR/bench
for f in "$bin" "$tools/smppguard-sink" "$tools/smppguard-loadgen" "$tools/smppguard-storegen"; do
  [ -x "$f" ] || { echo "stop.sh: $f is missing (build with -DSMPPGUARD_BENCH=ON)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init stop

"$tools/smppguard-storegen" build --store "$tmp/store" --subscribers "$SUBSCRIBERS" \
  --program acme-alerts --tenant acme >"$tmp/store.json" 2>"$tmp/storegen.log"

# scenario NAME SESSIONS SINK_ARGS...: sink (MO mode), daemon, receiver; waits for the sink's
# result, then SIGKILLs the daemon and checks the acknowledged STOPs in the store.
scenario() {
  local name=$1 sessions=$2
  shift 2
  rm -f "$tmp/$name.start"
  "$tools/smppguard-sink" --smpp 127.0.0.1:0 --ports-file "$tmp/$name-sink.ports" \
    --mo-binds "$sessions" --mo-start-file "$tmp/$name.start" --mo-number 18005550100 --mo-result "$tmp/$name.json" --stop-log "$tmp/$name-stops.txt" \
    --pids-file "$tmp/$name.pids" --label "$name" "$@" >/dev/null 2>"$tmp/$name-sink.log" &
  local sink_pid=$!
  pids+=("$sink_pid")
  wait_file "$tmp/$name-sink.ports" 10
  bench_config "$tmp/$name.yaml" "$tmp/store" "$(json_port "$tmp/$name-sink.ports" smpp)" 64 \
    "$sessions" warn
  "$bin" run --config "$tmp/$name.yaml" --ports-file "$tmp/$name.ports" >"$tmp/$name-daemon.log" 2>&1 &
  local daemon_pid=$!
  pids+=("$daemon_pid")
  wait_file "$tmp/$name.ports" 120
  local smpp_port http_port i
  smpp_port=$(json_port "$tmp/$name.ports" smpp)
  http_port=$(json_port "$tmp/$name.ports" http)
  "$tools/smppguard-loadgen" --mode receive --server "127.0.0.1:$smpp_port" --binds 2 \
    --bind receiver --system-id bench --password bench --expect 1000000000 --idle 600 \
    --timeout 600 >"$tmp/$name-receiver.json" 2>/dev/null &
  local rx_pid=$!
  pids+=("$rx_pid")
  for ((i = 0; i < 200; i++)); do
    if curl -s "http://127.0.0.1:$http_port/metrics" |
        grep -q '^smppguard_binds{name="bench",side="esme"} 2'; then
      break
    fi
    sleep 0.05
  done
  echo "daemon=$daemon_pid" >"$tmp/$name.pids"
  touch "$tmp/$name.start"
  wait_file "$tmp/$name.json" 900
  local rss
  rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status")
  kill -9 "$daemon_pid" "$rx_pid" 2>/dev/null || true
  wait "$daemon_pid" "$rx_pid" 2>/dev/null || true
  "$tools/smppguard-storegen" check --store "$tmp/store" --program acme-alerts --tenant acme \
    --msisdns "$tmp/$name-stops.txt" >"$tmp/$name-check.json" 2>/dev/null || true
  kill -TERM "$sink_pid" 2>/dev/null || true
  wait "$sink_pid" 2>/dev/null || true
  printf '{"scenario":"%s","upstream_sessions":%s,"daemon_vmhwm_mib":%s,"sink":%s,"check":%s}\n' \
    "$name" "$sessions" "$rss" "$(cat "$tmp/$name.json")" "$(cat "$tmp/$name-check.json")"
}

echo "{\"store\":$(cat "$tmp/store.json"),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
# Each scenario texts its own part of the store (low load the last quarter, half rate the third,
# full speed the first half), so that no STOP finds a subscriber another scenario opted out.
quarter=$((SUBSCRIBERS / 4))
scenario low-load 1 --mo-count "$STOPS" --mo-window 1 --mo-stops-only \
  --mo-range-start $((3 * quarter)) --mo-range-size "$quarter"
scenario mo-half-rate 2 --mo-count $((MO_RATE * MO_RATE_SECONDS)) --mo-window "$MO_WINDOW" \
  --mo-rate "$MO_RATE" --mo-range-start $((2 * quarter)) --mo-range-size "$quarter"
scenario mo-load 2 --mo-count "$MO_COUNT" --mo-window "$MO_WINDOW" --mo-range-size $((2 * quarter))
echo "{\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
