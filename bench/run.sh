#!/usr/bin/env bash
# The smppguard benchmark, in one go on this machine: builds the Release binaries, generates the
# 1M and 10M consent stores, runs every scenario against the real daemon, and prints the table
# (docs/performance.md explains each row).
#
#   bench/run.sh                      # build (scripts/setup.sh release) and run everything
#   SKIP_BUILD=1 BUILD_DIR=build/release bench/run.sh   # use an existing Release build
#   BENCH_OUT=/some/dir bench/run.sh  # keep the JSON results and logs there
#
# Scenarios (generator and sink share the machine with the daemon):
#   direct    smppguard-loadgen -> smppguard-sink, no proxy: the ceiling.
#   proxy     loadgen -> smppguard (consent enforced, strict mode, stores of 1M and 10M
#             subscribers, destinations uniform over each store's whole key space) -> sink.
#   half      the same at 50% of the proxy's measured maximum, for latency; plus direct at that
#             same rate, so that the proxy's added latency can be read end to end as well as from
#             the daemon's own smppguard_added_latency_seconds histogram.
#   mo        the sink injects MOs at full speed (5% STOP/HELP/START) through the proxy to a bound
#             receiver, store.sync on (every STOP fsynced before its deliver_sm_resp); afterwards
#             the daemon is killed with SIGKILL and every acknowledged STOP is checked in the store.
# Everything listens on 127.0.0.1 port 0 (ports files), lives in a temp dir, and is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BUILD_DIR=${BUILD_DIR:-build/release}
BINDS=${BINDS:-4}                 # ESME binds of the generator
WINDOW=${WINDOW:-64}              # submit_sm in flight per bind (and the account's window)
DIRECT_MESSAGES=${DIRECT_MESSAGES:-2000000}
PROXY_MESSAGES=${PROXY_MESSAGES:-1000000}
WARMUP_MESSAGES=${WARMUP_MESSAGES:-50000}
HALF_SECONDS=${HALF_SECONDS:-10}
MO_COUNT=${MO_COUNT:-400000}
MO_WINDOW=${MO_WINDOW:-256}       # deliver_sm in flight per upstream bind (2 binds)
SMALL=${SMALL:-1000000}
LARGE=${LARGE:-10000000}

started=$(date +%s)
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "bench: building (scripts/setup.sh release)" >&2
  if ! scripts/setup.sh release >&2; then
    # setup.sh also installs packages (tests need some that the bench does not); when that step
    # fails, configure and build the same Release tree directly.
    echo "bench: scripts/setup.sh failed; building build/release with cmake and ninja" >&2
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSMPPGUARD_TESTS=OFF \
      -DSMPPGUARD_BENCH=ON >&2
    ninja -C build/release -j "$(nproc)" >&2
  fi
  BUILD_DIR=build/release
fi
bin=$root/$BUILD_DIR/smppguard
tools=$root/$BUILD_DIR/bench
for f in "$bin" "$tools/smppguard-loadgen" "$tools/smppguard-sink" "$tools/smppguard-storegen" \
         "$tools/smppguard-benchreport"; do
  [ -x "$f" ] || { echo "bench: $f is missing (build with -DSMPPGUARD_BENCH=ON)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init bench
out=${BENCH_OUT:-$tmp/results}
mkdir -p "$out"
log() { echo "bench: $(( $(date +%s) - started ))s $*" >&2; }

start_sink() {  # start_sink NAME [sink args...]; sets sink_pid and sink_port
  local name=$1
  shift
  "$tools/smppguard-sink" --smpp 127.0.0.1:0 --ports-file "$tmp/$name.ports" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.log" &
  sink_pid=$!
  pids+=("$sink_pid")
  wait_file "$tmp/$name.ports" 10
  sink_port=$(json_port "$tmp/$name.ports" smpp)
}

stop_daemon() {
  kill -TERM "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
}

rate_of() { sed -E 's/.*[{,]"rate":([0-9]+).*/\1/' "$1"; }

loadgen() {  # loadgen RESULT_FILE [args...]
  local result=$1
  shift
  "$tools/smppguard-loadgen" --binds "$BINDS" --window "$WINDOW" --system-id bench --password bench \
    --bind transceiver --timeout 300 "$@" >"$out/$result"
  log "$result: $(rate_of "$out/$result") msg/s"
}


# ---- stores ---------------------------------------------------------------------------------------
log "generating the ${SMALL}-subscriber store"
"$tools/smppguard-storegen" build --store "$tmp/store-1m" --subscribers "$SMALL" \
  --program acme-alerts --tenant acme >"$out/store-1m.json" 2>"$tmp/storegen-1m.log"
log "generating the ${LARGE}-subscriber store"
"$tools/smppguard-storegen" build --store "$tmp/store-10m" --subscribers "$LARGE" \
  --program acme-alerts --tenant acme >"$out/store-10m.json" 2>"$tmp/storegen-10m.log"

# ---- MT: direct and through the proxy -----------------------------------------------------------------
start_sink sink
mt_sink_pid=$sink_pid
mt_sink_port=$sink_port
log "direct, full speed"
loadgen warmup-direct.json --server "127.0.0.1:$mt_sink_port" --messages "$WARMUP_MESSAGES" --range-size "$SMALL"
loadgen direct.json --server "127.0.0.1:$mt_sink_port" --messages "$DIRECT_MESSAGES" \
  --range-size "$SMALL" --pids "sink=$mt_sink_pid" --label direct

for size in 1m 10m; do
  range=$SMALL
  [ "$size" = 10m ] && range=$LARGE
  log "proxy, $size store"
  start_daemon "daemon-$size" "$tmp/store-$size" "$mt_sink_port"
  loadgen "warmup-$size.json" --server "127.0.0.1:$smpp_port" --messages "$WARMUP_MESSAGES" --range-size "$range"
  loadgen "proxy-$size.json" --server "127.0.0.1:$smpp_port" --messages "$PROXY_MESSAGES" \
    --range-size "$range" --pids "daemon=$daemon_pid,sink=$mt_sink_pid" --metrics-port "$http_port" \
    --label "proxy-$size"
  half=$(( $(rate_of "$out/proxy-$size.json") / 2 ))
  log "proxy, $size store, ${half}/s"
  loadgen "half-$size.json" --server "127.0.0.1:$smpp_port" --rate "$half" \
    --messages $((half * HALF_SECONDS)) --range-size "$range" \
    --pids "daemon=$daemon_pid,sink=$mt_sink_pid" --metrics-port "$http_port" --label "half-$size"
  if [ "$size" = 10m ]; then
    echo "{\"daemon\":$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status")}" \
      >"$out/rss-10m.json"
  fi
  stop_daemon
  log "direct at ${half}/s"
  loadgen "direct-half-$size.json" --server "127.0.0.1:$mt_sink_port" --rate "$half" \
    --messages $((half * HALF_SECONDS)) --range-size "$range" --pids "sink=$mt_sink_pid" \
    --label "direct-half-$size"
done
kill -TERM "$mt_sink_pid" 2>/dev/null || true
wait "$mt_sink_pid" 2>/dev/null || true

# ---- MO path ------------------------------------------------------------------------------------------
log "MO path, ${SMALL}-subscriber store, $MO_COUNT MOs"
start_sink mo-sink --mo-count "$MO_COUNT" --mo-window "$MO_WINDOW" --mo-binds 2 \
  --mo-start-file "$tmp/mo.start" --mo-range-size "$SMALL" --mo-number 18005550100 \
  --mo-result "$out/mo.json" --stop-log "$tmp/stops.txt" --pids-file "$tmp/mo.pids"
mo_sink_pid=$sink_pid
start_daemon daemon-mo "$tmp/store-1m" "$sink_port"
"$tools/smppguard-loadgen" --mode receive --server "127.0.0.1:$smpp_port" --binds 2 --bind receiver \
  --system-id bench --password bench --expect "$MO_COUNT" --idle 10 --timeout 300 \
  >"$out/mo-receiver.json" &
rx_pid=$!
pids+=("$rx_pid")
# The receiver's binds are up when the daemon counts them.
for ((i = 0; i < 200; i++)); do
  if curl -s "http://127.0.0.1:$http_port/metrics" | grep -q '^smppguard_binds{name="bench",side="esme"} 2'; then
    break
  fi
  sleep 0.05
done
echo "daemon=$daemon_pid,receiver=$rx_pid" >"$tmp/mo.pids"
touch "$tmp/mo.start"
wait_file "$out/mo.json" 600
log "mo: $(rate_of "$out/mo.json") deliver_sm_resp/s"
wait "$rx_pid" || true
log "mo receiver: $(rate_of "$out/mo-receiver.json") deliver_sm/s"
# Every STOP the carrier saw acknowledged must be in the store after a SIGKILL.
kill -9 "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
"$tools/smppguard-storegen" check --store "$tmp/store-1m" --program acme-alerts --tenant acme \
  --msisdns "$tmp/stops.txt" >"$out/mo-check.json" 2>"$tmp/check.log" || true
kill -TERM "$mo_sink_pid" 2>/dev/null || true
wait "$mo_sink_pid" 2>/dev/null || true

# ---- report ---------------------------------------------------------------------------------------------
if [ -n "${BENCH_OUT:-}" ]; then cp "$tmp"/*.log "$tmp"/*.yaml "$out/" 2>/dev/null || true; fi
echo
echo "smppguard bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), binds=$BINDS window=$WINDOW"
echo
"$tools/smppguard-benchreport" "$out"
echo
log "done"
