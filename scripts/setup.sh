#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build, run and test kmon:
# system packages, pnpm, the workspace's dependencies, and a full build.
# Safe to run again: each step skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# Linux driver and addon: clang-14/llvm/bpftool build the eBPF object and its
# skeleton; libbpf/libelf/zlib are what the addon links. Windows driver (built
# and tested on Linux): mingw-w64, Wine, static analysers.
PACKAGES=(
  build-essential python3 pkg-config make
  clang-14 llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 mingw-w64-tools wine wine64
  cppcheck clang-tidy libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

# node-gyp must build against the installed Node's headers, not download them.
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
pnpm install --frozen-lockfile --reporter=append-only
pnpm build
