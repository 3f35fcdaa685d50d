#!/usr/bin/env bash
# Shared helpers for end-to-end tests. Every topology lives in network
# namespaces named with a per-test prefix; the EXIT trap removes them, the
# daemon, the bpffs mount and the temp dir even when the test fails.
# Nothing here touches the root namespace's interfaces.
set -euo pipefail

: "${BPFNETD:?BPFNETD must point at the bpfnetd binary}"
: "${BPFNETCTL:?BPFNETCTL must point at the bpfnetctl binary}"

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
# Short prefix: namespace names appear in interface-free places only, but keep them readable.
P="bn$$"
T=$(mktemp -d "/tmp/bpfnet-${E2E_NAME}.XXXXXX")
H="${P}-host"
SOCK="$T/bpfnetd.sock"
STATE="$T/state"
PINS="$T/bpffs/pins"
DAEMON_PID=""
BG_PIDS=()

log() { printf '[%s] %s\n' "$E2E_NAME" "$*" >&2; }
fail() {
  log "FAIL: $*"
  [ -f "$T/bpfnetd.log" ] && { log "--- daemon log ---"; tail -n 40 "$T/bpfnetd.log" >&2; }
  for f in "$T"/bg-*.log; do [ -f "$f" ] && { log "--- $f ---"; tail -n 20 "$f" >&2; }; done
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  for ns in $(ip netns list | awk '{print $1}' | grep "^${P}-"); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$ns"
  done
  mountpoint -q "$T/bpffs" && umount "$T/bpffs"
  if [ -n "${CGROUP:-}" ] && [ -d "$CGROUP" ]; then
    # Processes left in it (none should be) go back to the root first.
    for pid in $(cat "$CGROUP/cgroup.procs" 2>/dev/null); do echo "$pid" >"$T/cgroup/cgroup.procs"; done
    rmdir "$CGROUP"
  fi
  mountpoint -q "$T/cgroup" 2>/dev/null && umount "$T/cgroup"
  rm -rf "$T"
  if [ $rc -eq 0 ]; then log "PASS"; else log "FAILED (exit $rc)"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A namespace of ours, loopback up.
make_ns() {
  ip netns add "${P}-$1"
  ip -n "${P}-$1" link set lo up
}
ns() { echo "${P}-$1"; }
in_ns() { local n=$1; shift; ip netns exec "${P}-$n" "$@"; }

# The "host": a namespace where bpfnetd runs, with a bpffs of the test's own
# (mounted in the root mount namespace so pins survive daemon restarts even
# though `ip netns exec` gives each run a private mount namespace).
setup_host() {
  make_ns host
  mkdir -p "$T/bpffs" "$STATE"
  mount -t bpf bpf "$T/bpffs"
}

start_daemon() {
  # Socket hooks only on the test's own cgroup (setup_cgroup), never the machine's.
  ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" \
    --cgroup "${CGROUP:-none}" --ct-gc-interval-ms 1000 "$@" \
    >>"$T/bpfnetd.log" 2>&1 &
  DAEMON_PID=$!
  local i
  for i in $(seq 1 100); do
    if "$BPFNETCTL" --socket "$SOCK" version >/dev/null 2>&1; then return 0; fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "bpfnetd exited during start"
    sleep 0.1
  done
  fail "bpfnetd did not answer on $SOCK"
}

stop_daemon() {  # stop_daemon [SIGNAL]
  local sig=${1:-TERM}
  kill "-$sig" "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

ctl() { "$BPFNETCTL" --socket "$SOCK" "$@"; }

# Runs a command that must fail; prints its stderr.
must_fail() {
  local out
  if out=$("$@" 2>&1); then fail "expected failure: $*"; fi
  printf '%s\n' "$out"
}

# Background process inside a namespace, killed by cleanup.
bg_in_ns() {
  local n=$1; shift
  ip netns exec "${P}-$n" "$@" >>"$T/bg-$n.log" 2>&1 &
  BG_PIDS+=($!)
}

wait_http() {  # wait_http NS URL
  local i
  for i in $(seq 1 50); do
    in_ns "$1" curl -s -o /dev/null --max-time 1 "$2" && return 0
    sleep 0.1
  done
  fail "no HTTP answer from $2 in $1"
}

# Counter from `bpfnetctl stats -o json`: drops by reason name.
drop_count() {
  ctl stats -o json | python3 -c '
import json, sys
reason = sys.argv[1]
d = json.load(sys.stdin)
print(sum(r["packets"] for r in d["drops"] if r["reason"] == reason))' "$1"
}

# Everything that must not change when a request is refused.
snapshot() {
  {
    echo "== state"; cat "$STATE"/state.json 2>/dev/null || true
    echo "== links"; ip -n "$H" -o link show | awk '{print $2}' | sort
    echo "== addrs"; ip -n "$H" -o -4 addr show | awk '{print $2, $4}' | sort
    echo "== routes"; ip -n "$H" route show | sort
    for m in bpfnet_nets bpfnet_ep_ip bpfnet_ep_if bpfnet_subnets; do
      echo "== map $m"
      bpftool -j map dump pinned "$PINS/$m" 2>/dev/null || echo "(none)"
    done
  }
}

# An uplink: veth HOSTIF in the host namespace (HOSTIP/24) to eth0 of
# namespace PEER (PEERIP/24, default route via HOSTIP).
add_uplink() {  # add_uplink HOSTIF HOSTIP PEER PEERIP
  local hif=$1 hip=$2 peer=$3 pip=$4
  ip link add "${P}-$hif" type veth peer name "${P}-p$hif"
  ip link set "${P}-$hif" netns "$H"
  ip -n "$H" link set "${P}-$hif" name "$hif"
  ip link set "${P}-p$hif" netns "$(ns "$peer")"
  ip -n "$(ns "$peer")" link set "${P}-p$hif" name eth0
  ip -n "$H" addr add "$hip/24" dev "$hif"
  ip -n "$H" link set "$hif" up
  ip -n "$(ns "$peer")" addr add "$pip/24" dev eth0
  ip -n "$(ns "$peer")" link set eth0 up
  ip -n "$(ns "$peer")" route add default via "$hip"
  if [ "${UPLINK_MODE:-auto}" = xdp ]; then
    # Forced XDP on a veth: the peer must checksum in software, as a real
    # wire's frames are (with tx on, a veth peer leaves the checksum to
    # "hardware", CHECKSUM_PARTIAL, which XDP cannot see). Only tests that
    # force XDP on purpose do this; every other peer is left as a user has it.
    ip netns exec "$(ns "$peer")" ethtool -K eth0 tx off >/dev/null
  fi
}

# The uplink path a test runs (UPLINK_MODE): auto (the default: no flag,
# bpfnetd picks tc on a veth), xdp (forced, `--uplink NAME:xdp`) or tc
# (`--no-xdp`).
uplink_arg() {  # uplink_arg NAME: the --uplink value for NAME
  if [ "${UPLINK_MODE:-auto}" = xdp ]; then echo "$1:xdp"; else echo "$1"; fi
}
uplink_flags() { [ "${UPLINK_MODE:-auto}" = tc ] && echo --no-xdp || true; }

# A cgroup v2 directory of the test's own (for the socket hooks), on a cgroup2
# mount visible inside `ip netns exec` (which hides /sys/fs/cgroup).
setup_cgroup() {
  mkdir -p "$T/cgroup"
  mount -t cgroup2 none "$T/cgroup"
  CGROUP="$T/cgroup/bpfnet-${E2E_NAME}-$$"
  mkdir "$CGROUP"
}

# Runs a command in the host namespace from inside the test cgroup.
in_host_cgroup() {
  ip netns exec "$H" bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$CGROUP" "$@"
}

# Echoes UDP datagrams back (a tiny real server).
UDP_ECHO='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",int(sys.argv[1])))
while True:
    d,a=s.recvfrom(65535); s.sendto(d+(" from %s:%d" % a).encode(),a)'

# Sends one UDP datagram and prints the answer (fails after 2 s).
UDP_ASK='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(sys.argv[3].encode(),(sys.argv[1],int(sys.argv[2]))); print(s.recvfrom(65535)[0].decode())'

# Logs the source of every UDP datagram it gets, one per line.
UDP_LOG='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",int(sys.argv[1])))
while True:
    d,a=s.recvfrom(65535); print(a[0], flush=True)'

# A `bpfnetctl monitor` in the background, its output in $T/NAME.out and
# .err, its pid in NAME_pid; returns once it says the daemon streams.
start_monitor() {  # start_monitor NAME ARGS...
  local name=$1; shift
  "$BPFNETCTL" --socket "$SOCK" monitor "$@" >"$T/$name.out" 2>"$T/$name.err" &
  BG_PIDS+=($!)
  eval "${name}_pid=$!"
  local i
  for i in $(seq 1 100); do
    grep -q 'monitoring' "$T/$name.err" && return 0
    sleep 0.1
  done
  fail "monitor $name did not start: $(cat "$T/$name.err")"
}
