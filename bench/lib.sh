# Shared by bench/run.sh, bench/stop.sh and bench/import.sh (sourced, not run): a temp dir that is
# removed at exit together with every process started into `pids`, ports files, and the daemon's
# config. Everything listens on 127.0.0.1 port 0.

# bench_init NAME: makes $tmp, empties $pids and installs the traps; NAME prefixes messages.
bench_init() {
  bench_name=$1
  tmp=$(mktemp -d "/tmp/smppguard-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}

json_port() {  # json_port FILE KEY: a port of a ports file ({"smpp":P,"http":P})
  sed -E "s/.*\"$2\":([0-9]+).*/\1/" "$1"
}

wait_file() {  # wait_file FILE SECONDS
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  echo "$bench_name: $1 did not appear" >&2
  return 1
}

# bench_ndjson LINES FILE [OPTED_OUT_EVERY]: an import file of subscribers 0..LINES-1 of the bench
# numbering (bench_common.hpp: valid NANP numbers spread over the whole key space), opted_in
# express, every OPTED_OUT_EVERY-th one (default 20: 5%; 0: none) opted_out, evidence naming the
# file and line. v = i * 2654435761 mod 6.4e9 is exact in awk's doubles for i < 3.3 million.
bench_ndjson() {
  awk -v n="$1" -v every="${3:-20}" 'BEGIN {
    for (i = 0; i < n; i++) {
      v = (i * 2654435761) % 6400000000
      number = sprintf("+1%d%d%04d", 200 + int(v / 8000000), 200 + int(v / 10000) % 800, v % 10000)
      if (every > 0 && i % every == every - 1) state = "\"state\":\"opted_out\""
      else state = "\"state\":\"opted_in\",\"level\":\"express\""
      printf "{\"program\":\"acme-alerts\",\"msisdn\":\"%s\",%s,\"evidence\":{\"file\":\"bench-import.ndjson\",\"line\":\"%d\"}}\n", number, state, i + 1
    }
  }' >"$2"
}

# bench_config FILE STORE UPSTREAM_PORT WINDOW SESSIONS LOG_LEVEL [TOKEN]: the daemon's config
# for every bench: one account `bench` (unlimited throughput), one sink upstream of SESSIONS
# transceivers, one strict program without quiet hours, store.sync on; TOKEN adds an admin token.
# Cluster mode (bench/cluster.sh): $BENCH_PG adds the cluster section, $BENCH_NODE_ID names the
# node (default bench).
bench_config() {
  local file=$1 store=$2 upstream=$3 window=$4 sessions=$5 level=$6 token=${7:-}
  {
    echo "node_id: ${BENCH_NODE_ID:-bench}"
    if [ -n "${BENCH_PG:-}" ]; then
      printf 'cluster:\n  postgres: "%s"\n' "$BENCH_PG"
    fi
    cat <<EOF
store:
  path: $store
  sync: true
listen:
  smpp: 127.0.0.1:0
  http: 127.0.0.1:0
log:
  level: $level
EOF
    if [ -n "$token" ]; then
      cat <<EOF
admin:
  tokens:
    - { name: bench, token: "$token" }
EOF
    fi
    cat <<EOF
accounts:
  - system_id: bench
    password: "bench"
    tenant: acme
    default_category: informational
    window: $window
    throughput: 0
    max_binds: 16
upstreams:
  - name: sink
    host: 127.0.0.1
    port: $upstream
    system_id: smppguard
    password: sink
    bind: transceiver
    sessions: $sessions
    window: 512
    throughput: 0
routes:
  - { prefix: "", upstream: sink }
programs:
  - id: acme-alerts
    tenant: acme
    name: "Acme Alerts"
    numbers: ["+18005550100"]
    opt_in_mode: strict
    quiet_hours: null
    help_contact: "help@acme.example"
EOF
  } >"$file"
}

# start_daemon NAME STORE UPSTREAM_PORT: the daemon ($bin) on bench_config with window $WINDOW,
# started into `pids` and ready; sets daemon_pid, smpp_port, http_port.
start_daemon() {
  local name=$1 store=$2 upstream=$3
  bench_config "$tmp/$name.yaml" "$store" "$upstream" "$WINDOW" 2 warn
  rm -f "$tmp/$name.ports"
  "$bin" run --config "$tmp/$name.yaml" --ports-file "$tmp/$name.ports" >"$tmp/$name.log" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  wait_file "$tmp/$name.ports" 120
  smpp_port=$(json_port "$tmp/$name.ports" smpp)
  http_port=$(json_port "$tmp/$name.ports" http)
  local i
  for ((i = 0; i < 400; i++)); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/readyz")" = 200 ]; then
      return 0
    fi
    sleep 0.05
  done
  echo "$bench_name: the daemon did not become ready; its log:" >&2
  tail -20 "$tmp/$name.log" >&2
  return 1
}
