#!/usr/bin/env bash
# Datapath benchmarks: packets per second with bench/pktgen (XDP live
# frames) into bench/xdpcount (XDP counter), TCP throughput with iperf3,
# control-plane times, and the per-packet cost of each BPF path (Google
# Benchmark, bench/bench_endpoint).
#
#   scripts/bench.sh [--quick] [--results FILE] [--chart FILE]
#
# Builds nothing: binaries come from $BPFNET_BUILD (default ./build):
# bench/pktgen, bench/xdpcount, bench/bench_endpoint, userspace/daemon/bpfnetd,
# userspace/ctl/bpfnetctl (each may also be given as $PKTGEN, $XDPCOUNT,
# $BENCH_ENDPOINT, $BPFNETD, $BPFNETCTL).
# Needs root. Every topology lives in network namespaces named bnb<pid>-*,
# removed by the EXIT trap (with the daemons, their bpffs and the temp dir)
# even on failure; traffic only ever goes to addresses inside them.
#
# Runs (numbered as in the benchmark issue):
#   (1) raw limit: pktgen -> veth pair -> XDP counter (native, drop)
#   (5) container -> container on one network, bpfnet vs a Linux bridge:
#       UDP pps (pktgen in container A out of its eth0, counter on B's eth0)
#       and TCP iperf3 Gbit/s
#   (6) iperf3 directly over a veth pair (the TCP reference), and through a
#       published port: bpfnet (XDP and tc-only uplink) and Docker-style
#   (3) Docker-style published port (bridge + iptables as Docker v28 writes
#       them, N published ports) for N = 1, 100, 1000, 5000, with
#       iptables-nft and iptables-legacy
#   (2), (4) bpfnet published port (client -> uplink -> container), XDP and
#       tc-only uplink paths, N = 1 (2) and 100, 1000, 5000 (4) published
#       ports; "new": every packet a tuple the conntrack does not hold,
#       "established": 64 flows, each seen before
#   LB  the same through a 3-replica service's published port
#   (7) control plane: publishing N = 1000, 10000 ports with bpfnetctl vs
#       loading Docker's rules for them with iptables-restore (nft, legacy)
#   engine  Docker itself (docker.io 20.10, tests/e2e/docker_lib.sh): a
#       container on a `docker network create -d bpfnet` network vs the same
#       container on Docker's bridge driver, both with -p, one dockerd:
#       UDP pps (established, new tuples), TCP iperf3 from a client, and
#       host-local iperf3 to 127.0.0.1:port (bpfnet's socket hooks vs
#       docker-proxy); skipped (logged) when docker.io is not installed
#   ns/packet of each BPF path (bench/bench_endpoint; full runs only)
#
# Each figure is the median of 3 runs, one in each of 3 passes over the
# whole sequence (1 run with --quick, where a pps case lasts ~0.2 s and
# iperf3 1 s). A Markdown table goes to stdout; --results FILE
# also writes a RESULTS.md-style file (machine, command, tables, targets)
# and a PNG chart of the scaling runs (gnuplot; --chart FILE to choose
# where, default beside FILE).
# Knobs (env): PASSES (the whole sequence, 3; 1 with --quick), RUNS (per
# pass, 1), PPS_SECS, IPERF_SECS, PPS_FLOWS, PPS_SIZE, SCALING_N,
# NEW_ADDRS (new-flow tuples: NEW_ADDRS x 65536), CTL_N, GBENCH (0/1),
# GBENCH_REPS (bench_endpoint repetitions, default 5; 1 with --quick),
# BENCH_ONLY (subset of: raw bridge c2c docker pub-xdp pub-tc ctl engine gbench),
# PROFILE=DIR (perf profiles of the PROFILE_CASES rows; see below).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BPFNET_BUILD:-$ROOT/build}
PKTGEN=${PKTGEN:-$BUILD/bench/pktgen}
XDPCOUNT=${XDPCOUNT:-$BUILD/bench/xdpcount}
BPFNETD=${BPFNETD:-$BUILD/userspace/daemon/bpfnetd}
BPFNETCTL=${BPFNETCTL:-$BUILD/userspace/ctl/bpfnetctl}
BENCH_ENDPOINT=${BENCH_ENDPOINT:-$BUILD/bench/bench_endpoint}

QUICK=0
RESULTS=""
CHART=""
CMDLINE="scripts/bench.sh $*"
[ -n "${BPFNET_BUILD:-}" ] && CMDLINE="BPFNET_BUILD=${BPFNET_BUILD#"$ROOT"/} $CMDLINE"
for _v in PROFILE_CASES PROFILE BENCH_ONLY GBENCH_REPS GBENCH CTL_N NEW_ADDRS SCALING_N PPS_SIZE \
    PPS_FLOWS IPERF_SECS PPS_SECS RUNS PASSES; do  # knobs given in the environment, into the record
  [ -n "${!_v:-}" ] && CMDLINE="$_v=$(printf '%q' "${!_v}") $CMDLINE"
done
unset _v
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --results) RESULTS=$2; shift ;;
    --chart) CHART=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  PASSES=${PASSES:-1} RUNS=${RUNS:-1} PPS_SECS=${PPS_SECS:-0.2} IPERF_SECS=${IPERF_SECS:-1}
  GBENCH=${GBENCH:-0}
else
  # Three passes of one run each rather than three runs in a row: the runs of
  # a figure are then minutes apart, and a minutes-long slow phase of a shared
  # machine spoils one of them, not the median.
  PASSES=${PASSES:-3} RUNS=${RUNS:-1} PPS_SECS=${PPS_SECS:-2} IPERF_SECS=${IPERF_SECS:-5}
  GBENCH=${GBENCH:-1}
fi
GBENCH_REPS=${GBENCH_REPS:-$((PASSES * RUNS > 1 ? 5 : 1))}  # bench_endpoint repetitions
PPS_FLOWS=${PPS_FLOWS:-64}
PPS_SIZE=${PPS_SIZE:-60}
SCALING_N=${SCALING_N:-"1 100 1000 5000"}  # ascending
NEW_ADDRS=${NEW_ADDRS:-64}
NEW_FLOWS=$((NEW_ADDRS * 65536))
CT_FLOWS=131072  # bpfnetd's default conntrack: 262144 entries, two per flow
CTL_N=${CTL_N:-"1000 10000"}
BENCH_ONLY=${BENCH_ONLY:-"raw bridge c2c docker pub-xdp pub-tc ctl engine gbench"}
# PROFILE=DIR: one extra run of each case in PROFILE_CASES (row keys) under
# `perf record -C 0 -g`, not counted in the figures; reports in DIR/KEY.txt.
PROFILE=${PROFILE:-}
PROFILE_CASES=${PROFILE_CASES:-"raw raw2 bpfnet_xdp_new_1 bpfnet_xdp_est_1 bpfnet_tc_new_1 bpfnet_tc_est_1 docker_nt_legacy_1 docker_est_legacy_1 veth_tcp pub_tcp_xdp pub_tcp_tc"}
CUR_KEY=""
PROFILING=0
PASS=1
want() { [[ " $BENCH_ONLY " == *" $1 "* ]]; }
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
command -v ethtool >/dev/null || die "ethtool missing (scripts/setup.sh installs it)"
if ((GBENCH)) && want gbench && [ ! -x "$BENCH_ENDPOINT" ]; then
  die "missing $BENCH_ENDPOINT (GBENCH=0 skips the per-packet benchmarks)"
fi

# Tools bench.sh needs beyond scripts/setup.sh; apt-get only when missing.
apt_install() {
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v iptables-nft-restore >/dev/null || ! command -v iptables-legacy-restore >/dev/null; then
  apt_install iptables || die "could not install iptables"
fi
if [ -n "$PROFILE" ]; then
  mkdir -p "$PROFILE"
  PROFILE=$(cd "$PROFILE" && pwd)
  command -v perf >/dev/null || apt_install linux-perf || die "PROFILE needs perf (linux-perf)"
fi
if [ -n "$CHART" ] && ! command -v gnuplot >/dev/null; then
  apt_install gnuplot-nox || log "gnuplot-nox could not be installed: no chart"
fi

# ---------------------------------------------------------------- plumbing
P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench.XXXXXX)
DAEMON_PID=""
BG_PIDS=()
CGROUP=""  # a cgroup v2 directory of the run's own for bpfnetd's socket hooks (bench_cgroup)

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
  drop_cgroup
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { echo "${P}-$1"; }
H=$(ns host)  # the bpfnetd "host" namespace, as tests/e2e/docker_lib.sh names it
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
median() {  # awk, not python: called for every figure
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { printf "%.17g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One pps measurement: counters on every NS:IF of RX (comma-separated; MODE
# native|generic), pktgen in GEN_NS out of GEN_IF for PPS_SECS with the
# given flow arguments (default: --flows PPS_FLOWS, source ports). Prints
# delivered packets per second (what the counters saw together divided by
# the generator's sending time) and offered packets per second; with more
# than one counter, their shares go to the log.
pps_once() {  # pps_once GEN_NS GEN_IF DST_MAC DST_IP DPORT RX MODE [PKTGEN FLOW ARGS...]
  local gen_ns=$1 gen_if=$2 dmac=$3 dip=$4 dport=$5 rx=$6 mode=$7
  shift 7
  local flow_args=("$@")
  ((${#flow_args[@]})) || flow_args=(--flows "$PPS_FLOWS")
  # New-flow floods go on where the previous one stopped (new_flow_args).
  [[ " ${flow_args[*]} " == *" addr-port "* ]] && flow_args+=(--first-flow "$(cat "$T/next_flow")")
  local gen="$T/gen.json" pids=() outs=() k=0 item ready i pid
  for item in ${rx//,/ }; do
    ready="$T/ready.$k"
    rm -f "$ready"
    "$XDPCOUNT" --netns "$(ns "${item%%:*}")" --iface "${item#*:}" --mode "$mode" --json --quiet \
      --interval 0 --ready-file "$ready" >"$T/cnt.$k.json" 2>"$T/cnt.$k.err" &
    pids+=($!)
    outs+=("$T/cnt.$k.json")
    for i in $(seq 1 100); do [ -f "$ready" ] && break; kill -0 "${pids[$k]}" 2>/dev/null || break; sleep 0.05; done
    [ -f "$ready" ] || { cat "$T/cnt.$k.err" >&2; die "xdpcount did not attach to $item"; }
    k=$((k + 1))
  done
  local perf_pid=""
  if ((PROFILING)); then
    # CPU 0 (pktgen and the softirq work it triggers), the whole sending time.
    perf record -q -C 0 -g -o "$PROFILE/$CUR_KEY.data" 2>"$T/perf.err" &
    perf_pid=$!
    sleep 0.5
  fi
  "$PKTGEN" --netns "$(ns "$gen_ns")" --iface "$gen_if" --dst-mac "$dmac" --dst-ip "$dip" \
    --dport "$dport" --size "$PPS_SIZE" "${flow_args[@]}" --duration "$PPS_SECS" --json \
    >"$gen" 2>"$T/gen.err" || { cat "$T/gen.err" >&2; kill -INT "${pids[@]}"; die "pktgen failed"; }
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -q -i "$PROFILE/$CUR_KEY.data" --stdio --no-children --sort symbol \
      --percent-limit 0.5 -g none >"$PROFILE/$CUR_KEY.txt" 2>/dev/null || true
    log "profile of $CUR_KEY: $PROFILE/$CUR_KEY.txt"
  fi
  sleep 0.05  # let the last batch drain
  kill -INT "${pids[@]}"
  k=0
  for pid in "${pids[@]}"; do
    wait "$pid" || { cat "$T/cnt.$k.err" >&2; die "xdpcount failed"; }
    k=$((k + 1))
  done
  local next=""
  [[ " ${flow_args[*]} " == *" addr-port "* ]] && next="$T/next_flow"
  "$PY" -c '
import json, sys
g = json.load(open(sys.argv[1]))
if sys.argv[2]:  # new flows: the next flood starts after the last flow sent
    n = (int(open(sys.argv[2]).read()) + g["packets"]) % int(sys.argv[3])
    open(sys.argv[2], "w").write(str(n))
c = [json.load(open(f))["packets"] for f in sys.argv[4:]]
if len(c) > 1:
    print("counter shares: " + ", ".join("%.3f" % (x / max(1, sum(c))) for x in c), file=sys.stderr)
print(sum(c) / g["seconds"], g["pps"])' "$gen" "$next" "$NEW_FLOWS" "${outs[@]}"
}

# New flows: pktgen's --flow-field addr-port over NEW_FLOWS tuples (NEW_ADDRS
# source addresses x 65536 source ports). Every flood starts at the flow after
# the last one the previous flood sent ($T/next_flow), so a tuple comes back
# only after NEW_FLOWS - 1 others, whatever the runs' lengths.
NEW_FLOW_ARGS=(--flows "$NEW_FLOWS" --flow-field addr-port --sport 0)
advance_flows() {  # advance_flows PKTGEN_JSON
  "$PY" -c '
import json, sys
n = (int(open(sys.argv[2]).read()) + json.load(open(sys.argv[1]))["packets"]) % int(sys.argv[3])
open(sys.argv[2], "w").write(str(n))' "$1" "$T/next_flow" "$NEW_FLOWS"
}
# A flood of new flows (no counter), to fill a conntrack: COUNT packets, or
# as many as SECS seconds take.
new_flood() {  # new_flood GEN_NS DST_MAC DST_IP DPORT COUNT|SECSs
  local amount=(--count "$5")
  [[ $5 == *s ]] && amount=(--duration "${5%s}")
  "$PKTGEN" --netns "$(ns "$1")" --iface eth0 --dst-mac "$2" --dst-ip "$3" --dport "$4" \
    --size "$PPS_SIZE" "${NEW_FLOW_ARGS[@]}" --first-flow "$(cat "$T/next_flow")" "${amount[@]}" \
    --json >"$T/flood.json" || die "pktgen flood failed"
  advance_flows "$T/flood.json"
}
# One packet of each of the PPS_FLOWS established flows (source ports 10000..).
prime_flows() {  # prime_flows GEN_NS DST_MAC DST_IP DPORT
  "$PKTGEN" --netns "$(ns "$1")" --iface eth0 --dst-mac "$2" --dst-ip "$3" --dport "$4" \
    --size "$PPS_SIZE" --flows "$PPS_FLOWS" --count "$PPS_FLOWS" >/dev/null
}
# Then one answer to each of them from the receiver (UDP from FROM_IP:FROM_PORT
# in NS to the client's ports 10000..): for netfilter they are ESTABLISHED.
answer_flows() {  # answer_flows NS FROM_IP FROM_PORT CLIENT_IP
  in_ns "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for k in range(int(sys.argv[4])):
    s.sendto(b"reply", (sys.argv[3], 10000 + k))' "$2" "$3" "$4" "$PPS_FLOWS"
}

# RUNS measurements; prints "median run1 run2 ...;median-offered". With
# PROFILE, one more run of the PROFILE_CASES rows under perf (not counted).
pps_runs() {
  local vals=() offered=() r out
  for r in $(seq 1 "$RUNS"); do
    out=$(pps_once "$@")
    vals+=("${out% *}")
    offered+=("${out#* }")
  done
  if [ -n "$PROFILE" ] && [ "$PASS" = 1 ] && [[ " $PROFILE_CASES " == *" ${CUR_KEY:-} "* ]]; then
    PROFILING=1 pps_once "$@" >/dev/null
  fi
  echo "$(median "${vals[@]}") ${vals[*]};$(median "${offered[@]}")"
}

# TCP throughput from CLIENT_NS to CONNECT_IP:CONNECT_PORT, the iperf3
# server in SERVER_NS on SERVER_IP:SERVER_PORT (both default to the server's).
# IPERF_CLIENT_CGROUP=DIR: the client runs inside that cgroup.
iperf_once() {  # iperf_once CLIENT_NS SERVER_NS SERVER_IP [CONNECT_IP CONNECT_PORT SERVER_PORT]
  local sip=$3 cip=${4:-$3} cport=${5:-5201} sport=${6:-5201}
  local out="$T/iperf.json" spid i cg=()
  [ -n "${IPERF_CLIENT_CGROUP:-}" ] &&
    cg=(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$IPERF_CLIENT_CGROUP")
  in_ns "$2" iperf3 -s -1 -B "$sip" -p "$sport" >"$T/iperf-s.log" 2>&1 &
  spid=$!
  BG_PIDS+=($spid)
  for i in $(seq 1 50); do
    in_ns "$2" ss -ltn | grep -q ":$sport " && break
    sleep 0.05
  done
  in_ns "$1" "${cg[@]}" iperf3 -c "$cip" -p "$cport" -t "$IPERF_SECS" -J >"$out" 2>&1 \
    || { cat "$out" >&2; die "iperf3 to $cip:$cport failed"; }
  wait $spid 2>/dev/null || true
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$out"
}
iperf_runs() {
  local vals=() r
  for r in $(seq 1 "$RUNS"); do vals+=("$(iperf_once "$@")"); done
  if [ -n "$PROFILE" ] && [ "$PASS" = 1 ] && [[ " $PROFILE_CASES " == *" ${CUR_KEY:-} "* ]]; then
    # One more run under perf, every CPU (sender and receiver), not counted.
    perf record -q -a -g -o "$PROFILE/$CUR_KEY.data" 2>/dev/null &
    local perf_pid=$!
    sleep 0.5
    iperf_once "$@" >/dev/null
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    perf report -q -i "$PROFILE/$CUR_KEY.data" --stdio --no-children --sort symbol \
      --percent-limit 0.5 -g none >"$PROFILE/$CUR_KEY.txt" 2>/dev/null || true
    log "profile of $CUR_KEY: $PROFILE/$CUR_KEY.txt"
  fi
  echo "$(median "${vals[@]}") ${vals[*]}"
}

# Results: one line per row in $T/rows: KEY|ISSUE|CASE|UNIT|MEDIAN RUNS...[;OFFERED]
# (values in pps, bit/s or s; OFFERED: median offered pps).
add_row() {  # add_row KEY ISSUE CASE UNIT "MEDIAN RUN..."
  echo "$1|$2|$3|$4|$5" >>"$T/rows"
}
# measure KEY ISSUE CASE UNIT COMMAND...: runs COMMAND (pps_runs, iperf_runs,
# ...) and records its "median run..." line; a failure stops the benchmark.
measure() {
  local key=$1 issue=$2 case=$3 unit=$4 v
  shift 4
  CUR_KEY=$key
  v=$("$@") || die "$case: measurement failed"
  CUR_KEY=
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
    pps_runs gen veth0 "$dmac" 10.210.0.2 9 rx:veth1 native
  measure veth_tcp "(6)" "TCP iperf3 over a veth pair (reference)" bps \
    iperf_runs gen rx 10.210.0.2
  # The same with the sender's checksum offload (and so TSO) off, as bpfnet's
  # XDP uplink path needs on a veth client (see (6) below): the sender then
  # segments and checksums in software, a cost of the veth topology.
  in_ns gen ethtool -K veth0 tx off >/dev/null
  measure veth_tcp_txoff "(6)" "TCP iperf3 over a veth pair, sender tx off (reference for the XDP path)" bps \
    iperf_runs gen rx 10.210.0.2
  del_ns gen rx

  measure_raw2 raw2 ""
}

# The same through two veth hops, a namespace between them forwarding at
# XDP (count, bpf_redirect), as the frames of a published port cross the
# uplink and then the container's veth.
measure_raw2() {  # measure_raw2 KEY CASE_SUFFIX
  make_ns gen; make_ns mid; make_ns rx
  veth_between gen veth0 mid veth1
  veth_between mid veth2 rx veth3
  local l
  for l in gen:veth0 mid:veth1 mid:veth2 rx:veth3; do ip -n "$(ns "${l%%:*}")" link set "${l#*:}" up; done
  ip -n "$(ns gen)" addr add 10.210.1.1/24 dev veth0
  "$XDPCOUNT" --netns "$(ns mid)" --iface veth1 --action redirect --redirect-to veth2 --quiet \
    --interval 0 --ready-file "$T/hop.ready" >/dev/null 2>"$T/hop.err" &
  local hop=$!
  BG_PIDS+=($hop)
  for l in $(seq 1 100); do [ -f "$T/hop.ready" ] && break; sleep 0.05; done
  [ -f "$T/hop.ready" ] || { cat "$T/hop.err" >&2; die "forwarding xdpcount did not attach"; }
  measure "$1" "(1)" "raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth -> XDP drop$2" pps \
    pps_runs gen veth0 "$(mac_of mid veth1)" 10.210.1.2 9 rx:veth3 native
  kill -INT $hop; wait $hop || true
  rm -f "$T/hop.ready"
  del_ns gen mid rx
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
    pps_runs bra eth0 "$dmac" 10.211.0.3 9 brb:eth0 generic
  del_ns bra brb brh
}

# ------------------------------------------------------------- bpfnetd
# The "host": a namespace with a bpffs of the run's own, where bpfnetd runs
# (socket hooks off: --cgroup none, so nothing is attached to the machine's
# cgroups, unless bench_cgroup made one of the run's own). Uplinks must exist
# before the daemon starts.
bpfnet_host() {
  make_ns host
  mkdir -p "$T/bpffs" "$T/state"
  mount -t bpf bpf "$T/bpffs"
}
# The daemon runs on the last CPU (pktgen and the softirq work it triggers
# are on CPU 0), so that its conntrack GC pass over a full table does not
# steal the measured core.
bpfnet_daemon() {  # bpfnet_daemon [BPFNETD ARGS...]
  ip netns exec "$(ns host)" taskset -c "$(($(nproc) - 1))" "$BPFNETD" --state-dir "$T/state" --bpffs "$T/bpffs/pins" \
    --socket "$T/bpfnetd.sock" --cgroup "${CGROUP:-none}" "$@" >>"$T/bpfnetd.log" 2>&1 &
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
  rm -rf "$T/state"
  del_ns host
}
ctl() { "$BPFNETCTL" --socket "$T/bpfnetd.sock" "$@"; }
# A cgroup v2 directory of the run's own (on a cgroup2 mount of its own, which
# `ip netns exec` does not hide) for bpfnetd's socket hooks: only processes
# put into it (iperf_once with IPERF_CLIENT_CGROUP) are seen by them.
bench_cgroup() {
  mkdir -p "$T/cgroup"
  mount -t cgroup2 none "$T/cgroup"
  CGROUP="$T/cgroup/bpfnet-bench-$$"
  mkdir "$CGROUP"
}
drop_cgroup() {  # (processes left in it go back to the root first)
  if [ -n "$CGROUP" ] && [ -d "$CGROUP" ]; then
    local pid
    while read -r pid; do echo "$pid" >"$T/cgroup/cgroup.procs" || true; done <"$CGROUP/cgroup.procs"
    rmdir "$CGROUP" || true
  fi
  CGROUP=""
  if mountpoint -q "$T/cgroup"; then umount "$T/cgroup"; fi
}

# ------------------------------------------------------------- (5) bpfnet
run_bpfnet_c2c() {
  log "(5) container to container on a bpfnet network"
  bpfnet_host
  bpfnet_daemon
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
    pps_runs c1 eth0 "$dmac" "$ip2" 9 c2:eth0 generic
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro off
  ctl network disconnect bench c1 >/dev/null || true
  ctl network disconnect bench c2 >/dev/null || true
  stop_bpfnet
  del_ns c1 c2
}

# ------------------------------------------- (3) Docker-style published port
# The ruleset Docker v28 writes for one bridge network BR (SUBNET) with one
# container CIP publishing host ports 10000.. to container ports 20000..
# (PROTO, default udp; all host addresses), as iptables-restore input.
docker_rules() {  # docker_rules N BR SUBNET CIP [PROTO]
  local n=$1 br=$2 subnet=$3 cip=$4 proto=${5:-udp} i
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
    echo "-A DOCKER -d $cip/32 ! -i $br -o $br -p $proto -m $proto --dport $((20000 + i)) -j ACCEPT"
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
    echo "-A DOCKER ! -i $br -p $proto -m $proto --dport $((10000 + i)) -j DNAT --to-destination $cip:$((20000 + i))"
  done
  echo "COMMIT"
}

# client (10.213.0.2) --uplink veth--> host (10.213.0.1; bridge dbr0
# 10.214.0.1/24; ip_forward on; the rules above for N PROTO ports) -->
# container 10.214.0.2. Fresh namespaces per case, so no conntrack entry or
# table of one case leaks into the next.
docker_topology() {  # docker_topology BACKEND N PROTO
  local backend=$1 n=$2 proto=$3
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
  docker_rules "$n" dbr0 10.214.0.0/24 10.214.0.2 "$proto" >"$T/rules"
  in_ns dh "iptables-${backend}-restore" <"$T/rules" || die "iptables-${backend}-restore refused the rules"
  # The host must know the container's MAC before the flood (as after any reply).
  in_ns dh ping -c 1 -W 2 -q 10.214.0.2 >/dev/null || die "host cannot reach the container"
}

# Traffic goes to the last published port, the worst case of a linear chain.
# One-way UDP stays in conntrack state NEW, so every packet walks the filter
# DOCKER chain ("new" rows); after the container has answered each flow once
# the flows are ESTABLISHED and DOCKER-CT accepts them first ("established"
# rows).
docker_style_case() {  # docker_style_case BACKEND N
  local backend=$1 n=$2 hport=$((10000 + $2 - 1)) cport=$((20000 + $2 - 1))
  docker_topology "$backend" "$n" udp
  local dmac
  dmac=$(resolve_mac dcl 10.213.0.1)
  "$XDPCOUNT" --netns "$(ns dh)" --iface uplink --set-gro on
  measure "docker_${backend}_$n" "(3)" "published port UDP, Docker-style, iptables-$backend, N=$n, new" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic
  # One packet of every flow (conntrack entries), then one answer from the
  # container to each: from now on the flows are ESTABLISHED.
  prime_flows dcl "$dmac" 10.213.0.1 "$hport"
  answer_flows dc 10.214.0.2 "$cport" 10.213.0.2
  measure "docker_est_${backend}_$n" "(3)" "published port UDP, Docker-style, iptables-$backend, N=$n, established" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic
  # The flood bpfnet's "new" rows get: every packet a tuple conntrack does not
  # hold (nf_conntrack_max entries; one-way UDP flows are not assured, so a
  # full table evicts them early). The table is filled for PPS_SECS first.
  new_flood dcl "$dmac" 10.213.0.1 "$hport" "${PPS_SECS}s"
  log "nf_conntrack after the fill: $(in_ns dh cat /proc/sys/net/netfilter/nf_conntrack_count) of $(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo '?')"
  measure "docker_nt_${backend}_$n" "(3)" "published port UDP, Docker-style, iptables-$backend, N=$n, new tuples" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic "${NEW_FLOW_ARGS[@]}"
  del_ns dcl dh dc
}

# (6) TCP through one published port (host 10000 -> container 20000).
docker_style_tcp() {  # docker_style_tcp BACKEND
  local backend=$1
  docker_topology "$backend" 1 tcp
  measure "pub_tcp_docker_$backend" "(6)" "TCP iperf3 through a published port, Docker-style, iptables-$backend" bps \
    iperf_runs dcl dc 10.214.0.2 10.213.0.1 10000 20000
  del_ns dcl dh dc
}

run_docker_style() {
  local backend n
  for backend in nft legacy; do
    for n in $SCALING_N; do
      log "(3) Docker-style published port, iptables-$backend, N=$n"
      docker_style_case "$backend" "$n"
    done
    log "(6) TCP through a Docker-style published port, iptables-$backend"
    docker_style_tcp "$backend"
  done
}

# ------------------------------------- (2), (4), (6), LB: bpfnet published ports
# client pcl (10.215.0.2) --veth--> uplink up0 of the bpfnetd "host"
# (10.215.0.1) --XDP or tc DNAT--> container pc on network pub
# (10.216.0.0/24). As in tests/e2e: XDP path = bpfnetd --uplink up0 with
# checksum offload off on the client end (a veth otherwise leaves checksums
# to "hardware", which XDP cannot see); tc path = bpfnetd --no-xdp, GRO on
# at up0 so that pktgen's XDP frames are accepted there.
PUB_HOST=10.215.0.1
PUB_CLIENT=10.215.0.2

# The bpfnetd "host" with its uplink up0 ($PUB_HOST) and the client pcl on it.
pub_client() {
  bpfnet_host
  make_ns pcl
  veth_between pcl eth0 host up0
  ip -n "$(ns pcl)" addr add "$PUB_CLIENT/24" dev eth0
  ip -n "$(ns pcl)" link set eth0 up
  ip -n "$(ns host)" addr add "$PUB_HOST/24" dev up0
  ip -n "$(ns host)" link set up0 up
}

# Publishes UDP ports 10000+FROM .. 10000+TO-1 -> 20000+i of container pc in one call.
publish_udp() {  # publish_udp FROM TO
  local i specs=()
  for ((i = $1; i < $2; i++)); do specs+=("$((10000 + i)):$((20000 + i))/udp"); done
  ((${#specs[@]})) || return 0
  ctl port-map add pc "${specs[@]}" >/dev/null
}

# Conntrack fill after a flood, to the log (from `bpfnetctl stats`).
log_ct() {
  ctl stats -o json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
ct = d.get("conntrack") or {}
print("conntrack after the new-flow runs:", json.dumps(ct) if ct else "(not in stats)", file=sys.stderr)' || true
}

bpfnet_pub_session() {  # bpfnet_pub_session xdp|tc
  local mode=$1 label cmode
  if [ "$mode" = xdp ]; then label="XDP"; cmode=native; else label="tc-only"; cmode=generic; fi
  log "bpfnet published ports, $label uplink path"
  # The two-hop limit once more, right before this session: on a shared
  # machine whose speed drifts, the session's figures are read against it.
  want raw && measure_raw2 "raw2_$mode" ", before the bpfnet $label rows"
  pub_client
  if [ "$mode" = xdp ]; then
    in_ns pcl ethtool -K eth0 tx off >/dev/null
    bpfnet_daemon --uplink up0
  else
    bpfnet_daemon --uplink up0 --no-xdp
    "$XDPCOUNT" --netns "$(ns host)" --iface up0 --set-gro on
  fi
  make_ns pc
  ctl network create pub --subnet 10.216.0.0/24 >/dev/null
  ctl network connect pub pc --netns "$(ns pc)" >/dev/null  # 10.216.0.2
  local dmac
  dmac=$(resolve_mac pcl "$PUB_HOST")

  # (6) TCP: host 15201 -> pc:5201 (unpublished again afterwards).
  ctl port-map add pc 15201:5201/tcp >/dev/null
  log "(6) TCP iperf3 through a bpfnet published port, $label"
  measure "pub_tcp_$mode" "(6)" "TCP iperf3 through a published port, bpfnet $label" bps \
    iperf_runs pcl pc 10.216.0.2 "$PUB_HOST" 15201 5201
  ctl port-map rm pc 15201/tcp >/dev/null

  # LB: a service with three replicas (each with a counter) published on
  # 30000/udp, next to the single-container rows below. Set up while the
  # conntrack is empty: the daemon's service requests read the whole
  # conntrack (backend flow counts), which takes seconds once it is full.
  # bpfnetd health-checks every service's backends (without --health: a TCP
  # connect to the service's first port every 2 s, out after 3 failures),
  # and the replicas have no TCP listener while their XDP counters drop
  # every frame, probes included: the checks are pushed out of the run
  # (one probe an hour, out after 100 failures) so that the replicas stay in.
  local r
  for r in 1 2 3; do
    make_ns "lbr$r"
    ctl network connect pub "lbr$r" --netns "$(ns "lbr$r")" >/dev/null
  done
  ctl service create lbsvc --network pub --port 9/udp --publish 30000:9/udp \
    --health tcp --health-interval 60m --health-fall 100 >/dev/null
  for r in 1 2 3; do ctl service add-backend lbsvc "lbr$r" >/dev/null; done

  # "new": NEW_FLOWS tuples (NEW_ADDRS source addresses x 65536 source
  # ports), far more than the conntrack holds (262144 entries, two per
  # flow), taken round robin: a tuple comes back only after NEW_FLOWS - 1
  # others, long after the LRU evicted it. Every new-flow figure is the
  # steady state of a full conntrack (the LRU evicting a flow for each new
  # one): it is filled first by a flood of twice its flow capacity.
  # "established": PPS_FLOWS flows, each sent one packet first (their
  # conntrack entries exist).
  log "filling the conntrack: $((2 * CT_FLOWS)) new flows"
  new_flood pcl "$dmac" "$PUB_HOST" 30000 $((2 * CT_FLOWS))
  log_ct
  log "LB: published port through a 3-replica service, $label"
  measure "lb_${mode}_new" "LB" "published port UDP through a 3-replica service, bpfnet $label, new" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" 30000 lbr1:eth0,lbr2:eth0,lbr3:eth0 "$cmode" \
    "${NEW_FLOW_ARGS[@]}"
  prime_flows pcl "$dmac" "$PUB_HOST" 30000
  measure "lb_${mode}_est" "LB" "published port UDP through a 3-replica service, bpfnet $label, established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" 30000 lbr1:eth0,lbr2:eth0,lbr3:eth0 "$cmode"
  # Every replica must still be in (a health check or anything else taking
  # one out would have skewed the rows above).
  ctl service inspect lbsvc | "$PY" -c '
import json, sys
b = json.load(sys.stdin)[0]["Backends"]
bad = [x["Container"] for x in b if x["State"] != "healthy"]
sys.exit("backends not healthy: %s" % bad if bad or len(b) != 3 else 0)' || die "LB backends changed during the run"
  ctl service rm lbsvc >/dev/null  # its published port goes with it

  # (2) N = 1 and (4) N = 100, 1000, 5000 UDP ports of pc (nothing else is
  # published now); flows to the last added.
  local have=0 n hport issue
  for n in $SCALING_N; do
    publish_udp "$have" "$n"
    have=$n
    hport=$((10000 + n - 1))
    issue="(4)"; [ "$n" = 1 ] && issue="(2)"
    log "$issue bpfnet published port UDP, $label, N=$n"
    measure "bpfnet_${mode}_new_$n" "$issue" "published port UDP, bpfnet $label, N=$n, new" pps \
      pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$hport" pc:eth0 "$cmode" "${NEW_FLOW_ARGS[@]}"
    prime_flows pcl "$dmac" "$PUB_HOST" "$hport"
    measure "bpfnet_${mode}_est_$n" "$issue" "published port UDP, bpfnet $label, N=$n, established" pps \
      pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$hport" pc:eth0 "$cmode"
  done
  # Control: N=1 once more, after the largest N (the container disconnected,
  # which drops its mappings, and connected again), so that a drift over
  # the session is not read as an effect of N.
  if [ "$have" != 1 ]; then
    log "(4) control: N=1 again after N=$have, $label"
    ctl network disconnect pub pc >/dev/null
    ctl network connect pub pc --netns "$(ns pc)" >/dev/null
    publish_udp 0 1
    measure "bpfnet_${mode}_new_1again" "(4)" "published port UDP, bpfnet $label, N=1 again after N=$have, new" pps \
      pps_runs pcl eth0 "$dmac" "$PUB_HOST" 10000 pc:eth0 "$cmode" "${NEW_FLOW_ARGS[@]}"
    "$PKTGEN" --netns "$(ns pcl)" --iface eth0 --dst-mac "$dmac" --dst-ip "$PUB_HOST" --dport 10000 \
      --size "$PPS_SIZE" --flows "$PPS_FLOWS" --count "$PPS_FLOWS" >/dev/null
    measure "bpfnet_${mode}_est_1again" "(4)" "published port UDP, bpfnet $label, N=1 again after N=$have, established" pps \
      pps_runs pcl eth0 "$dmac" "$PUB_HOST" 10000 pc:eth0 "$cmode"
  fi

  # (7) once more, with this daemon's full conntrack and 5000 mappings.
  if [ "$mode" = xdp ] && want ctl; then
    run_bpfnet_control_plane pub _ctfull ", conntrack full (262144 entries)"
  fi
  stop_bpfnet
  del_ns pcl pc lbr1 lbr2 lbr3
}

# ------------------------------------------------------- (7) control plane
# Wall time of one `bpfnetctl port-map add pcx SPEC x N` (TCP host ports
# 20000.. -> 20000..; the daemon validates, writes the maps and persists its
# state before answering), on a freshly connected container each run.
run_bpfnet_control_plane() {  # run_bpfnet_control_plane NETWORK KEY_SUFFIX CASE_SUFFIX
  local net=$1 sfx=$2 what=$3 n r i specs t0 t1 vals got
  make_ns pcx
  for n in $CTL_N; do
    log "(7) publishing $n ports with bpfnetctl$what"
    specs=()
    for ((i = 0; i < n; i++)); do specs+=("$((20000 + i)):$((20000 + i))/tcp"); done
    vals=()
    for r in $(seq 1 "$RUNS"); do
      ctl network connect "$net" pcx --netns "$(ns pcx)" >/dev/null
      local perf_pid=""
      if [ -n "$PROFILE" ] && [ "$PASS" = 1 ] && [ "$r" = 1 ]; then
        perf record -q -g -p "$DAEMON_PID" -o "$PROFILE/ctl_bpfnet${sfx}_$n.data" 2>/dev/null &
        perf_pid=$!
        sleep 0.3
      fi
      t0=$EPOCHREALTIME
      ctl port-map add pcx "${specs[@]}" >/dev/null || die "port-map add of $n ports failed"
      t1=$EPOCHREALTIME
      if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"; wait "$perf_pid" || true
        perf report -q -i "$PROFILE/ctl_bpfnet${sfx}_$n.data" --stdio --no-children --sort dso,symbol \
          --percent-limit 1 -g none >"$PROFILE/ctl_bpfnet${sfx}_$n.txt" 2>/dev/null || true
      fi
      vals+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }')")
      got=$(ctl port-map ls pcx | grep -c ' -> ' || true)
      [ "$got" = "$n" ] || die "published $got ports, wanted $n"
      ctl network disconnect "$net" pcx >/dev/null
    done
    add_row "ctl_bpfnet${sfx}_$n" "(7)" "publish N=$n ports: bpfnetctl port-map add (one call)$what" s \
      "$(median "${vals[@]}") ${vals[*]}"
  done
  del_ns pcx
}

# A daemon of its own (uplink, one network, no flows, nothing published).
bpfnet_ctl_session() {
  log "(7) control plane: a fresh bpfnetd"
  pub_client
  bpfnet_daemon --uplink up0
  ctl network create cp --subnet 10.217.0.0/24 >/dev/null
  run_bpfnet_control_plane cp "" ", idle daemon"
  stop_bpfnet
  del_ns pcl
}

# Wall time of `iptables-{nft,legacy}-restore` loading the rules Docker
# writes for N published TCP ports (docker_rules), into a fresh namespace
# each run. Docker itself adds them one iptables call at a time, which is
# slower: this is the most favourable way to load them.
run_docker_control_plane() {
  local backend n r vals se
  for backend in nft legacy; do
    for n in $CTL_N; do
      log "(7) loading Docker's rules for $n ports with iptables-$backend-restore"
      docker_rules "$n" dbr0 10.214.0.0/24 10.214.0.2 tcp >"$T/rules.$n"
      vals=()
      for r in $(seq 1 "$RUNS"); do
        make_ns dcp
        se=$(in_ns dcp bash -c 's=$EPOCHREALTIME; "$1" <"$2" || exit 1; echo "$s $EPOCHREALTIME"' \
          _ "iptables-$backend-restore" "$T/rules.$n") || die "iptables-$backend-restore failed"
        vals+=("$(awk -v a="${se% *}" -v b="${se#* }" 'BEGIN { printf "%.6f\n", b - a }')")
        del_ns dcp
      done
      add_row "ctl_${backend}_$n" "(7)" "publish N=$n ports: Docker's rules, iptables-$backend-restore" s \
        "$(median "${vals[@]}") ${vals[*]}"
    done
  done
}

# ------------------------------- engine: Docker itself, bpfnet vs bridge driver
# The real engine (Debian docker.io 20.10) in the bpfnetd "host" namespace
# H, run by tests/e2e/docker_lib.sh as tests/e2e/docker.sh runs it (a mount
# namespace of its own with a private /run, its cgroups under a parent of
# the run's own; all removed by the EXIT trap), next to `bpfnetd
# --docker-plugin bpfnet --uplink up0` with its socket hooks on a cgroup of
# the run's own. One image (busybox-static, imported), two containers that
# publish the same container ports: eb on a `docker network create -d
# bpfnet` network, ed on Docker's default bridge (iptables DNAT in H,
# docker-proxy for host-local connections). Their namespaces get names of
# the run's (`ip netns attach`), so that the pps and iperf3 helpers reach
# them as any other.
fail() { die "$@"; }  # docker_lib.sh's name for it
# shellcheck source=SCRIPTDIR/../tests/e2e/docker_lib.sh
source "$ROOT/tests/e2e/docker_lib.sh"
ENGINE_SUBNET=10.218.0.0/24
ENGINE_UDP_BPFNET=19009 ENGINE_TCP_BPFNET=15201  # host ports of eb (-> 9/udp, 5201/tcp)
ENGINE_UDP_BRIDGE=19010 ENGINE_TCP_BRIDGE=15202  # host ports of ed

# A container of the busybox image running `sleep`, its network namespace
# named $(ns NAME); prints its address on NETWORK.
engine_container() {  # engine_container NAME NETWORK [DOCKER RUN ARGS...]
  local name=$1 net=$2 pid
  shift 2
  dk run -d --name "$name" --network "$net" "$@" "$DOCKER_IMAGE" sleep 1000000 >/dev/null ||
    die "docker run $name"
  pid=$(dk inspect -f '{{.State.Pid}}' "$name")
  ip netns attach "$(ns "$name")" "$pid"
  in_ns "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # no ND/MLD frames in the counts
  docker_ip "$name" "$net"
}

run_engine() {
  if ! docker_tools_present; then
    log "engine: SKIPPED: Debian's docker.io (dockerd, containerd, runc) and busybox-static are not" \
      "installed (scripts/setup.sh installs them)"
    return 0
  fi
  log "engine: Docker $("$DOCKERD_BIN" --version | awk '{print $3}' | tr -d ,): a container on a bpfnet network vs Docker's bridge driver"
  docker_setup  # (the EXIT trap now stops dockerd first)
  pub_client
  in_ns pcl ethtool -K eth0 tx off >/dev/null  # bpfnet's XDP uplink path (see bpfnet_pub_session)
  bench_cgroup
  # dockerd first, as in tests/e2e/docker.sh (and on a host where Docker starts at boot).
  docker_start --userland-proxy=true
  bpfnet_daemon --uplink up0 --docker-plugin bpfnet --docker-plugin-socket "$DOCKER_PLUGINS/bpfnet.sock"
  local i
  for i in $(seq 1 50); do [ -S "$DOCKER_PLUGINS/bpfnet.sock" ] && break; sleep 0.1; done
  [ -S "$DOCKER_PLUGINS/bpfnet.sock" ] || die "bpfnetd made no plugin socket"
  docker_import_busybox
  dk network create -d bpfnet --subnet "$ENGINE_SUBNET" -o bpfnet.name=engine engine >/dev/null ||
    die "docker network create -d bpfnet"
  local ipb ipd dmac
  ipb=$(engine_container eb engine -p "$ENGINE_UDP_BPFNET:9/udp" -p "$ENGINE_TCP_BPFNET:5201/tcp")
  ipd=$(engine_container ed bridge -p "$ENGINE_UDP_BRIDGE:9/udp" -p "$ENGINE_TCP_BRIDGE:5201/tcp")
  log "engine: eb $ipb (bpfnet), ed $ipd (bridge); dockerd $(dk version -f '{{.Server.Version}}')"
  # Host-local connections to the bridge container's port go to docker-proxy
  # (Docker's nat OUTPUT rule skips 127.0.0.0/8); bpfnet's port has none.
  pgrep -f "docker-proxy .*-host-port $ENGINE_TCP_BRIDGE " >/dev/null || die "no docker-proxy for $ENGINE_TCP_BRIDGE"
  ! pgrep -f "docker-proxy .*-host-port $ENGINE_TCP_BPFNET " >/dev/null || die "a docker-proxy for bpfnet's port"

  log "engine: TCP iperf3 through the published ports, from the client and from the host"
  measure engine_tcp_bpfnet engine "TCP iperf3 through a published port, Docker engine, bpfnet network" bps \
    iperf_runs pcl eb "$ipb" "$PUB_HOST" "$ENGINE_TCP_BPFNET" 5201
  measure engine_tcp_bridge engine "TCP iperf3 through a published port, Docker engine, bridge driver" bps \
    iperf_runs pcl ed "$ipd" "$PUB_HOST" "$ENGINE_TCP_BRIDGE" 5201
  IPERF_CLIENT_CGROUP=$CGROUP measure engine_local_bpfnet engine \
    "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bpfnet network (socket hooks)" bps \
    iperf_runs host eb "$ipb" 127.0.0.1 "$ENGINE_TCP_BPFNET" 5201
  IPERF_CLIENT_CGROUP=$CGROUP measure engine_local_bridge engine \
    "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bridge driver (docker-proxy)" bps \
    iperf_runs host ed "$ipd" 127.0.0.1 "$ENGINE_TCP_BRIDGE" 5201

  # UDP: established (each flow sent one packet and answered once), then new
  # tuples after filling the conntrack (bpfnet's: 2 x its flows; H's
  # nf_conntrack: a flood of PPS_SECS), as in the (2) and (3) rows.
  dmac=$(resolve_mac pcl "$PUB_HOST")
  log "engine: UDP pps through the published ports"
  prime_flows pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET"
  answer_flows eb "$ipb" 9 "$PUB_CLIENT"
  prime_flows pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE"
  answer_flows ed "$ipd" 9 "$PUB_CLIENT"
  measure engine_est_bpfnet engine "published port UDP, Docker engine, bpfnet network (XDP uplink), established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" eb:eth0 native
  measure engine_est_bridge engine "published port UDP, Docker engine, bridge driver, established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" ed:eth0 generic
  new_flood pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" $((2 * CT_FLOWS))
  log_ct
  measure engine_new_bpfnet engine "published port UDP, Docker engine, bpfnet network (XDP uplink), new tuples" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" eb:eth0 native "${NEW_FLOW_ARGS[@]}"
  new_flood pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" "${PPS_SECS}s"
  log "nf_conntrack in H after the fill: $(in_ns host cat /proc/sys/net/netfilter/nf_conntrack_count)"
  measure engine_new_bridge engine "published port UDP, Docker engine, bridge driver, new tuples" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" ed:eth0 generic "${NEW_FLOW_ARGS[@]}"

  del_ns eb ed
  dk rm -f eb ed >/dev/null || die "docker rm"
  dk network rm engine >/dev/null || die "docker network rm"
  docker_stop
  (docker_cleanup)  # its cgroups (in a subshell: it turns errexit off)
  stop_bpfnet
  drop_cgroup
  del_ns pcl
}

# Waits (at most 30 s) until the last CPU has been >= 95% idle for a second.
wait_quiet() {
  local cpu="cpu$(($(nproc) - 1))" i a b
  for i in $(seq 1 30); do
    a=$(awk -v c="$cpu" '$1 == c { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 1
    b=$(awk -v c="$cpu" '$1 == c { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
      exit !((y[2] - x[2]) > 0 && (y[1] - x[1]) / (y[2] - x[2]) >= 0.95) }' && return 0
  done
  log "warning: $cpu did not get quiet; measuring anyway"
}

# --------------------------------------------- per-packet cost (Google Benchmark)
run_gbench() {
  log "per-packet cost of each BPF path: $BENCH_ENDPOINT (repetitions: $GBENCH_REPS, interleaved)"
  # On the last CPU, away from where the machine's interrupts mostly land;
  # repetitions in random order, so that drift over the run is not mistaken
  # for a difference between table sizes.
  taskset -c "$(($(nproc) - 1))" "$BENCH_ENDPOINT" --benchmark_repetitions="$GBENCH_REPS" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$T/gbench.json" \
    --benchmark_out_format=json >"$T/gbench.txt" 2>"$T/gbench.err" \
    || { tail -20 "$T/gbench.err" >&2; die "bench_endpoint failed"; }
  grep -h "harness with an empty program" "$T/gbench.err" >&2 || true
}

# ------------------------------------------------------------------ report
# One row per key: the runs of every pass together, their median, and the
# median of the passes' offered rates.
merge_passes() {
  "$PY" - "$T/rows" <<'EOF'
import statistics, sys
order, rows = [], {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    key, issue, case, unit, vals = line.rstrip("\n").split("|")
    if key not in rows:
        order.append(key)
        rows[key] = [issue, case, unit, [], []]
    if vals == "-":
        continue
    v, _, offered = vals.partition(";")
    rows[key][3] += v.split()[1:]
    if offered:
        rows[key][4].append(float(offered))
with open(sys.argv[1], "w") as f:
    for key in order:
        issue, case, unit, runs, offered = rows[key]
        if not runs:
            f.write(f"{key}|{issue}|{case}|{unit}|-\n")
            continue
        med = statistics.median(float(x) for x in runs)
        tail = f";{statistics.median(offered)!r}" if offered else ""
        f.write(f"{key}|{issue}|{case}|{unit}|{med!r} {' '.join(runs)}{tail}\n")
EOF
}

# Every figure, with "vs limit" (pps rows against (1), Gbit/s rows against
# (6) over a veth) and "vs Docker-style" (bpfnet rows against the faster
# Docker-style backend of the same case, engine rows against Docker's bridge
# driver; for times the ratio of the times, lower is better).
render_table() {
  "$PY" - "$T/rows" <<'EOF'
import math, re, sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
by_key = {r[0]: r for r in rows}
def median(key):
    r = by_key.get(key)
    if not r or r[4] == "-":
        return None
    return float(r[4].split(";")[0].split()[0])
def sig(x, least):  # at least `least` decimals, and 3 significant digits
    d = least if x <= 0 else max(least, 2 - math.floor(math.log10(x)))
    return f"{x:.{d}f}"
def fmt(v, unit):
    if unit == "pps":
        return sig(v / 1e6, 3)
    if unit == "bps":
        return sig(v / 1e9, 2)
    return sig(v, 3)
def best(keys, unit):
    vals = [median(k) for k in keys if median(k) is not None]
    if not vals:
        return None
    return min(vals) if unit == "s" else max(vals)
def docker_ref(key, unit):
    if key == "bpfnet_pps":
        return best(["bridge_pps"], unit)
    if key == "bpfnet_tcp":
        return best(["bridge_tcp"], unit)
    m = re.fullmatch(r"bpfnet_(xdp|tc)_(new|est)_(\d+)(?:again)?", key)
    if m:
        st = "nt_" if m[2] == "new" else "est_"
        return best([f"docker_{st}nft_{m[3]}", f"docker_{st}legacy_{m[3]}"], unit)
    m = re.fullmatch(r"lb_(xdp|tc)_(new|est)", key)
    if m:
        st = "nt_" if m[2] == "new" else "est_"
        return best([f"docker_{st}nft_1", f"docker_{st}legacy_1"], unit)
    if re.fullmatch(r"pub_tcp_(xdp|tc)", key):
        return best(["pub_tcp_docker_nft", "pub_tcp_docker_legacy"], unit)
    m = re.fullmatch(r"ctl_bpfnet(?:_ctfull)?_(\d+)", key)
    if m:
        return best([f"ctl_nft_{m[1]}", f"ctl_legacy_{m[1]}"], unit)
    m = re.fullmatch(r"engine_(\w+)_bpfnet", key)
    if m:  # the same container on Docker's own bridge driver
        return best([f"engine_{m[1]}_bridge"], unit)
    return None
UNITS = {"pps": "Mpps", "bps": "Gbit/s", "s": "s"}
print("| # | case | unit | median | runs | offered | vs limit | vs Docker-style |")
print("|---|---|---|---:|---|---:|---:|---:|")
for key, issue, case, unit, vals in rows:
    u = UNITS[unit]
    if vals == "-":
        print(f"| {issue} | {case} | {u} | not measured | | | | |")
        continue
    vals, _, offered = vals.partition(";")
    offered = fmt(float(offered), unit) if offered else ""
    v = [float(x) for x in vals.split()]
    med, runs = v[0], v[1:]
    lim = median("raw") if unit == "pps" else median("veth_tcp") if unit == "bps" else None
    if key.startswith("engine_local_"):
        lim = None  # over loopback (docker-proxy's first leg): no veth reference
    ref = docker_ref(key, unit)
    vs_lim = sig(med / lim, 2) if lim else ""
    vs_ref = sig(med / ref, 2) if ref else ""
    print(f"| {issue} | {case} | {u} | {fmt(med, unit)} | {', '.join(fmt(x, unit) for x in runs)} | {offered} | {vs_lim} | {vs_ref} |")
EOF
}

# The per-packet table from bench_endpoint's JSON: for each benchmark the
# median over repetitions of ns_per_pkt (warm: the kernel's loop) and of
# cold_ns_per_pkt (one run per call).
render_gbench() {
  [ -s "$T/gbench.json" ] || return 0
  "$PY" - "$T/gbench.json" <<'EOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
warm, cold = {}, {}
for b in d["benchmarks"]:
    if b.get("run_type") != "iteration" or b.get("error_occurred"):
        continue
    name = b["run_name"].split("/iterations")[0]
    warm.setdefault(name, []).append(b["ns_per_pkt"])
    cold.setdefault(name, []).append(b["cold_ns_per_pkt"])
warm = {k: statistics.median(v) for k, v in warm.items()}
cold = {k: statistics.median(v) for k, v in cold.items()}
def f(v):
    return f"{v:.0f}" if v is not None else "error"
paths = [
    ("forward", "forward between containers (tc, container veth)"),
    ("to_host", "container -> its gateway, passed to the host (tc)"),
    ("arp_reply", "ARP reply for the gateway (tc)"),
    ("drop_isolation", "drop: isolation, other network (tc)"),
    ("xdp_dnat_new", "published port DNAT, new flow (uplink XDP)"),
    ("xdp_dnat_established", "published port DNAT, established (uplink XDP)"),
    ("tc_dnat_new", "published port DNAT, new flow (uplink tc, --no-xdp)"),
    ("tc_dnat_established", "published port DNAT, established (uplink tc)"),
    ("reverse_nat", "reverse NAT: reply of a published flow (tc, container veth)"),
    ("masquerade_new", "masquerade, new flow (tc, container veth)"),
    ("masquerade_established", "masquerade, established (tc, container veth)"),
]
print("| path | warm, maps filled to 10 | to 10,000 | 10,000 / 10 | cold, 10 | cold, 10,000 |")
print("|---|---:|---:|---:|---:|---:|")
for key, label in paths:
    a, b = warm.get(f"{key}/fill:10"), warm.get(f"{key}/fill:10000")
    ratio = f"{b / a:.2f}" if a and b else ""
    print(f"| {label} | {f(a)} | {f(b)} | {ratio} | {f(cold.get(f'{key}/fill:10'))} | {f(cold.get(f'{key}/fill:10000'))} |")
print()
print("| LB: container -> service VIP | services | warm, 2 backends | 100 backends | cold, 2 | cold, 100 |")
print("|---|---:|---:|---:|---:|---:|")
for kind, label in (("lb_new", "new flow"), ("lb_established", "established")):
    for s in (1, 100, 10000):
        k2, k100 = f"{kind}/services:{s}/backends:2", f"{kind}/services:{s}/backends:100"
        print(f"| {label} | {s:,} | {f(warm.get(k2))} | {f(warm.get(k100))} | {f(cold.get(k2))} | {f(cold.get(k100))} |")
json.dump(warm, open(sys.argv[1] + ".medians", "w"))
EOF
}

# Targets: each stated with the measured ratio and whether it is met.
render_targets() {
  "$PY" - "$T/rows" "$T/gbench.json.medians" "$SCALING_N" "$CTL_N" <<'EOF'
import json, os, sys
rows = {l.split("|")[0]: l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()}
def m(key):
    r = rows.get(key)
    return float(r[4].split(";")[0].split()[0]) if r and r[4] != "-" else None
gb = json.load(open(sys.argv[2])) if os.path.exists(sys.argv[2]) else {}
ns = [int(x) for x in sys.argv[3].split()]
ctl_n = [int(x) for x in sys.argv[4].split()]
out = []
def row(target, measured, ok):
    verdict = "n/a" if ok is None else ("met" if ok else "**missed**")
    out.append(f"| {target} | {measured} | {verdict} |")
def faster(prefix, n):
    v = [(m(f"{prefix}{b}_{n}"), b) for b in ("nft", "legacy") if m(f"{prefix}{b}_{n}") is not None]
    return max(v) if v else (None, None)
raw, raw2 = m("raw"), m("raw2")
n1 = ns[0]
for mode, label in (("xdp", "XDP"), ("tc", "tc-only")):
    est, new = m(f"bpfnet_{mode}_est_{n1}"), m(f"bpfnet_{mode}_new_{n1}")
    (dest, dest_b), (dnt, dnt_b), (dnew, dnew_b) = faster("docker_est_", n1), faster("docker_nt_", n1), faster("docker_", n1)
    r2 = m(f"raw2_{mode}") or raw2
    if est and raw:
        extra = f"; {est/r2:.0%} of the two-hop limit measured before this path's rows ({r2/1e6:.2f} Mpps)" if r2 else ""
        row(f"{label}: published-port UDP, established, >= 80% of the raw limit (N={n1})",
            f"{est/raw:.0%} ({est/1e6:.2f} / {raw/1e6:.2f} Mpps){extra}", est / raw >= 0.8)
    if est and dest:
        row(f"{label}: established >= 10x Docker-style (N={n1}; faster backend: {dest_b})", f"{est/dest:.1f}x", est / dest >= 10)
    if new and dnt:
        also = f"; vs Docker's 64 conntrack-NEW flows ({dnew_b}): {new/dnew:.2f}x" if dnew else ""
        row(f"{label}: new flows >= 10x Docker-style with 1 port (same new-tuple flood; faster: {dnt_b})",
            f"{new/dnt:.2f}x ({new/1e6:.3f} / {dnt/1e6:.3f} Mpps){also}", new / dnt >= 10)
    vals = [(n, m(f"bpfnet_{mode}_new_{n}")) for n in ns]
    if all(v for _, v in vals) and len(vals) > 1:
        base = vals[0][1]
        dev = max(abs(v / base - 1) for _, v in vals)
        again = m(f"bpfnet_{mode}_new_{ns[0]}again")
        ctl = f"; N={ns[0]} again after N={ns[-1]}: {again/base:.2f}" if again else ""
        row(f"{label}: new flows flat (+-10%) from {ns[0]} to {ns[-1]} ports",
            f"vs N={ns[0]}: " + ", ".join(f"N={n} {v/base:.2f}" for n, v in vals[1:]) + f" (max deviation {dev:.0%}){ctl}",
            dev <= 0.10)
direct = m("veth_tcp")
for mode, label in (("xdp", "XDP"), ("tc", "tc-only")):
    t = m(f"pub_tcp_{mode}")
    if t and direct:
        txoff = m("veth_tcp_txoff")
        also = f"; {t/txoff:.0%} of direct with the sender's tx off ({txoff/1e9:.2f} Gbit/s), as this path's client has" if mode == "xdp" and txoff else ""
        row(f"{label}: TCP iperf3 through a published port >= 95% of direct", f"{t/direct:.0%} ({t/1e9:.2f} / {direct/1e9:.2f} Gbit/s){also}", t / direct >= 0.95)
for key, label in (("est", "published-port UDP, established"), ("new", "published-port UDP, new tuples"),
                   ("tcp", "TCP iperf3 through a published port"),
                   ("local", "host-local TCP iperf3 to 127.0.0.1:port (socket hooks vs docker-proxy)")):
    b, d = m(f"engine_{key}_bpfnet"), m(f"engine_{key}_bridge")
    if b and d:
        unit, div = ("Mpps", 1e6) if key in ("est", "new") else ("Gbit/s", 1e9)
        row(f"Docker engine, {label}: bpfnet network vs Docker's bridge driver",
            f"{b/d:.2f}x ({b/div:.3g} / {d/div:.3g} {unit}): {'bpfnet' if b > d else 'bridge driver'} faster", None)
for n in ctl_n:
    t = m(f"ctl_bpfnet_{n}")
    d = [x for x in (m(f"ctl_nft_{n}"), m(f"ctl_legacy_{n}")) if x is not None]
    full = m(f"ctl_bpfnet_ctfull_{n}")
    if t is not None and n >= 10000:
        row(f"{n:,} ports published in under a second (idle daemon)", f"{t:.3f} s" + (f"; Docker's rules, faster restore: {min(d):.3f} s" if d else ""), t < 1.0)
    if full is not None and n >= 10000:
        row(f"{n:,} ports published in under a second, conntrack full (262144 entries)", f"{full:.3f} s", full < 1.0)
if gb:
    def lb(kind, s, b):
        return gb.get(f"{kind}/services:{s}/backends:{b}")
    for kind, label in (("lb_new", "new flow"), ("lb_established", "established")):
        vals = {(s, b): lb(kind, s, b) for s in (1, 100, 10000) for b in (2, 100)}
        if all(v is not None for v in vals.values()):
            svc = max(vals[(10000, b)] / vals[(1, b)] for b in (2, 100))
            bk = max(vals[(s, 100)] / vals[(s, 2)] for s in (1, 100, 10000))
            row(f"LB per-packet cost ({label}) not growing with services (1 -> 10,000) or backends (2 -> 100), +-10%",
                f"{min(vals.values()):.0f}..{max(vals.values()):.0f} ns; 10,000 / 1 services: {svc:.2f}x; 100 / 2 backends: {bk:.2f}x",
                svc <= 1.10 and bk <= 1.10)
for mode, label in (("xdp", "XDP"), ("tc", "tc-only")):
    lbn, onen = m(f"lb_{mode}_new"), m(f"bpfnet_{mode}_new_{n1}")
    lbe, onee = m(f"lb_{mode}_est"), m(f"bpfnet_{mode}_est_{n1}")
    if lbn and onen and lbe and onee:
        row(f"LB ({label}): 3-replica service vs single-container mapping, pps", f"new {lbn/onen:.2f}x, established {lbe/onee:.2f}x", None)
print("| target | measured | verdict |")
print("|---|---|---|")
print("\n".join(out))
EOF
}

render_chart() {
  [ -n "$CHART" ] && command -v gnuplot >/dev/null || return 0
  "$PY" - "$T/rows" "$T/scaling.dat" <<'EOF'
import sys
rows = {l.split("|")[0]: l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()}
ns = sorted({int(k.rsplit("_", 1)[1]) for k in rows
             if k.startswith(("docker_", "bpfnet_xdp_", "bpfnet_tc_")) and k.rsplit("_", 1)[1].isdigit()})
series = ["bpfnet_xdp_new_{}", "bpfnet_xdp_est_{}", "bpfnet_tc_new_{}", "bpfnet_tc_est_{}",
          "docker_nft_{}", "docker_est_nft_{}", "docker_legacy_{}", "docker_est_legacy_{}",
          "docker_nt_nft_{}", "docker_nt_legacy_{}"]
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
set terminal pngcairo size 960,680 noenhanced
set output "$T/chart.png"
set title "Published-port UDP vs number of published ports ($(uname -r), ${PPS_SIZE} B frames, median of $((PASSES * RUNS)) runs)"
set logscale x
set logscale y
set xlabel "published ports (N); traffic to the last one"
set ylabel "delivered Mpps (log scale)"
set key below vertical maxrows 5
set grid
plot "$T/scaling.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "bpfnet XDP, new flows", \
     "" using 1:3 with linespoints lw 2 pt 5 lc rgb "#1f77b4" dt 2 title "bpfnet XDP, established", \
     "" using 1:4 with linespoints lw 2 pt 7 lc rgb "#2ca02c" title "bpfnet tc-only, new flows", \
     "" using 1:5 with linespoints lw 2 pt 5 lc rgb "#2ca02c" dt 2 title "bpfnet tc-only, established", \
     "" using 1:6 with linespoints pt 7 lc rgb "#d62728" title "Docker-style iptables-nft, new", \
     "" using 1:7 with linespoints pt 5 lc rgb "#d62728" dt 2 title "Docker-style iptables-nft, established", \
     "" using 1:8 with linespoints pt 7 lc rgb "#ff7f0e" title "Docker-style iptables-legacy, new", \
     "" using 1:9 with linespoints pt 5 lc rgb "#ff7f0e" dt 2 title "Docker-style iptables-legacy, established", \
     "" using 1:10 with linespoints pt 9 lc rgb "#d62728" dt 3 title "Docker-style iptables-nft, new tuples", \
     "" using 1:11 with linespoints pt 9 lc rgb "#ff7f0e" dt 3 title "Docker-style iptables-legacy, new tuples"
EOF
  if [ -s "$T/chart.png" ]; then mv "$T/chart.png" "$CHART"; log "chart: $CHART"; fi
}

write_results() {
  local file=$1 table=$2 gtable=$3 targets=$4 cpu
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mkdir -p "$(dirname "$file")"
  {
    echo "# bpfnet benchmark results"
    echo
    echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d). Every number below was measured"
    echo "in that run."
    echo
    echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "- command (from the repository root): \`$CMDLINE\`"
    echo "- load average before / after the run: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "  (figures move with other load on the machine); run took ${SECONDS} s"
    echo "- runs per figure: $((PASSES * RUNS)) ($PASSES passes over the whole sequence, $RUNS run each; median"
    echo "  shown, every run listed in pass order); pps cases ${PPS_SECS} s each, iperf3 ${IPERF_SECS} s each"
    echo "- pps: bench/pktgen, one thread pinned to CPU 0, ${PPS_SIZE}-byte UDP frames (no FCS), XDP"
    echo "  live frames; delivered = packets the bench/xdpcount counter(s) saw at the receiving"
    echo "  interface / the generator's sending time. Established: ${PPS_FLOWS} flows (source ports),"
    echo "  each seen before. New (bpfnet): $NEW_FLOWS tuples ($NEW_ADDRS source addresses x 65536"
    echo "  source ports) round robin, against a conntrack of 262144 entries (131072 flows)."
    echo
    echo "## Targets"
    echo
    echo "$targets"
    echo
    echo "## Throughput, latency-free figures"
    echo
    echo "$table"
    echo
    echo "\"offered\": median rate bench/pktgen offered (pps rows). \"vs limit\": pps rows against"
    echo "(1) (one veth hop), Gbit/s rows against (6) over a veth pair. \"vs Docker-style\" (bpfnet"
    echo "rows): against the faster of iptables-nft and iptables-legacy in the same case — same N;"
    echo "bpfnet \"new\" against Docker-style \"new tuples\" (the same flood), \"established\" against"
    echo "\"established\"; LB rows against N=1; container -> container against the Linux bridge; engine"
    echo "rows (bpfnet network) against the same container on Docker's bridge driver; for the (7)"
    echo "times the ratio of the times (lower is better). The host-local engine rows have no \"vs"
    echo "limit\": they run over loopback (docker-proxy's first leg), not a veth."
    [ -n "$CHART" ] && [ -f "$CHART" ] && { echo; echo "![published-port scaling]($(basename "$CHART"))"; }
    if [ -n "$gtable" ]; then
      echo
      echo "## Per-packet cost of each BPF path (bench/bench_endpoint)"
      echo
      echo "ns per packet of each program through \`BPF_PROG_TEST_RUN\` (bench/README.md has the method)."
      echo "Warm: the kernel's own repeat loop (1000 runs per call, 256 for new flows), a harness"
      echo "program restoring the frame (and giving each new-flow run its own tuple) and tail-calling"
      echo "the program, minus the harness with an empty program; median of 200 calls. Cold: one"
      echo "run per call (repeat = 1; caches as a syscall leaves them), minus an empty program;"
      echo "median of 10000 calls. Each figure: median of $GBENCH_REPS repetitions, run in random order, pinned"
      echo "to the last CPU. \"Maps filled\": endpoints, published ports and conntrack entries (the"
      echo "new-flow runs add up to 512 entries of their own during a call). LB: service i has a"
      echo "Maglev table of 251 slots; the datapath holds at most 4096 tables"
      echo "(BPFNET_MAX_SERVICE_TABLES), so with 10,000 services, services i and i+4096 share one."
      echo
      echo "$gtable"
    fi
    cat <<'EOF'

## How each row is measured

One generator thread on CPU 0 does everything: `BPF_PROG_TEST_RUN` builds and sends a batch
of 64 frames, and the receive path they trigger (veth NAPI, bridge or bpfnet, netfilter, the
counter) runs in softirq on the same core when the batch is flushed. The generator is thus
paced by the path: "offered" equals "delivered" unless something drops, and a figure is the
per-packet cost of generation plus path on one core (1 / figure), not a multi-core capacity.

- **(1) raw limit**: two namespaces joined by a veth pair; bench/pktgen redirects its frames
  into one end, bench/xdpcount drops them at native XDP on the other. Nothing else runs, so
  this is the ceiling of what one core can generate and receive. **Two veth hops**: the
  same with a namespace in between whose XDP program only counts and `bpf_redirect`s into
  a second veth pair (`xdpcount --action redirect`), the shape of bpfnet's XDP published-port
  path (client veth -> uplink XDP -> container veth) without bpfnet's work.
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
- **(6)**: iperf3, one stream, 1500-byte MTU everywhere: straight over a veth pair (no bridge,
  no BPF; the reference), and from a client namespace through a published port (host port
  15201 -> container 5201) of bpfnet (the (2) topology) and of the Docker-style setup (the (3)
  topology with the rules for one TCP port). bpfnet's XDP path needs `ethtool -K eth0 tx off`
  on the client (see README: XDP cannot see CHECKSUM_PARTIAL frames of a veth), which also
  turns TSO off there; an XDP program on a veth also takes software GSO off its peer.
  "sender tx off" is the veth pair again with that setting on the sender, the fair
  reference for the XDP row (a real NIC segments and checksums in hardware).
- **(3) Docker-style published port**: client namespace --veth--> "host" namespace (uplink,
  GRO on) --DNAT--> Linux bridge --> container namespace. The host holds the rules Docker v28
  writes for one bridge network with one container publishing N UDP ports (raw PREROUTING
  drop of direct access; filter FORWARD -> DOCKER-USER, DOCKER-FORWARD -> DOCKER-CT,
  DOCKER-INTERNAL, DOCKER-BRIDGE -> DOCKER with one ACCEPT per port and the final DROP; nat
  PREROUTING/OUTPUT addrtype LOCAL -> DOCKER with one DNAT per port; MASQUERADE), loaded with
  `iptables-nft-restore` or `iptables-legacy-restore` into fresh namespaces per case. The
  traffic goes to the last published port, the worst case of a linear chain. "new": 64 flows
  of one-way UDP stay in conntrack state NEW, so every packet walks the filter DOCKER chain
  (the nat rules run once per flow: no conntrack insertion per packet, Docker's best case
  for "new"). "established": the same flows after the container has answered each once, so
  DOCKER-CT accepts them before the per-port rules. "new tuples": the flood bpfnet's "new"
  rows get (below), every packet a tuple nf_conntrack does not hold, so every packet also
  allocates a conntrack entry and walks the nat DOCKER chain; nf_conntrack is filled first
  (a flood of PPS_SECS; its count is in the log), and unreplied UDP entries are evicted
  early when it is full.
- **(2), (4) bpfnet published port**: client namespace --veth--> bpfnetd "host" namespace
  (uplink `up0`, `bpfnetd --uplink up0`, the daemon pinned to the last CPU) --> container
  (`bpfnetctl network connect`), N UDP ports published by `bpfnetctl port-map add pc
  10000:20000/udp …` (one call per step: the ports 1..N are added to those of the previous
  N; nothing else is published then), traffic to the last one added. XDP path:
  the uplink's XDP program DNATs and redirects into the container's veth, the counter is in
  native XDP mode on the container's `eth0` (the frames arrive there as XDP frames; a socket
  receiver would need an skb there). tc-only path (`bpfnetd --no-xdp`): the tc program
  DNATs and delivers with `bpf_redirect_peer`; GRO on at `up0` (pktgen's XDP frames need it),
  generic counter. "new": every packet is a tuple the conntrack does not hold — pktgen's
  `--flow-field addr-port` cycles 64 source addresses x 65536 source ports (4,194,304 tuples),
  each flood going on where the previous one stopped, against a conntrack of 262144 entries
  (131072 flows, LRU) that a flood of 262144 flows filled before the first new-flow run: so
  each packet does a conntrack miss, the published-port lookup, and inserts two entries,
  each evicting an old one. "established": 64 flows, each sent one packet before the run
  (their entries exist; for UDP the per-packet path of a conntrack hit is the same whether
  or not the container answered). "N=1 again after N=5000": a control at the end of the
  session — the container disconnected (its 5000 mappings go) and connected again (a new
  veth), one port published — so that drift over the session is not read as an effect of N.
- **LB**: the same daemon and client, before the (2)/(4) rows; a service (`bpfnetctl service
  create lbsvc --network pub --port 9/udp --publish 30000:9/udp`, Maglev table 16381) with
  three replica containers (`service add-backend`), a native/generic counter on each
  replica's `eth0` (delivered = the sum; the shares are in the log), new and established
  flows as above (the conntrack fill is sent to this port). The service is removed before
  the (2)/(4) rows.
- **(7) control plane**: bpfnet: wall time of one `bpfnetctl port-map add pcx SPEC…` with N
  TCP specs (`20000:20000/tcp` …) against the running daemon (it validates the request,
  writes the published-port map and persists its state file before answering), the
  container freshly connected each run; "idle daemon": a daemon of its own with an uplink
  and one network, no flows; "conntrack full": the daemon of the XDP rows after them (5000
  mappings, 262144 conntrack entries, all read by its GC pass every 5 s on the one thread
  that also serves requests). Docker-style: wall time of `iptables-nft-restore` /
  `iptables-legacy-restore` loading the rules above for N TCP ports into a fresh namespace
  (Docker itself adds them one `iptables` call at a time, which is slower; the restore is
  its best case).
- **engine: Docker itself** (Debian's docker.io 20.10; skipped when it is not installed):
  one dockerd in the bpfnetd "host" namespace, run as tests/e2e/docker.sh runs it
  (tests/e2e/docker_lib.sh: a private /run, its containers' cgroups under a parent of the
  run's own), next to `bpfnetd --docker-plugin bpfnet --uplink up0` (XDP uplink path, socket
  hooks on a cgroup of the run's own) and the client of (2) on `up0`. One image
  (busybox-static, `docker import`), two containers running `sleep`, each publishing 9/udp
  and 5201/tcp with `-p`: one on a `docker network create -d bpfnet` network (host ports
  19009, 15201), one on Docker's default bridge (19010, 15202: Docker's own iptables DNAT in
  that namespace, and a docker-proxy per port, `--userland-proxy=true`). Both are reached
  through the same uplink, whose bpfnet programs pass the bridge container's packets on to
  the kernel after a conntrack and a published-port lookup (as on a host running both).
  UDP: pktgen from the client to each host port, the counter on the container's `eth0` (its
  namespace found by the container's PID; native XDP for bpfnet as in (2), generic for the
  bridge as in (3)); "established": 64 flows, each sent one packet and answered once by the
  container; "new tuples": the (2)/(4) flood, after filling bpfnet's conntrack (a flood of
  262144 flows, twice what it holds) or the namespace's nf_conntrack (a flood of PPS_SECS,
  as in (3)). TCP: iperf3 `-s` in the container's network namespace, started from the host
  (busybox has no iperf3); one stream from the client to host:port (checksum offload off on
  the client, as in (6)), and one from the host namespace to `127.0.0.1:port`: for bpfnet
  the client runs in the socket hooks' cgroup and its connect() goes straight to the
  container; for the bridge driver it reaches docker-proxy, which opens a second
  connection to the container (the client runs in the same cgroup, where no hook matches
  that port).
EOF
  } >"$file"
  log "results: $file"
}

# -------------------------------------------------------------------- main
: >"$T/rows"
echo 0 >"$T/next_flow"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, kernel $(uname -r); passes=$PASSES runs=$RUNS pps=${PPS_SECS}s iperf=${IPERF_SECS}s"
# The per-packet benchmarks first, on a machine not yet busy with the
# (asynchronous) teardown of the namespaces the other cases leave behind.
if ((GBENCH)) && want gbench; then wait_quiet; run_gbench; fi
for PASS in $(seq 1 "$PASSES"); do
  ((PASSES > 1)) && log "pass $PASS of $PASSES"
  want raw && run_raw_and_veth
  want bridge && run_bridge_c2c
  want c2c && run_bpfnet_c2c
  want docker && run_docker_style
  want pub-xdp && bpfnet_pub_session xdp
  want pub-tc && bpfnet_pub_session tc
  want ctl && bpfnet_ctl_session
  want ctl && run_docker_control_plane
  want engine && run_engine
done
merge_passes

TABLE=$(render_table)
GTABLE=$(render_gbench)
TARGETS=$(render_targets)
echo "$TABLE"
if [ -n "$GTABLE" ]; then echo; echo "$GTABLE"; fi
echo
echo "$TARGETS"
render_chart
[ -n "$RESULTS" ] && write_results "$RESULTS" "$TABLE" "$GTABLE" "$TARGETS"
log "done"
