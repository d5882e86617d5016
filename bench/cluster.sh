#!/usr/bin/env bash
# Cluster figures (docs/cluster.md, docs/performance.md "Cluster"): three smppguard nodes and one
# PostgreSQL 15 on this machine, haproxy in TCP mode in front of two of them. A program that
# prints figures (one JSON line each), not a test.
#
#   bench/cluster.sh                                    # builds build/release first
#   SKIP_BUILD=1 BUILD_DIR=build/release RECORDS=100000 STOPS=200 bench/cluster.sh
#
# 1. import    RECORDS subscribers (bench numbering, all opted in) through POST /v1/consents/import
#              on gw2: the import rate with every line committed in PostgreSQL, and the time until
#              gw3 has replicated all of it.
# 2. catch_up  gw1 starts with an empty store: the time until it is ready (caught up), records/s.
# 3. propagation  STOPS times: a STOP deliver_sm into gw1 (smppguard-propagation plays gw1's
#              carrier), and from gw1's deliver_sm_resp to the first MT refused by gw2 (p50/p99).
# 4. mt        MT_MESSAGES submit_sm at full speed (smppguard-loadgen, BINDS binds x WINDOW) to
#              gw2 alone, then through haproxy to gw2 and gw3.
# 5. mo        MO_COUNT MOs (5% STOP/HELP/START) into gw3 from its carrier, delivered to a bound
#              receiver: deliver_sm_resp/s with the PostgreSQL commits.
# PostgreSQL runs with its defaults (fsync and synchronous_commit on), as the postgres user when
# this runs as root. Every process listens on 127.0.0.1, lives in a temp dir, and is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BUILD_DIR=${BUILD_DIR:-build/release}
RECORDS=${RECORDS:-100000}
STOPS=${STOPS:-200}
MT_MESSAGES=${MT_MESSAGES:-300000}
MO_COUNT=${MO_COUNT:-40000}
BINDS=${BINDS:-4}
WINDOW=${WINDOW:-64}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

if [ -z "${SKIP_BUILD:-}" ]; then
  scripts/setup.sh release >&2
  BUILD_DIR=build/release
fi
bin=$root/$BUILD_DIR/smppguard
tools=$root/$BUILD_DIR/bench
for f in "$bin" "$tools/smppguard-loadgen" "$tools/smppguard-sink" "$tools/smppguard-propagation" \
         "$PG_BINDIR/postgres" /usr/sbin/haproxy; do
  [ -x "$f" ] || { echo "cluster.sh: $f is missing" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init cluster
chmod 755 "$tmp"  # the postgres user reads its data dir below it
started=$(date +%s)
log() { echo "cluster.sh: $(( $(date +%s) - started ))s $*" >&2; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
http() { curl -sS -H "Authorization: Bearer $token" "$@"; }

# ---- PostgreSQL -----------------------------------------------------------------------------------
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups); fi
mkdir "$tmp/pg"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$tmp/pg"
"${as_pg[@]}" "$PG_BINDIR/initdb" -D "$tmp/pg/data" -U smppguard --auth=trust >"$tmp/initdb.log" 2>&1
pg_port=$(free_port)
"${as_pg[@]}" "$PG_BINDIR/postgres" -D "$tmp/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories= >"$tmp/pg.log" 2>&1 &
pids+=("$!")
for ((i = 0; i < 200; i++)); do grep -q "ready to accept connections" "$tmp/pg.log" && break; sleep 0.05; done
export BENCH_PG="host=127.0.0.1 port=$pg_port user=smppguard dbname=postgres"
log "PostgreSQL on $pg_port"

# ---- nodes --------------------------------------------------------------------------------------------
start_sink() {  # start_sink NAME [args]: sets sink_port
  local name=$1
  shift
  "$tools/smppguard-sink" --smpp 127.0.0.1:0 --ports-file "$tmp/$name.ports" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.log" &
  pids+=("$!")
  wait_file "$tmp/$name.ports" 10
  sink_port=$(json_port "$tmp/$name.ports" smpp)
}
declare -A node_pid node_smpp node_http
start_node() {  # start_node ID UPSTREAM_PORT [wait]: gwID on its own store
  local id=$1 upstream=$2
  BENCH_NODE_ID=$id bench_config "$tmp/$id.yaml" "$tmp/store-$id" "$upstream" "$WINDOW" 2 warn "$token"
  "$bin" run --config "$tmp/$id.yaml" --ports-file "$tmp/$id.ports" >"$tmp/$id.log" 2>&1 &
  node_pid[$id]=$!
  pids+=("$!")
  wait_file "$tmp/$id.ports" 60
  node_smpp[$id]=$(json_port "$tmp/$id.ports" smpp)
  node_http[$id]=$(json_port "$tmp/$id.ports" http)
}
wait_ready() {  # wait_ready ID SECONDS
  local i
  for ((i = 0; i < $2 * 100; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${node_http[$1]}/readyz")" = 200 ] && return 0
    sleep 0.01
  done
  echo "cluster.sh: $1 did not become ready; its log:" >&2
  tail -20 "$tmp/$1.log" >&2
  return 1
}
audit_head() { http "http://127.0.0.1:${node_http[$1]}/v1/audit/head"; }

start_sink sink2
sink2=$sink_port
start_sink sink3 --mo-count "$MO_COUNT" --mo-window 64 --mo-binds 2 --mo-start-file "$tmp/mo.start" \
  --mo-range-size "$RECORDS" --mo-number 18005550100 --mo-result "$tmp/mo.json" --pids-file "$tmp/mo.pids"
sink3=$sink_port
start_node gw2 "$sink2"
start_node gw3 "$sink3"
wait_ready gw2 60
wait_ready gw3 60

# ---- 1. import on gw2, replicated to gw3 -----------------------------------------------------------
bench_ndjson "$RECORDS" "$tmp/import.ndjson" 0
t0=$(now_ns)
http -X POST -T "$tmp/import.ndjson" -H 'Content-Type: application/x-ndjson' \
  "http://127.0.0.1:${node_http[gw2]}/v1/consents/import" >"$tmp/import.answer"
import_s=$(secs_since "$t0")
head2=$(audit_head gw2)
for ((i = 0; i < 60000; i++)); do [ "$(audit_head gw3)" = "$head2" ] && break; sleep 0.01; done
replicated_s=$(secs_since "$t0")
echo "{\"figure\":\"import\",\"records\":$RECORDS,\"import_s\":$import_s,\"records_per_s\":$(awk -v n="$RECORDS" -v s="$import_s" 'BEGIN { printf "%d", n / s }'),\"replicated_on_gw3_s\":$replicated_s,\"answer\":$(tail -1 "$tmp/import.answer")}"

# ---- 2. + 3. gw1 joins empty (catch-up), then STOP propagation gw1 -> gw2 ---------------------------
"$tools/smppguard-propagation" --smpp 127.0.0.1:0 --ports-file "$tmp/prop.ports" \
  --esme "127.0.0.1:${node_smpp[gw2]}" --count "$STOPS" --range-start 0 --start-file "$tmp/prop.start" \
  >"$tmp/propagation.json" 2>"$tmp/propagation.log" &
prop_pid=$!
pids+=("$prop_pid")
wait_file "$tmp/prop.ports" 10
t0=$(now_ns)
start_node gw1 "$(json_port "$tmp/prop.ports" smpp)"
wait_ready gw1 600
catch_s=$(secs_since "$t0")
[ "$(audit_head gw1)" = "$head2" ] || echo "cluster.sh: gw1 ready before it had gw2's audit head" >&2
echo "{\"figure\":\"catch_up\",\"records\":$RECORDS,\"ready_after_s\":$catch_s,\"records_per_s\":$(awk -v n="$RECORDS" -v s="$catch_s" 'BEGIN { printf "%d", n / s }')}"
touch "$tmp/prop.start"
wait "$prop_pid" || true
echo "{\"figure\":\"propagation\",\"stops\":$STOPS,\"result\":$(cat "$tmp/propagation.json")}"

# ---- 4. MT: one node, then haproxy over two --------------------------------------------------------
mt() {  # mt LABEL PORT
  "$tools/smppguard-loadgen" --server "127.0.0.1:$2" --binds "$BINDS" --window "$WINDOW" \
    --system-id bench --password bench --bind transmitter --messages "$MT_MESSAGES" \
    --range-start "$STOPS" --range-size $((RECORDS - STOPS)) --timeout 300 --label "$1" >"$tmp/mt-$1.json"
  echo "{\"figure\":\"mt\",\"via\":\"$1\",\"result\":$(cat "$tmp/mt-$1.json")}"
}
mt gw2-alone "${node_smpp[gw2]}"
lb_port=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
frontend smpp
  bind 127.0.0.1:$lb_port
  default_backend nodes
backend nodes
  balance roundrobin
  server gw2 127.0.0.1:${node_smpp[gw2]} check inter 500ms
  server gw3 127.0.0.1:${node_smpp[gw3]} check inter 500ms
EOF
/usr/sbin/haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids+=("$!")
sleep 1
mt haproxy-gw2-gw3 "$lb_port"

# ---- 5. MO into gw3 with the PostgreSQL commits -------------------------------------------------------
"$tools/smppguard-loadgen" --mode receive --server "127.0.0.1:${node_smpp[gw3]}" --binds 2 --bind receiver \
  --system-id bench --password bench --expect "$MO_COUNT" --idle 10 --timeout 300 >"$tmp/mo-receiver.json" &
rx_pid=$!
pids+=("$rx_pid")
for ((i = 0; i < 200; i++)); do
  curl -s "http://127.0.0.1:${node_http[gw3]}/metrics" | grep -q '^smppguard_binds{name="bench",side="esme"} 2' && break
  sleep 0.05
done
echo "daemon=${node_pid[gw3]},receiver=$rx_pid" >"$tmp/mo.pids"
touch "$tmp/mo.start"
wait_file "$tmp/mo.json" 600
wait "$rx_pid" || true
echo "{\"figure\":\"mo\",\"via\":\"gw3\",\"carrier\":$(cat "$tmp/mo.json"),\"receiver\":$(cat "$tmp/mo-receiver.json")}"
echo "{\"figure\":\"postgres\",\"consent_log_versions\":$(PGCONNECT_TIMEOUT=5 psql "$BENCH_PG" -Atc 'SELECT count(*) FROM smppguard.consent_log'),\"audit_entries\":$(psql "$BENCH_PG" -Atc 'SELECT count(*) FROM smppguard.audit')}"
log "done"
