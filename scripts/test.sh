#!/usr/bin/env bash
# The whole test suite: set-up, a Debug build with ASan+UBSan, every ctest test (unit, e2e, interop),
# then a short bounded fuzzing pass over the SMPP decoder.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh debug
(cd build/debug && ctest --output-on-failure -j "$(nproc)" --timeout 600)
scripts/fuzz.sh --seconds "${SMPPGUARD_FUZZ_SECONDS:-20}"
echo "test.sh: all tests passed"
