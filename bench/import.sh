#!/usr/bin/env bash
# Import throughput and the daemon's memory during an import: a LINES-line NDJSON file (1,000,000)
# through `POST /v1/consents/import` on the running daemon, streamed by curl (-T), and the same file
# through `smppguard ctl import FILE`, each into a fresh, empty store. A program that prints
# figures (one JSON line per run), not a test.
#
#   bench/import.sh          # with an existing Release build (build/release)
#   BUILD_DIR=build/x LINES=200000 VIA="curl ctl" bench/import.sh
#
# The file: subscribers 0..LINES-1 of the bench numbering (bench_common.hpp: valid NANP numbers
# spread over the whole key space), 95% opted_in express, 5% opted_out, evidence naming the file
# and line; source defaults to import. While the import runs, /proc/PID/status VmRSS of the daemon
# is sampled every 100 ms; the run reports it at the start, its peak and at the end (after the
# answer), plus VmHWM, and the daemon's CPU seconds (utime + stime) over the import. The daemon
# (store.sync true, log level info for its consent_import line) listens on 127.0.0.1 port 0
# (ports file) with a smppguard-sink as its upstream; everything lives in a temp dir and is
# removed at exit. On a shared machine, run it under a lock that the other measurements take too
# (flock LOCKFILE bench/import.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BUILD_DIR=${BUILD_DIR:-build/release}
LINES=${LINES:-1000000}
VIA=${VIA:-curl ctl}

bin=$root/$BUILD_DIR/smppguard
tools=$root/$BUILD_DIR/bench
for f in "$bin" "$tools/smppguard-sink"; do
  [ -x "$f" ] || { echo "import.sh: $f is missing (build with -DSMPPGUARD_BENCH=ON)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init import
now_ns() { date +%s%N; }
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')  # this run only

# The file (bench/lib.sh): 95% opted_in express, 5% opted_out.
file=$tmp/bench-import.ndjson
bench_ndjson "$LINES" "$file"
file_mib=$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.1f", b / 1048576 }')

"$tools/smppguard-sink" --smpp 127.0.0.1:0 --ports-file "$tmp/sink.ports" >/dev/null 2>"$tmp/sink.log" &
pids+=("$!")
wait_file "$tmp/sink.ports" 10
sink_port=$(json_port "$tmp/sink.ports" smpp)

# sample_rss PID OUT: "VmRSS_kB" every 100 ms until PID is gone or STOPFILE exists (pure bash reads).
sample_rss() {
  local pid=$1 out=$2 stopfile=$3 key value rest
  while [ ! -e "$stopfile" ] && [ -e "/proc/$pid/status" ]; do
    while read -r key value rest; do
      if [ "$key" = "VmRSS:" ]; then echo "$value" >>"$out"; break; fi
    done <"/proc/$pid/status"
    sleep 0.1
  done
}
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime + stime
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

run() {  # run VIA
  local via=$1
  rm -rf "$tmp/store-$via"
  bench_config "$tmp/$via.yaml" "$tmp/store-$via" "$sink_port" 64 2 info "$token"
  "$bin" run --config "$tmp/$via.yaml" --ports-file "$tmp/$via.ports" >"$tmp/$via-daemon.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_file "$tmp/$via.ports" 60
  local http_port i
  http_port=$(json_port "$tmp/$via.ports" http)
  for ((i = 0; i < 400; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/readyz")" = 200 ] && break
    sleep 0.05
  done
  sleep 1  # let start-up settle before the first RSS sample
  local rss_start
  rss_start=$(status_kb "$pid" VmRSS)
  : >"$tmp/$via.rss"
  rm -f "$tmp/$via.stop"
  sample_rss "$pid" "$tmp/$via.rss" "$tmp/$via.stop" &
  local sampler=$!
  pids+=("$sampler")
  local t0 t1 cpu0 cpu1
  cpu0=$(cpu_ticks "$pid")
  t0=$(now_ns)
  if [ "$via" = curl ]; then
    curl -sS --fail -X POST -T "$file" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/x-ndjson' \
      "http://127.0.0.1:$http_port/v1/consents/import" >"$tmp/$via.answer"
  else
    "$bin" ctl --url "http://127.0.0.1:$http_port" --token "$token" --json import "$file" \
      >"$tmp/$via.answer"
  fi
  t1=$(now_ns)
  cpu1=$(cpu_ticks "$pid")
  local rss_end hwm
  rss_end=$(status_kb "$pid" VmRSS)
  hwm=$(status_kb "$pid" VmHWM)
  touch "$tmp/$via.stop"
  wait "$sampler" 2>/dev/null || true
  local peak samples
  peak=$(sort -n "$tmp/$via.rss" | tail -1)
  samples=$(wc -l <"$tmp/$via.rss")
  sleep 2
  local rss_after2s
  rss_after2s=$(status_kb "$pid" VmRSS)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  local disk
  disk=$(du -sm "$tmp/store-$via" | cut -f1)
  printf '{"via":"%s","lines":%s,"file_mib":%s,"seconds":%s,"lines_per_s":%s,"summary":%s,' \
    "$via" "$LINES" "$file_mib" "$secs" "$(awk -v n="$LINES" -v s="$secs" 'BEGIN { printf "%d", n / s }')" \
    "$(tail -1 "$tmp/$via.answer" | sed -E 's/^\{"summary":(.*)\}$/\1/')"
  printf '"rss_mib":{"start":%s,"peak":%s,"end":%s,"end_plus_2s":%s,"samples":%s},"vmhwm_mib":%s,' \
    "$(mib "$rss_start")" "$(mib "${peak:-0}")" "$(mib "$rss_end")" "$(mib "$rss_after2s")" \
    "$samples" "$(mib "$hwm")"
  printf '"daemon_cpu_s":%s,"store_disk_mib":%s,"daemon_log":"%s"}\n' \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')" "$disk" \
    "$(grep -o 'event=consent_import .*' "$tmp/$via-daemon.log" | head -1 | tr -d '"\\')"
}

echo "{\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
for via in $VIA; do run "$via"; done
echo "{\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
