#!/usr/bin/env bash
# Datapath benchmarks: packets per second with bench/pktgen (XDP live
# frames) into bench/xdpcount (XDP counter), and TCP throughput with iperf3.
#
#   scripts/bench.sh [--quick] [--results FILE] [--chart FILE]
#
# Builds nothing: binaries come from $BPFNET_BUILD (default ./build):
# bench/pktgen, bench/xdpcount, userspace/daemon/bpfnetd, userspace/ctl/bpfnetctl
# (each may also be given as $PKTGEN, $XDPCOUNT, $BPFNETD, $BPFNETCTL).
# Needs root. Every topology lives in network namespaces named bnb<pid>-*,
# removed by the EXIT trap (with the daemon, its bpffs and the temp dir) even
# on failure; traffic only ever goes to addresses inside them.
#
# Runs (numbered as in the benchmark issue):
#   (1) raw limit: pktgen -> veth pair -> XDP counter (native, drop)
#   (5) container -> container on one network, bpfnet vs a Linux bridge:
#       UDP pps (pktgen in container A out of its eth0, counter on B's eth0)
#       and TCP iperf3 Gbit/s
#   (6) iperf3 directly over a veth pair (the TCP reference)
#   (3) Docker-style published port (bridge + iptables as Docker v28 writes
#       them, N published ports) for N = 1, 100, 1000, 5000, with
#       iptables-nft and iptables-legacy
#   (2), (4) bpfnet published ports: not yet available (placeholders below)
#
# Each figure is the median of 3 runs (1 with --quick, where a pps case lasts
# ~0.2 s and iperf3 1 s). A Markdown table goes to stdout; --results FILE
# also writes a RESULTS.md-style file (machine, command, table, notes) and
# a PNG chart of the scaling runs (gnuplot; --chart FILE to choose where,
# default beside FILE).
# Knobs (env): RUNS, PPS_SECS, IPERF_SECS, PPS_FLOWS, PPS_SIZE, SCALING_N.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BPFNET_BUILD:-$ROOT/build}
PKTGEN=${PKTGEN:-$BUILD/bench/pktgen}
XDPCOUNT=${XDPCOUNT:-$BUILD/bench/xdpcount}
BPFNETD=${BPFNETD:-$BUILD/userspace/daemon/bpfnetd}
BPFNETCTL=${BPFNETCTL:-$BUILD/userspace/ctl/bpfnetctl}

QUICK=0
RESULTS=""
CHART=""
CMDLINE="scripts/bench.sh $*"
[ -n "${BPFNET_BUILD:-}" ] && CMDLINE="BPFNET_BUILD=${BPFNET_BUILD#"$ROOT"/} $CMDLINE"
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --results) RESULTS=$2; shift ;;
    --chart) CHART=$2; shift ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  RUNS=${RUNS:-1} PPS_SECS=${PPS_SECS:-0.2} IPERF_SECS=${IPERF_SECS:-1}
else
  RUNS=${RUNS:-3} PPS_SECS=${PPS_SECS:-2} IPERF_SECS=${IPERF_SECS:-5}
fi
PPS_FLOWS=${PPS_FLOWS:-64}
PPS_SIZE=${PPS_SIZE:-60}
SCALING_N=${SCALING_N:-"1 100 1000 5000"}
if [ -n "$RESULTS" ] && [ -z "$CHART" ]; then
  CHART="$(dirname "$RESULTS")/scaling.png"
fi

# The system interpreter: a version-manager shim in PATH can cost a second per call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

log() { printf '[bench %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, BPF)"
for b in "$PKTGEN" "$XDPCOUNT" "$BPFNETD" "$BPFNETCTL"; do
  [ -x "$b" ] || die "missing $b (build first: ninja -C $BUILD, or set BPFNET_BUILD)"
done
command -v iperf3 >/dev/null || die "iperf3 missing (scripts/setup.sh installs it)"

# Tools bench.sh needs beyond scripts/setup.sh; apt-get only when missing.
apt_install() {
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v iptables-nft-restore >/dev/null || ! command -v iptables-legacy-restore >/dev/null; then
  apt_install iptables || die "could not install iptables"
fi
if [ -n "$CHART" ] && ! command -v gnuplot >/dev/null; then
  apt_install gnuplot-nox || log "gnuplot-nox could not be installed: no chart"
fi

# ---------------------------------------------------------------- plumbing
P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench.XXXXXX)
DAEMON_PID=""
BG_PIDS=()

cleanup() {
  local rc=$?
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  for n in $(ip netns list | awk '{print $1}' | grep "^${P}-"); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$n"
  done
  mountpoint -q "$T/bpffs" && umount "$T/bpffs"
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { echo "${P}-$1"; }
in_ns() { local n=$1; shift; ip netns exec "${P}-$n" "$@"; }
make_ns() {  # loopback up, no IPv6 (no ND/MLD frames in the counts)
  ip netns add "${P}-$1"
  ip -n "${P}-$1" link set lo up
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
del_ns() { local n; for n in "$@"; do ip netns del "${P}-$n" 2>/dev/null || true; done; }
mac_of() { ip -n "${P}-$1" -j link show "$2" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
# Next-hop MAC for IP as seen from namespace NS (ARP through the real path).
resolve_mac() {  # resolve_mac NS IP
  in_ns "$1" ping -c 1 -W 2 -q "$2" >/dev/null 2>&1 || true
  local mac
  mac=$(in_ns "$1" ip -j neigh show "$2" | "$PY" -c '
import json, sys
n = [e for e in json.load(sys.stdin) if e.get("lladdr")]
print(n[0]["lladdr"] if n else "")')
  [ -n "$mac" ] || die "no ARP answer for $2 in $1"
  echo "$mac"
}
# Host-side name of the veth whose other end is IFACE in namespace NS.
peer_ifname() {  # peer_ifname NS IFACE HOST_NS
  local idx
  idx=$(ip -n "${P}-$1" -j link show "$2" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["link_index"])')
  ip -n "${P}-$3" -j link show | "$PY" -c '
import json, sys
idx = int(sys.argv[1])
print(next(l["ifname"] for l in json.load(sys.stdin) if l["ifindex"] == idx))' "$idx"
}
json_get() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
median() { "$PY" -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

# One pps measurement: counter in RX_NS on RX_IF (MODE native|generic),
# pktgen in GEN_NS out of GEN_IF for PPS_SECS. Prints delivered packets per
# second (what the counter saw divided by the generator's sending time) and
# offered packets per second.
pps_once() {  # pps_once GEN_NS GEN_IF DST_MAC DST_IP DPORT RX_NS RX_IF MODE
  local gen_ns=$1 gen_if=$2 dmac=$3 dip=$4 dport=$5 rx_ns=$6 rx_if=$7 mode=$8
  local ready="$T/ready.$RANDOM" cnt="$T/cnt.json" gen="$T/gen.json" cpid i
  rm -f "$ready"
  "$XDPCOUNT" --netns "$(ns "$rx_ns")" --iface "$rx_if" --mode "$mode" --json --quiet \
    --interval 0 --ready-file "$ready" >"$cnt" 2>"$T/cnt.err" &
  cpid=$!
  for i in $(seq 1 100); do [ -f "$ready" ] && break; kill -0 $cpid 2>/dev/null || break; sleep 0.05; done
  [ -f "$ready" ] || { cat "$T/cnt.err" >&2; die "xdpcount did not attach to $rx_if in $rx_ns"; }
  "$PKTGEN" --netns "$(ns "$gen_ns")" --iface "$gen_if" --dst-mac "$dmac" --dst-ip "$dip" \
    --dport "$dport" --size "$PPS_SIZE" --flows "$PPS_FLOWS" --duration "$PPS_SECS" --json \
    >"$gen" 2>"$T/gen.err" || { cat "$T/gen.err" >&2; kill -INT $cpid; die "pktgen failed"; }
  sleep 0.05  # let the last batch drain
  kill -INT $cpid
  wait $cpid || { cat "$T/cnt.err" >&2; die "xdpcount failed"; }
  "$PY" -c '
import json, sys
c = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
print(c["packets"] / g["seconds"], g["pps"])' "$cnt" "$gen"
}

# RUNS measurements; prints "median run1 run2 ...;median-offered".
pps_runs() {
  local vals=() offered=() r out
  for r in $(seq 1 "$RUNS"); do
    out=$(pps_once "$@")
    vals+=("${out% *}")
    offered+=("${out#* }")
  done
  echo "$(median "${vals[@]}") ${vals[*]};$(median "${offered[@]}")"
}

# TCP throughput from CLIENT_NS to SERVER_IP (iperf3 server in SERVER_NS).
iperf_once() {  # iperf_once CLIENT_NS SERVER_NS SERVER_IP
  local out="$T/iperf.json" spid i
  in_ns "$2" iperf3 -s -1 -B "$3" >"$T/iperf-s.log" 2>&1 &
  spid=$!
  BG_PIDS+=($spid)
  for i in $(seq 1 50); do
    in_ns "$2" ss -ltn | grep -q ":5201 " && break
    sleep 0.05
  done
  in_ns "$1" iperf3 -c "$3" -t "$IPERF_SECS" -J >"$out" 2>&1 || { cat "$out" >&2; die "iperf3 to $3 failed"; }
  wait $spid 2>/dev/null || true
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$out"
}
iperf_runs() {
  local vals=() r
  for r in $(seq 1 "$RUNS"); do vals+=("$(iperf_once "$@")"); done
  echo "$(median "${vals[@]}") ${vals[*]}"
}

# Results: one line per row in $T/rows: KEY|ISSUE|CASE|UNIT|MEDIAN RUNS...[;OFFERED]
# (values in pps or bit/s; "-" when not measured; OFFERED: median offered pps).
add_row() {  # add_row KEY ISSUE CASE UNIT "MEDIAN RUN..."
  echo "$1|$2|$3|$4|$5" >>"$T/rows"
}
# measure KEY ISSUE CASE UNIT COMMAND...: runs COMMAND (pps_runs, iperf_runs,
# ...) and records its "median run..." line; a failure stops the benchmark.
measure() {
  local key=$1 issue=$2 case=$3 unit=$4 v
  shift 4
  v=$("$@") || die "$case: measurement failed"
  add_row "$key" "$issue" "$case" "$unit" "$v"
}

# A veth pair A <-> B between two namespaces.
veth_between() {  # veth_between NS_A IF_A NS_B IF_B
  ip link add "$2" netns "$(ns "$1")" type veth peer "$4" netns "$(ns "$3")"
}

# ------------------------------------------------------------ (1) and (6)
run_raw_and_veth() {
  log "(1) raw limit and (6) iperf3 over a veth pair"
  make_ns gen; make_ns rx
  veth_between gen veth0 rx veth1
  ip -n "$(ns gen)" addr add 10.210.0.1/24 dev veth0
  ip -n "$(ns rx)" addr add 10.210.0.2/24 dev veth1
  ip -n "$(ns gen)" link set veth0 up
  ip -n "$(ns rx)" link set veth1 up
  local dmac
  dmac=$(mac_of rx veth1)
  measure raw "(1)" "raw limit: pktgen -> veth -> XDP drop" pps \
    pps_runs gen veth0 "$dmac" 10.210.0.2 9 rx veth1 native
  measure veth_tcp "(6)" "TCP iperf3 over a veth pair (reference)" bps \
    iperf_runs gen rx 10.210.0.2
  del_ns gen rx
}

# ------------------------------------------------------ (5) Linux bridge
run_bridge_c2c() {
  log "(5) container to container over a Linux bridge"
  make_ns brh; make_ns bra; make_ns brb
  ip -n "$(ns brh)" link add br0 type bridge
  ip -n "$(ns brh)" addr add 10.211.0.1/24 dev br0
  ip -n "$(ns brh)" link set br0 up
  local c ip
  for c in a:10.211.0.2 b:10.211.0.3; do
    ip=${c#*:} c=${c%%:*}
    veth_between "br$c" eth0 brh "vh$c"
    ip -n "$(ns brh)" link set "vh$c" master br0 up
    ip -n "$(ns "br$c")" addr add "$ip/24" dev eth0
    ip -n "$(ns "br$c")" link set eth0 up
    ip -n "$(ns "br$c")" route add default via 10.211.0.1
  done
  measure bridge_tcp "(5)" "container -> container TCP iperf3, Linux bridge" bps \
    iperf_runs bra brb 10.211.0.3
  local dmac
  dmac=$(resolve_mac bra 10.211.0.3)
  # XDP frames out of A's eth0 are delivered to its peer only with GRO on there.
  "$XDPCOUNT" --netns "$(ns brh)" --iface vha --set-gro on
  measure bridge_pps "(5)" "container -> container UDP, Linux bridge" pps \
    pps_runs bra eth0 "$dmac" 10.211.0.3 9 brb eth0 generic
  del_ns bra brb brh
}

# ------------------------------------------------------------- (5) bpfnet
start_bpfnet() {
  make_ns host
  mkdir -p "$T/bpffs" "$T/state"
  mount -t bpf bpf "$T/bpffs"
  ip netns exec "$(ns host)" "$BPFNETD" --state-dir "$T/state" --bpffs "$T/bpffs/pins" \
    --socket "$T/bpfnetd.sock" >>"$T/bpfnetd.log" 2>&1 &
  DAEMON_PID=$!
  local i
  for i in $(seq 1 100); do
    "$BPFNETCTL" --socket "$T/bpfnetd.sock" version >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || { tail -20 "$T/bpfnetd.log" >&2; die "bpfnetd exited"; }
    sleep 0.1
  done
  die "bpfnetd did not answer"
}
stop_bpfnet() {
  kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""
  umount "$T/bpffs"
  del_ns host
}
ctl() { "$BPFNETCTL" --socket "$T/bpfnetd.sock" "$@"; }

run_bpfnet_c2c() {
  log "(5) container to container on a bpfnet network"
  start_bpfnet
  make_ns c1; make_ns c2
  ctl network create bench --subnet 10.212.0.0/24 >/dev/null
  ctl network connect bench c1 --netns "$(ns c1)" >/dev/null
  ctl network connect bench c2 --netns "$(ns c2)" >/dev/null
  local ip2
  ip2=$(in_ns c2 ip -4 -o addr show dev eth0 | awk '{split($4,a,"/"); print a[1]}')
  measure bpfnet_tcp "(5)" "container -> container TCP iperf3, bpfnet" bps \
    iperf_runs c1 c2 "$ip2"
  local dmac hostveth
  dmac=$(resolve_mac c1 "$ip2")
  hostveth=$(peer_ifname c1 eth0 host)
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro on
  measure bpfnet_pps "(5)" "container -> container UDP, bpfnet" pps \
    pps_runs c1 eth0 "$dmac" "$ip2" 9 c2 eth0 generic
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro off
  ctl network disconnect bench c1 >/dev/null || true
  ctl network disconnect bench c2 >/dev/null || true
  stop_bpfnet
  del_ns c1 c2
}

# ------------------------------------------- (3) Docker-style published port
# The ruleset Docker v28 writes for one bridge network BR (SUBNET) with one
# container CIP publishing host ports 10000.. to container ports 20000..
# (UDP, all host addresses), as iptables-restore input.
docker_rules() {  # docker_rules N BR SUBNET CIP
  local n=$1 br=$2 subnet=$3 cip=$4 i
  echo "*raw"
  echo ":PREROUTING ACCEPT [0:0]"
  echo ":OUTPUT ACCEPT [0:0]"
  echo "-A PREROUTING -d $cip/32 ! -i $br -j DROP"
  echo "COMMIT"
  echo "*filter"
  echo ":INPUT ACCEPT [0:0]"
  echo ":FORWARD DROP [0:0]"
  echo ":OUTPUT ACCEPT [0:0]"
  echo ":DOCKER - [0:0]"
  echo ":DOCKER-BRIDGE - [0:0]"
  echo ":DOCKER-CT - [0:0]"
  echo ":DOCKER-FORWARD - [0:0]"
  echo ":DOCKER-INTERNAL - [0:0]"
  echo ":DOCKER-USER - [0:0]"
  echo "-A FORWARD -j DOCKER-USER"
  echo "-A FORWARD -j DOCKER-FORWARD"
  for ((i = 0; i < n; i++)); do
    echo "-A DOCKER -d $cip/32 ! -i $br -o $br -p udp -m udp --dport $((20000 + i)) -j ACCEPT"
  done
  echo "-A DOCKER ! -i $br -o $br -j DROP"
  echo "-A DOCKER-BRIDGE -o $br -j DOCKER"
  echo "-A DOCKER-CT -o $br -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
  echo "-A DOCKER-FORWARD -j DOCKER-CT"
  echo "-A DOCKER-FORWARD -j DOCKER-INTERNAL"
  echo "-A DOCKER-FORWARD -j DOCKER-BRIDGE"
  echo "-A DOCKER-FORWARD -i $br -j ACCEPT"
  echo "COMMIT"
  echo "*nat"
  echo ":PREROUTING ACCEPT [0:0]"
  echo ":INPUT ACCEPT [0:0]"
  echo ":OUTPUT ACCEPT [0:0]"
  echo ":POSTROUTING ACCEPT [0:0]"
  echo ":DOCKER - [0:0]"
  echo "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"
  echo "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"
  echo "-A POSTROUTING -s $subnet ! -o $br -j MASQUERADE"
  echo "-A DOCKER -i $br -j RETURN"
  for ((i = 0; i < n; i++)); do
    echo "-A DOCKER ! -i $br -p udp -m udp --dport $((10000 + i)) -j DNAT --to-destination $cip:$((20000 + i))"
  done
  echo "COMMIT"
}

# client (10.213.0.2) --uplink veth--> host (10.213.0.1; bridge dbr0
# 10.214.0.1/24; ip_forward on; the rules above) --> container 10.214.0.2.
# Traffic goes to the last published port, the worst case of a linear chain.
# One-way UDP stays in conntrack state NEW, so every packet walks the filter
# DOCKER chain ("new" rows); after the container has answered each flow once
# the flows are ESTABLISHED and DOCKER-CT accepts them first ("established"
# rows). Fresh namespaces per backend and N, so no conntrack entry or table
# of one case leaks into the next.
docker_style_case() {  # docker_style_case BACKEND N
  local backend=$1 n=$2 hport=$((10000 + $2 - 1)) cport=$((20000 + $2 - 1))
  make_ns dcl; make_ns dh; make_ns dc
  veth_between dcl eth0 dh uplink
  ip -n "$(ns dcl)" addr add 10.213.0.2/24 dev eth0
  ip -n "$(ns dcl)" link set eth0 up
  ip -n "$(ns dh)" addr add 10.213.0.1/24 dev uplink
  ip -n "$(ns dh)" link set uplink up
  ip -n "$(ns dh)" link add dbr0 type bridge
  ip -n "$(ns dh)" addr add 10.214.0.1/24 dev dbr0
  ip -n "$(ns dh)" link set dbr0 up
  veth_between dc eth0 dh vethc
  ip -n "$(ns dh)" link set vethc master dbr0 up
  ip -n "$(ns dc)" addr add 10.214.0.2/24 dev eth0
  ip -n "$(ns dc)" link set eth0 up
  ip -n "$(ns dc)" route add default via 10.214.0.1
  in_ns dh sysctl -qw net.ipv4.ip_forward=1
  docker_rules "$n" dbr0 10.214.0.0/24 10.214.0.2 >"$T/rules"
  in_ns dh "iptables-${backend}-restore" <"$T/rules" || die "iptables-${backend}-restore refused the rules"
  # The host must know the container's MAC before the flood (as after any reply).
  in_ns dh ping -c 1 -W 2 -q 10.214.0.2 >/dev/null || die "host cannot reach the container"
  local dmac
  dmac=$(resolve_mac dcl 10.213.0.1)
  "$XDPCOUNT" --netns "$(ns dh)" --iface uplink --set-gro on
  measure "docker_${backend}_$n" "(3)" "published port UDP, Docker-style, iptables-$backend, N=$n, new" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc eth0 generic
  # One packet of every flow (conntrack entries), then one answer from the
  # container to each: from now on the flows are ESTABLISHED.
  "$PKTGEN" --netns "$(ns dcl)" --iface eth0 --dst-mac "$dmac" --dst-ip 10.213.0.1 --dport "$hport" \
    --size "$PPS_SIZE" --flows "$PPS_FLOWS" --count "$PPS_FLOWS" >/dev/null
  in_ns dc "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.214.0.2", int(sys.argv[1])))
for k in range(int(sys.argv[2])):
    s.sendto(b"reply", ("10.213.0.2", 10000 + k))' "$cport" "$PPS_FLOWS"
  measure "docker_est_${backend}_$n" "(3)" "published port UDP, Docker-style, iptables-$backend, N=$n, established" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc eth0 generic
  del_ns dcl dh dc
}

run_docker_style() {
  local backend n
  for backend in nft legacy; do
    for n in $SCALING_N; do
      log "(3) Docker-style published port, iptables-$backend, N=$n"
      docker_style_case "$backend" "$n"
    done
  done
}

# ------------------------------------ (2), (4) bpfnet published ports: TODO
# Placeholders until bpfnet's published ports land: the same client -> host
# uplink -> container path as docker_style_pps, with bpfnetd (XDP on the
# uplink) instead of the bridge and iptables, for one port and for
# N = $SCALING_N ports.
bench_bpfnet_published_port() {
  log "(2) bpfnet published port: not yet available"
  add_row bpfnet_pub "(2)" "published port UDP, bpfnet" pps "-"
}
bench_bpfnet_published_scaling() {
  local n
  log "(4) bpfnet published-port scaling: not yet available"
  for n in $SCALING_N; do
    add_row "bpfnet_pub_$n" "(4)" "published port UDP, bpfnet, N=$n" pps "-"
  done
}

# ------------------------------------------------------------------ report
render_table() {
  "$PY" - "$T/rows" "$PPS_SIZE" "$PPS_FLOWS" <<'EOF'
import sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
by_key = {r[0]: r for r in rows}
def median(key):
    r = by_key.get(key)
    if not r or r[4] == "-":
        return None
    return float(r[4].split(";")[0].split()[0])
import math
def sig(x, least):  # at least `least` decimals, and 3 significant digits
    d = least if x <= 0 else max(least, 2 - math.floor(math.log10(x)))
    return f"{x:.{d}f}"
def fmt(v, unit):
    return sig(v / 1e6, 3) if unit == "pps" else sig(v / 1e9, 2)
# Reference for "vs limit": (1) for pps rows, (6) for TCP rows. Reference for
# "vs Docker-style" (bpfnet rows only): the Linux bridge for container ->
# container, the iptables-nft "new" row with the same N for published ports.
def docker_ref(key):
    if key == "bpfnet_pps":
        return "bridge_pps"
    if key == "bpfnet_tcp":
        return "bridge_tcp"
    if key == "bpfnet_pub":
        return "docker_nft_1"
    if key.startswith("bpfnet_pub_"):
        return "docker_nft_" + key.rsplit("_", 1)[1]
    return None
print("| # | case | unit | median | runs | offered | vs limit | vs Docker-style |")
print("|---|---|---|---:|---|---:|---:|---:|")
for key, issue, case, unit, vals in rows:
    u = "Mpps" if unit == "pps" else "Gbit/s"
    if vals == "-":
        print(f"| {issue} | {case} | {u} | not yet available | | | | |")
        continue
    vals, _, offered = vals.partition(";")
    offered = fmt(float(offered), unit) if offered else ""
    v = [float(x) for x in vals.split()]
    med, runs = v[0], v[1:]
    lim = median("raw" if unit == "pps" else "veth_tcp")
    ref_key = docker_ref(key)
    ref = median(ref_key) if ref_key else None
    vs_lim = sig(med / lim, 2) if lim else ""
    vs_ref = sig(med / ref, 2) if ref else ""
    print(f"| {issue} | {case} | {u} | {fmt(med, unit)} | {', '.join(fmt(x, unit) for x in runs)} | {offered} | {vs_lim} | {vs_ref} |")
EOF
}

render_chart() {
  [ -n "$CHART" ] && command -v gnuplot >/dev/null || return 0
  "$PY" - "$T/rows" "$T/scaling.dat" <<'EOF'
import sys
rows = {l.split("|")[0]: l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()}
ns = sorted({int(k.rsplit("_", 1)[1]) for k in rows if k.startswith("docker_")})
series = ["docker_nft_{}", "docker_legacy_{}", "docker_est_nft_{}", "docker_est_legacy_{}", "bpfnet_pub_{}"]
with open(sys.argv[2], "w") as f:
    f.write("# N " + " ".join(k.format("Mpps") for k in series) + "\n")
    for n in ns:
        vals = []
        for k in series:
            r = rows.get(k.format(n))
            vals.append(str(float(r[4].split(";")[0].split()[0]) / 1e6) if r and r[4] != "-" else "NaN")
        f.write(f"{n} {' '.join(vals)}\n")
EOF
  mkdir -p "$(dirname "$CHART")"
  gnuplot <<EOF >"$T/gnuplot.log" 2>&1 || { log "gnuplot failed: no chart"; cat "$T/gnuplot.log" >&2; }
set terminal pngcairo size 800,560 noenhanced
set output "$T/chart.png"
set title "Published-port UDP pps vs number of published ports ($(uname -r), ${PPS_SIZE} B, median of $RUNS)"
set logscale x
set xlabel "published ports (N)"
set ylabel "delivered Mpps"
set yrange [0:*]
set key below
set grid
plot "$T/scaling.dat" using 1:2 with linespoints title "Docker-style, iptables-nft, new", \
     "" using 1:3 with linespoints title "Docker-style, iptables-legacy, new", \
     "" using 1:4 with linespoints title "Docker-style, iptables-nft, established", \
     "" using 1:5 with linespoints title "Docker-style, iptables-legacy, established", \
     "" using 1:6 with linespoints title "bpfnet (not yet available)"
EOF
  if [ -s "$T/chart.png" ]; then mv "$T/chart.png" "$CHART"; log "chart: $CHART"; fi
}

write_results() {
  local file=$1 table=$2 cpu
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mkdir -p "$(dirname "$file")"
  {
    echo "# bpfnet benchmark results"
    echo
    echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d). Every number below was measured"
    echo "in that run; rows not measured say so."
    echo
    echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, kernel $(uname -r)"
    echo "- command (from the repository root): \`$CMDLINE\`"
    echo "- load average before / after the run: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "  (figures move with other load on the machine)"
    echo "- runs per figure: $RUNS (median shown, every run listed); pps cases ${PPS_SECS} s each,"
    echo "  iperf3 ${IPERF_SECS} s each"
    echo "- pps: bench/pktgen, one thread pinned to CPU 0, ${PPS_SIZE}-byte UDP frames (no FCS),"
    echo "  ${PPS_FLOWS} flows (source ports), XDP live frames; delivered = packets the bench/xdpcount"
    echo "  counter saw at the receiving interface / the generator's sending time"
    echo
    echo "$table"
    echo
    echo "\"offered\": median rate bench/pktgen offered (pps rows). \"vs limit\": pps rows against"
    echo "(1), Gbit/s rows against (6). \"vs Docker-style\" (bpfnet rows): against the Linux bridge"
    echo "for container -> container, against the iptables-nft \"new\" row with the same N for"
    echo "published ports."
    [ -n "$CHART" ] && [ -f "$CHART" ] && { echo; echo "![published-port scaling]($(basename "$CHART"))"; }
    cat <<'EOF'

## How each row is measured

One generator thread on CPU 0 does everything: `BPF_PROG_TEST_RUN` builds and sends a batch
of 64 frames, and the receive path they trigger (veth NAPI, bridge or bpfnet, netfilter, the
counter) runs in softirq on the same core when the batch is flushed. The generator is thus
paced by the path: "offered" equals "delivered" unless something drops, and a figure is the
per-packet cost of generation plus path on one core (1 / figure), not a multi-core capacity.

- **(1) raw limit**: two namespaces joined by a veth pair; bench/pktgen redirects its frames
  into one end, bench/xdpcount drops them at native XDP on the other. Nothing else runs, so
  this is the ceiling of what one core can generate and receive.
- **(5) container -> container**: pktgen runs in container A's namespace and sends out of its
  `eth0` to container B's address and next-hop MAC (learnt by ARP); the counter runs in
  generic XDP mode on B's `eth0` (generic XDP also sees frames that arrive by
  `bpf_redirect_peer`, which skips the veth's native XDP). Frames redirected into a veth are
  delivered to the peer only if the peer has an XDP program or GRO on, so GRO is turned on at
  the host end of A's veth for the pps runs (for both bpfnet and the bridge). bpfnet: bpfnetd
  in a "host" namespace, one network, two containers (`bpfnetctl network connect`), as in
  tests/e2e. Bridge: the same two namespaces on a Linux bridge (br_netfilter is built in and
  `bridge-nf-call-iptables` left at its default; no rules). TCP: iperf3 A -> B, one stream
  (bpfnetd turns GRO on at each container's `eth0`; the bridge setup leaves the default, off).
- **(6)**: iperf3 straight over a veth pair, no bridge, no BPF.
- **(3) Docker-style published port**: client namespace --veth--> "host" namespace (uplink,
  GRO on) --DNAT--> Linux bridge --> container namespace. The host holds the rules Docker v28
  writes for one bridge network with one container publishing N UDP ports (raw PREROUTING
  drop of direct access; filter FORWARD -> DOCKER-USER, DOCKER-FORWARD -> DOCKER-CT,
  DOCKER-INTERNAL, DOCKER-BRIDGE -> DOCKER with one ACCEPT per port and the final DROP; nat
  PREROUTING/OUTPUT addrtype LOCAL -> DOCKER with one DNAT per port; MASQUERADE), loaded with
  `iptables-nft-restore` or `iptables-legacy-restore` into fresh namespaces per case. The
  traffic goes to the last published port, the worst case of a linear chain. "new": one-way
  UDP stays in conntrack state NEW, so every packet walks the filter DOCKER chain (the nat
  rules run once per flow). "established": the same flows after the container has answered
  each once, so DOCKER-CT accepts them before the per-port rules.
- **(2), (4) bpfnet published ports**: not yet available (they need bpfnet's published ports).
EOF
  } >"$file"
  log "results: $file"
}

# -------------------------------------------------------------------- main
: >"$T/rows"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, kernel $(uname -r); runs=$RUNS pps=${PPS_SECS}s iperf=${IPERF_SECS}s"
run_raw_and_veth
run_bridge_c2c
run_bpfnet_c2c
run_docker_style
bench_bpfnet_published_port
bench_bpfnet_published_scaling

TABLE=$(render_table)
echo "$TABLE"
render_chart
[ -n "$RESULTS" ] && write_results "$RESULTS" "$TABLE"
log "done"
