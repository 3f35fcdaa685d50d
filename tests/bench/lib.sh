#!/usr/bin/env bash
# Helpers for the tests of bench/pktgen and bench/xdpcount: namespaces with a
# per-test prefix, removed by the EXIT trap (pass or fail) with the temp dir.
# Nothing here touches the root namespace's interfaces.
set -euo pipefail
# The system interpreter: a version-manager shim in PATH can cost a second per call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
shopt -s inherit_errexit

: "${PKTGEN:?PKTGEN must point at bench/pktgen}"
: "${XDPCOUNT:?XDPCOUNT must point at bench/xdpcount}"

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
P="bt$$"
T=$(mktemp -d "/tmp/bpfnet-${TEST_NAME}.XXXXXX")
BG_PIDS=()

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

cleanup() {
  local rc=$?
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for n in $(ip netns list | awk '{print $1}' | grep "^${P}-"); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$n"
  done
  rm -rf "$T"
  if [ $rc -eq 0 ]; then log "PASS"; else log "FAILED (exit $rc)"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { echo "${P}-$1"; }
# Two namespaces a and b joined by a veth pair va (10.98.0.1) <-> vb
# (10.98.0.2), IPv6 off so that nothing but our frames crosses it.
make_pair() {
  local n
  for n in a b; do
    ip netns add "${P}-$n"
    ip netns exec "${P}-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip link add va netns "$(ns a)" type veth peer vb netns "$(ns b)"
  ip -n "$(ns a)" addr add 10.98.0.1/24 dev va
  ip -n "$(ns b)" addr add 10.98.0.2/24 dev vb
  ip -n "$(ns a)" link set va up
  ip -n "$(ns b)" link set vb up
  MAC_A=$(mac_of a va)
  MAC_B=$(mac_of b vb)
}
mac_of() { ip -n "${P}-$1" -j link show "$2" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
json_get() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# Counter on vb in namespace b; extra xdpcount flags follow.
COUNTER_PID=""
start_counter() {
  local ready="$T/ready"
  rm -f "$ready"
  "$XDPCOUNT" --netns "$(ns b)" --iface vb --json --quiet --interval 0 --ready-file "$ready" "$@" \
    >"$T/counter.json" 2>"$T/counter.err" &
  COUNTER_PID=$!
  BG_PIDS+=("$COUNTER_PID")
  local i
  for i in $(seq 1 100); do
    [ -f "$ready" ] && return 0
    kill -0 "$COUNTER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$T/counter.err" >&2
  fail "xdpcount did not attach"
}
# Stops the counter; its JSON summary is then in $T/counter.json.
stop_counter() {
  sleep 0.1  # frames still in a ring (none expected: delivery is synchronous)
  kill -INT "$COUNTER_PID"
  wait "$COUNTER_PID" || { cat "$T/counter.err" >&2; fail "xdpcount failed"; }
  COUNTER_PID=""
}
pktgen_a() {  # pktgen out of va towards vb; extra flags follow
  "$PKTGEN" --netns "$(ns a)" --iface va --dst-mac "$MAC_B" --dst-ip 10.98.0.2 --json "$@" >"$T/gen.json" \
    || fail "pktgen $* failed"
}
