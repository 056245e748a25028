#!/usr/bin/env bash
# End-to-end on Wine: kmon.sys runs as a kernel service in a private prefix
# and Windows node.exe runs @kmon/rx's synthetic checks
# (packages/kmon/test/synthetic.checks.ts) through the cross-built Windows
# @kmon/native. Every step is bounded. Prints JSON lines, one per check:
#   {"check": "...", "ok": true|false, "ms": n, "detail"|"error": "..."}
# Env: KMON_MECHANISMS (default "inverted-call"; "inverted-call event-pull"
# runs both), KMON_SYS_BUILD (kmon.sys to test; default the driver's gcc build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
B=$here/build
export WINEPREFIX=$B/wineprefix WINEARCH=win64 WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="winedbg.exe=d;mscoree,mshtml=" NODE_SKIP_PLATFORM_CHECK=1
node_exe=$B/node/package/bin/node.exe

log() { echo "wine-e2e: $*" >&2; }
result() { printf '{"check":"%s","ok":%s,"ms":0,"%s":"%s"}\n' "$1" "$2" "$([ "$2" = true ] && echo detail || echo error)" "$3"; }
w() { local limit=$1; shift; timeout -k 5 "$limit" wine "$@"; }
state() { w 30 sc query kmon 2>&1 | sed -n 's/.*STATE *: *[0-9] *\([A-Z_]*\).*/\1/p'; }
wait_state() {
	for _ in $(seq 1 100); do [ "$(state)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}

log "building (kmon.node, node.exe, dist, checks)"
make -s -C "$here" >&2
if [ -z "${KMON_SYS_BUILD:-}" ]; then # the driver of this checkout, never a stale image
	make -s -C "$root/packages/driver/windows" build/gcc/kmon.sys >&2
fi
sys_src=${KMON_SYS_BUILD:-$root/packages/driver/windows/build/gcc/kmon.sys}
cp "$sys_src" "$B/kmon.sys" # a snapshot: a driver rebuild meanwhile cannot swap it under the test
for p in core native rx; do (cd "$root/packages/$p" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json); done
node "$here/transpile-checks.mjs"

log "prefix and server"
[ -f "$WINEPREFIX/system.reg" ] || timeout 180 wineboot -i >/dev/null 2>&1
timeout 30 wineserver -k 2>/dev/null || true
timeout 30 wineserver -p
trap 'timeout 30 wineserver -k 2>/dev/null || true' EXIT
# A crash must fail its step, not wait for a debugger.
w 30 reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Auto /t REG_SZ /d 0 /f >/dev/null
sys_win=$(winepath -w "$B/kmon.sys")
w 30 sc stop kmon >/dev/null 2>&1 || true
w 30 sc delete kmon >/dev/null 2>&1 || true

log "loading $sys_win"
w 30 sc create kmon type= kernel binPath= "$sys_win" >/dev/null
w 60 sc start kmon >/dev/null || true
if ! wait_state RUNNING; then
	result "kmon.sys loads under Wine" false "sc start kmon: state $(state)"
	exit 1
fi

for mech in ${KMON_MECHANISMS:-inverted-call}; do
	log "node.exe: synthetic checks, $mech"
	out=$B/e2e-$mech.out
	status=0
	KMON_MECHANISM=$mech w 300 "$node_exe" "$here/wine-checks.mjs" >"$out" 2>&1 || status=$?
	sed "s/^{\"check\":\"/{\"mechanism\":\"$mech\",\"check\":\"/" "$out"
	grep -q '^{"done":true}' "$out" || result "node.exe ran every check ($mech)" false "exit $status: $(tail -c 600 "$out" | tr '\n"\\' ' ..')"
	[ $status -eq 0 ] || result "node.exe exits by itself once every session is closed ($mech)" false "exit status $status"
done

log "unloading"
w 60 sc stop kmon >/dev/null 2>&1 || true
if wait_state STOPPED; then
	result "kmon.sys unloads cleanly after the run" true "sc stop kmon: STOPPED"
else
	result "kmon.sys unloads cleanly after the run" false "sc stop kmon: state $(state)"
fi
w 30 sc delete kmon >/dev/null 2>&1 || true

log "node.exe: Windows-only checks (kmon.sys not loaded)"
out=$B/e2e-windows.out
status=0
KMON_SYS=$sys_win w 180 "$node_exe" "$here/wine-windows-checks.mjs" >"$out" 2>&1 || status=$?
grep '^{"check"' "$out" || true
grep -q '^{"done":true}' "$out" || result "node.exe ran every Windows-only check" false "exit $status: $(tail -c 600 "$out" | tr '\n"\\' ' ..')"
