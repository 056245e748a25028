#!/usr/bin/env bash
# The fleet example in one command (as root, after `bash scripts/setup.sh`):
# a nats-server with JetStream in a temporary directory, two `kmon export`
# processes publishing this machine's events as hosts web-1 and web-2, and
# the aggregator printing per host, every 10 s, process starts per minute and
# failed exits. Ctrl-C stops everything (the exporters print their summaries).
#   bash examples/fleet/run.sh            (PORT=4223 to use another port)
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${PORT:-4222}
store=$(mktemp -d)
pids=()
cleanup() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -eq 0 ] || kill -INT "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  cat "$store"/web-*.log >&2 2>/dev/null || true
  rm -rf "$store"
}
trap cleanup EXIT INT TERM

nats-server -js -a 127.0.0.1 -p "$port" -sd "$store" 2>"$store/server.log" &
pids+=($!)
until grep -q 'Server is ready' "$store/server.log"; do
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$store/server.log" >&2; exit 1; }
  sleep 0.1
done

url="nats://127.0.0.1:$port"
for host in web-1 web-2; do
  node packages/cli/dist/bin.js export "$url" --host "$host" --kinds exec,exit --quiet 2>"$store/$host.log" &
  pids+=($!)
done
# The exporters create the stream the aggregator reads: start it once they run.
ready() { grep -q 'exporting to' "$store/web-1.log" && grep -q 'exporting to' "$store/web-2.log"; }
until ready; do
  for pid in "${pids[@]:1}"; do kill -0 "$pid" 2>/dev/null || exit 1; done # its error is printed on exit
  sleep 0.1
done
# FROM=all: the records published before the aggregator was ready count too.
FROM=all node examples/fleet/dist/aggregate.js "$url" web-1 web-2
