#!/usr/bin/env bash
# Several bpfnet hosts and a 3-member etcd, for the overlay tests. Source
# after lib.sh. Hosts are namespaces PREFIX-h1, -h2... joined to the etcd
# cluster's switch (scripts/etcd_cluster.sh, namespaces PREFIX-sw/-e1..-e3):
# one LAN, 10.213.13.0/24, hosts at .21, .22... on their interface ul0 (the
# underlay). Each host has its own bpfnetd, bpffs, state dir and socket under
# $T/hN. lib.sh's EXIT trap removes every namespace (and so every process in
# them); the hosts' bpffs mounts go first.

ETCD_DIR="$T/etcd"
STORE=""
declare -A HOST_PID=()

etcd_do() { bash "$ROOT/scripts/etcd_cluster.sh" "$ETCD_DIR" "$@"; }

start_etcd() {
  etcd_do up "$P"
  STORE=$(etcd_do endpoints)
}

host_ip() { echo "10.213.13.$((20 + $1))"; }

cluster_cleanup() {
  local n
  for n in "${!HOST_PID[@]}"; do
    kill -KILL "${HOST_PID[$n]}" 2>/dev/null
    wait "${HOST_PID[$n]}" 2>/dev/null
  done
  for d in "$T"/h*/bpffs; do mountpoint -q "$d" && umount "$d"; done
  return 0
}
trap 'rc=$?; set +e; cluster_cleanup; (exit $rc); cleanup' EXIT

add_cluster_host() {  # add_cluster_host N
  local n=$1 h="${P}-h$1"
  ip netns add "$h"
  ip -n "$h" link set lo up
  ip link add "${P}h$n" netns "${P}-sw" type veth peer name ul0 netns "$h"
  ip -n "${P}-sw" link set "${P}h$n" master br0 up
  ip -n "$h" addr add "$(host_ip "$n")/24" dev ul0
  ip -n "$h" link set ul0 up
  mkdir -p "$T/h$n/bpffs" "$T/h$n/state"
  mount -t bpf bpf "$T/h$n/bpffs"
}

hctl() { local n=$1; shift; "$BPFNETCTL" --socket "$T/h$n/sock" "$@"; }

start_host_daemon() {  # start_host_daemon N [bpfnetd args...]
  local n=$1 i
  shift
  ip netns exec "${P}-h$n" "$BPFNETD" --state-dir "$T/h$n/state" --bpffs "$T/h$n/bpffs/pins" \
    --socket "$T/h$n/sock" --cgroup none --ct-gc-interval-ms 1000 --store "$STORE" \
    --host-name "h$n" --underlay ul0 --store-lease-ttl "${LEASE_TTL:-3}" "$@" \
    >>"$T/h$n/bpfnetd.log" 2>&1 &
  HOST_PID[$n]=$!
  for i in $(seq 1 100); do
    if hctl "$n" version >/dev/null 2>&1; then return 0; fi
    kill -0 "${HOST_PID[$n]}" 2>/dev/null || { tail -5 "$T/h$n/bpfnetd.log" >&2; fail "bpfnetd of h$n exited during start"; }
    sleep 0.1
  done
  fail "bpfnetd of h$n did not answer"
}

stop_host_daemon() {  # stop_host_daemon N [SIGNAL]
  local n=$1 sig=${2:-TERM}
  kill "-$sig" "${HOST_PID[$n]}"
  wait "${HOST_PID[$n]}" 2>/dev/null || true
  unset "HOST_PID[$n]"
}

# A container namespace on host N: PREFIX-hN-NAME.
add_container() {  # add_container N NAME
  ip netns add "${P}-h$1-$2"
  ip -n "${P}-h$1-$2" link set lo up
}
in_ctr() { local n=$1 c=$2; shift 2; ip netns exec "${P}-h$n-$c" "$@"; }

# Entries of host N's tunnel map: "IP REMOTE VNI" per line, sorted.
tunnels() {
  bpftool -j map dump pinned "$T/h$1/bpffs/pins/bpfnet_tunnels" | python3 -c '
import json, sys, socket, struct
rows = []
for e in json.load(sys.stdin):
    k, v = e["formatted"]["key"], e["formatted"]["value"]
    ip = socket.inet_ntoa(struct.pack("<I", k))
    rows.append("%s %s %d" % (ip, socket.inet_ntoa(struct.pack("<I", v["remote"])), v["vni"]))
print("\n".join(sorted(rows)))'
}

# Waits (up to SECONDS, default 10) until CMD succeeds.
eventually() {  # eventually SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# elapsed_until SECONDS CMD...: like eventually, and prints how long CMD took
# to hold, in seconds with millisecond digits. Deadlines are generous (a
# loaded 2-core CI machine delays etcd's lease expiry); the measured time
# goes to the log instead of deciding the verdict.
elapsed_until() {
  local start=$EPOCHREALTIME deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$start" "$EPOCHREALTIME"
}

# add_outside_client [NET] [N]: an outside client (namespace PREFIX-client,
# PREFIX-clientN for N > 1; NET.2) on host N's uplink up0 (NET.1), for
# services published on host N (default 1). NET: the first three octets,
# 10.96.0 unless given.
add_outside_client() {
  local net=${1:-10.96.0} n=${2:-1}
  local c="${P}-client"
  [ "$n" = 1 ] || c="${P}-client$n"
  ip netns add "$c"
  ip link add "${P}up$n" netns "${P}-h$n" type veth peer name eth0 netns "$c"
  ip -n "${P}-h$n" link set "${P}up$n" name up0
  ip -n "${P}-h$n" addr add "$net.1/24" dev up0
  ip -n "${P}-h$n" link set up0 up
  ip -n "$c" addr add "$net.2/24" dev eth0
  ip -n "$c" link set lo up
  ip -n "$c" link set eth0 up
  ip -n "$c" route add default via "$net.1"
}

# spread N [ADDRESS CLIENT]: N requests (each a new connection) from the
# outside client (namespace CLIENT, default PREFIX-client) to ADDRESS's
# published port 8080 (default host 1's, 10.96.0.1), as http_load.py counts
# them.
spread() {
  ip netns exec "${3:-${P}-client}" python3 "$E2E_DIR/http_load.py" "${2:-10.96.0.1}" 8080 "$1"
}

# answered_by JSON NAMES...: every name answered, no other, no error.
answered_by() {
  python3 - "$@" <<'PY'
import json, sys
c = json.loads(sys.argv[1]); want = set(sys.argv[2:])
print("spread:", c, file=sys.stderr)
assert c.get("errors", 0) == 0, c
got = {k for k, v in c.items() if k != "errors" and v > 0}
assert got == want, (got, want)
PY
}
