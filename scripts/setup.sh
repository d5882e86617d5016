#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine (Debian packages, the npm peers for interop tests)
# and configures + builds one build type. Safe to run again: it skips what is already there.
#   scripts/setup.sh debug|release [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."

build_type=${1:-debug}
shift || true

packages=(
  build-essential cmake ninja-build git pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  librocksdb-dev libyaml-cpp-dev prometheus-cpp-dev doctest-dev libssl-dev
  clang libclang-rt-14-dev tzdata curl
  nodejs npm
  prometheus libnet-smpp-perl systemd
  postgresql-15 libpq-dev haproxy
)

# Node.js may come from another source (NodeSource's nodejs bundles npm and conflicts with Debian's npm
# package): a working `node` and `npm` on PATH is enough.
have_command() { command -v "$1" >/dev/null 2>&1; }
missing=()
for p in "${packages[@]}"; do
  case "$p" in
    nodejs) have_command node && continue ;;
    npm) have_command npm && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Independent SMPP peers for tests/interop (the npm package `smpp`), pinned by package-lock.json.
if [ ! -d tests/interop/node_modules/smpp ]; then
  echo "setup: installing npm packages for tests/interop"
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
fi

case "$build_type" in
  debug) cmake_type=Debug ;;
  release) cmake_type=Release ;;
  *) echo "setup: build type must be debug or release" >&2; exit 64 ;;
esac
dir=build/$build_type
extra=()
if [ "$build_type" = release ]; then extra+=(-DSMPPGUARD_TESTS=OFF -DSMPPGUARD_BENCH=ON); fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$cmake_type" "${extra[@]}" >/dev/null
# Two cores in CI: let ninja use them all, but not more (memory of ASan builds).
ninja -C "$dir" -j "$(nproc)" "$@"
