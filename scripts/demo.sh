#!/usr/bin/env bash
# Set-up, a Release build of the daemon, then `smppguard demo`: the proxy and its built-in carrier
# simulator on loopback, printing how to connect. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh release smppguard
exec build/release/smppguard demo "$@"
