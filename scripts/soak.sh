#!/usr/bin/env bash
# The soak of the fault suite (run it as `scripts/faults.sh --soak SECONDS`; not in CI).
#
# The Release daemon, store.sync on, a 100,000-subscriber store (SOAK_SUBSCRIBERS), between the
# bench's generator and sink: 2,000 MT/s (SOAK_MT_RATE) over 4 transceiver binds, every MT asking
# for a receipt and the sink sending each at once; 200 MO/s (SOAK_MO_RATE) from the sink over 2
# upstream binds, 5% of them STOP, HELP or START. Every SOAK_SAMPLE seconds (default 60) it prints
# the daemon's RSS, open files, the store's size and file count, and the deepest delivery queue.
# At the end: the generator's and the sink's totals, and per figure its first, last and highest
# value and its growth over the second half of the run, which is what tells a plateau (about 0)
# from a leak (about half of the whole growth, or more).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:?usage: scripts/soak.sh SECONDS}
subscribers=${SOAK_SUBSCRIBERS:-100000}
mt_rate=${SOAK_MT_RATE:-2000}
mo_rate=${SOAK_MO_RATE:-200}
sample=${SOAK_SAMPLE:-60}

BUILD_DIR=${BUILD_DIR:-build/release}
if [ -z "${SKIP_BUILD:-}" ]; then
  scripts/setup.sh release smppguard smppguard-loadgen smppguard-sink smppguard-storegen >&2
  BUILD_DIR=build/release
fi
bin=$root/$BUILD_DIR/smppguard
tools=$root/$BUILD_DIR/bench
for f in "$bin" "$tools/smppguard-loadgen" "$tools/smppguard-sink" "$tools/smppguard-storegen"; do
  [ -x "$f" ] || { echo "soak: $f is missing (a Release build with -DSMPPGUARD_BENCH=ON)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init soak
started=$(date +%s)
log() { echo "soak: $(($(date +%s) - started))s $*" >&2; }

log "generating a ${subscribers}-subscriber store"
"$tools/smppguard-storegen" build --store "$tmp/store" --subscribers "$subscribers" \
  --program acme-alerts --tenant acme >"$tmp/storegen.json" 2>"$tmp/storegen.log"

"$tools/smppguard-sink" --smpp 127.0.0.1:0 --ports-file "$tmp/sink.ports" --receipt-pct 100 \
  --mo-count $((mo_rate * seconds)) --mo-rate "$mo_rate" --mo-binds 2 --mo-window 64 \
  --mo-start-file "$tmp/mo.start" --mo-range-size "$subscribers" --mo-number 18005550100 \
  --mo-result "$tmp/mo.json" >"$tmp/sink.out" 2>"$tmp/sink.log" &
sink_pid=$!
pids+=("$sink_pid")
wait_file "$tmp/sink.ports" 10

WINDOW=64
start_daemon daemon "$tmp/store" "$(json_port "$tmp/sink.ports" smpp)"

log "running ${seconds}s: ${mt_rate} MT/s with receipts, ${mo_rate} MO/s"
"$tools/smppguard-loadgen" --server "127.0.0.1:$smpp_port" --binds 4 --window 64 \
  --system-id bench --password bench --bind transceiver --rate "$mt_rate" \
  --messages $((mt_rate * seconds)) --range-size "$subscribers" --receipt-pct 100 \
  --timeout $((seconds + 300)) --pids "daemon=$daemon_pid" >"$tmp/mt.json" 2>"$tmp/loadgen.log" &
gen_pid=$!
pids+=("$gen_pid")
touch "$tmp/mo.start"

# One sample: seconds rss_mib open_files store_mib store_files deepest_queue
take_sample() {
  local t rss fds store_mib store_files depth
  t=$(($(date +%s) - started))
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status")
  fds=$(find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  store_mib=$(du -sm "$tmp/store" | cut -f1)
  store_files=$(find "$tmp/store" -type f | wc -l)
  depth=$(curl -s "http://127.0.0.1:$http_port/metrics" |
    awk '/^smppguard_queue_depth/ { if ($2 > m) m = $2 } END { printf "%d", m }')
  echo "$t $rss $fds $store_mib $store_files $depth"
}

printf '%8s %9s %10s %10s %11s %12s\n' seconds rss_mib open_files store_mib store_files deepest_queue
: >"$tmp/samples"
while kill -0 "$gen_pid" 2>/dev/null; do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "soak: the daemon exited; its log:" >&2
    tail -20 "$tmp/daemon.log" >&2
    exit 1
  fi
  take_sample | tee -a "$tmp/samples" | awk '{ printf "%8d %9.1f %10d %10d %11d %12d\n", $1, $2, $3, $4, $5, $6 }'
  for ((i = 0; i < sample; i++)); do
    kill -0 "$gen_pid" 2>/dev/null || break
    sleep 1
  done
done
take_sample | tee -a "$tmp/samples" | awk '{ printf "%8d %9.1f %10d %10d %11d %12d\n", $1, $2, $3, $4, $5, $6 }'
gen_rc=0
wait "$gen_pid" || gen_rc=$?

echo
echo "generator (MT): $(cat "$tmp/mt.json")"
kill -TERM "$sink_pid" 2>/dev/null || true
wait "$sink_pid" 2>/dev/null || true
echo "sink (MTs and receipts): $(grep "^sink: {" "$tmp/sink.log" | tail -1 | cut -c7-)"
[ -s "$tmp/mo.json" ] && echo "MO: $(cat "$tmp/mo.json")"
echo
awk '
  { n++; for (c = 2; c <= 6; c++) v[n, c] = $c; t[n] = $1 }
  END {
    split("rss_mib open_files store_mib store_files deepest_queue", name, " ")
    half = int((n + 1) / 2)
    printf "%-14s %9s %9s %9s %22s\n", "figure", "first", "last", "highest", "growth in 2nd half"
    for (c = 2; c <= 6; c++) {
      hi = v[1, c]
      for (i = 1; i <= n; i++) if (v[i, c] > hi) hi = v[i, c]
      printf "%-14s %9.1f %9.1f %9.1f %22.1f\n", name[c - 1], v[1, c], v[n, c], hi, v[n, c] - v[half, c]
    }
    printf "(%d samples over %d s; the second half starts at %d s)\n", n, t[n] - t[1], t[half]
  }' "$tmp/samples"
if [ "$gen_rc" -ne 0 ]; then
  echo "soak: the generator failed (exit $gen_rc): $(tail -3 "$tmp/loadgen.log")" >&2
  exit 1
fi
log "done"
