#!/usr/bin/env bash
# Builds proto/ with clang + libFuzzer (build/fuzz) and fuzzes each target for a bounded time.
#   scripts/fuzz.sh [--seconds N] [--jobs J]
# Crashes are written to fuzz-out/<target>/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N]" >&2; exit 64 ;;
  esac
done

CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSMPPGUARD_FUZZ=ON >/dev/null
ninja -C build/fuzz

status=0
for target in build/fuzz/tests/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus=build/fuzz/corpus/$name
  out=fuzz-out/$name
  mkdir -p "$corpus" "$out"
  seeds=tests/fuzz/corpus/${name#fuzz_}
  echo "fuzz.sh: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/" \
      -timeout=10 -rss_limit_mb=2048 "$corpus" "$seeds" 2>"$out/log.txt"; then
    echo "fuzz.sh: $name FOUND A FAILURE; see $out/" >&2
    tail -40 "$out/log.txt" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/log.txt" | tail -2
  fi
done
exit $status
