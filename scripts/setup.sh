#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root). Safe to run again: each step
# skips what is already in place.
#   bash scripts/setup.sh           build and run kmon on Linux: system
#                                   packages, pnpm, the workspace, a full build
#   bash scripts/setup.sh windows   only the system packages of the Windows
#                                   driver's cross-build and Wine checks
#                                   (`pnpm test` runs this before its tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# clang-14/llvm/bpftool build the eBPF object and its skeleton; libbpf,
# libelf and zlib are what the addon links. nats-server (2.9, with
# JetStream) is what `kmon export` publishes to and @kmon/nats's tests run.
# chromium (headless) is the browser @kmon/ui's tests drive the page in.
LINUX_PACKAGES=(
  build-essential python3 pkg-config make
  clang-14 llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  nats-server
  chromium
)
# The Windows driver and addon, built and tested on Linux: mingw-w64, Wine,
# static analysers, the sanitizer runtime of the fuzzer.
WINDOWS_PACKAGES=(
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 mingw-w64-tools wine wine64
  cppcheck clang-tidy libclang-rt-14-dev
)

install_missing() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ "${1:-}" = windows ]; then
  install_missing "${WINDOWS_PACKAGES[@]}"
  exit 0
fi

install_missing "${LINUX_PACKAGES[@]}"

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

# node-gyp must build against the installed Node's headers, not download them.
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
pnpm install --frozen-lockfile --reporter=append-only
pnpm build
