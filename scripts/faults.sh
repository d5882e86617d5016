#!/usr/bin/env bash
# The fault suite (tests/faults), longer than CI runs it.
#   scripts/faults.sh                 # every faults test once (as CI does: 20 kill cycles)
#   scripts/faults.sh --cycles 200    # the kill -9 loop over STOPs and MOs with 200 cycles
#   scripts/faults.sh --soak 3600     # the Release daemon at 2,000 MT/s and 200 MO/s for an hour
# The first two build the Debug tree (ASan + UBSan, scripts/setup.sh debug) first; BUILD_DIR=...
# uses another build that has the faults_test target. Each run prints its figures (acknowledged
# STOPs and MOs, losses, duplicates) and fails on any loss.
# The soak builds the Release tree with the bench tools (BUILD_DIR=build/release SKIP_BUILD=1 uses
# one already built) and prints the daemon's RSS, open files and store size every SOAK_SAMPLE
# seconds (default 60), then a summary: first, last and highest value of each, and how much each
# grew over the second half of the run (a plateau grows by about nothing there).
set -euo pipefail
cd "$(dirname "$0")/.."

cycles=""
soak=""
while (($#)); do
  case "$1" in
    --cycles) cycles=${2:?--cycles needs a number}; shift 2 ;;
    --soak) soak=${2:?--soak needs a number of seconds}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "faults.sh: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done
if [ -n "$cycles" ] && ! [[ "$cycles" =~ ^[0-9]+$ && "$cycles" -gt 0 ]]; then
  echo "faults.sh: --cycles must be a positive number" >&2
  exit 64
fi
if [ -n "$soak" ]; then
  if ! [[ "$soak" =~ ^[0-9]+$ && "$soak" -ge 60 ]]; then
    echo "faults.sh: --soak takes a number of seconds, at least 60" >&2
    exit 64
  fi
  exec scripts/soak.sh "$soak"
fi

build=${BUILD_DIR:-build/debug}
if [ -z "${BUILD_DIR:-}" ]; then
  scripts/setup.sh debug smppguard faults_test e2e_store_tool
fi
bin=$build/smppguard
test_bin=$build/tests/faults/faults_test
[ -x "$test_bin" ] || { echo "faults.sh: $test_bin is missing" >&2; exit 1; }

if [ -n "$cycles" ]; then
  # A kill cycle takes about 1-2 s with the Debug build; allow 10 s each.
  SMPPGUARD_BIN=$bin SMPPGUARD_FAULT_CYCLES=$cycles \
    timeout $((cycles * 10 + 300)) "$test_bin" --no-intro=true --test-suite=kill_loop --success=false
else
  (cd "$build" && ctest -L faults --output-on-failure -j "$(nproc)" --timeout 900)
fi
