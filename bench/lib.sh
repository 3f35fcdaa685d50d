# shellcheck shell=bash
# Shared functions of scripts/bench.sh (sourced by it; defines functions and
# constants only): logging, the EXIT trap's cleanup, namespaces, the pps and
# iperf3 measurements, rows, the bpfnetd "host". The cases are in
# bench/cases/*.sh, the report in bench/report.py.
#
# Globals scripts/bench.sh sets first: the knobs (PPS_SECS ... PROFILE_CASES),
# the binaries, PY, and for the run: P (namespace prefix), T (temp dir).

log() { printf '[bench %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Tools bench.sh needs beyond scripts/setup.sh; apt-get only when missing.
apt_install() {
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ------------------------------------------------------------ run state
DAEMON_PID=""
BG_PIDS=()
CGROUP=""  # a cgroup v2 directory of the run's own for bpfnetd's socket hooks (bench_cgroup)
CUR_KEY=""  # the row being measured (profiles are named after it)
PROFILING=0
PASS=1

# The EXIT trap: every background process, the daemon, every namespace of the
# run (bnb<pid>-*), the bpffs and cgroup mounts and the temp dir, whatever
# state the run stopped in.
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

# ----------------------------------------------------------- namespaces
ns() { echo "${P}-$1"; }
in_ns() { local n=$1; shift; ip netns exec "${P}-$n" "$@"; }
make_ns() {  # loopback up, no IPv6 (no ND/MLD frames in the counts)
  ip netns add "${P}-$1"
  ip -n "${P}-$1" link set lo up
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
del_ns() { local n; for n in "$@"; do ip netns del "${P}-$n" 2>/dev/null || true; done; }
# A veth pair A <-> B between two namespaces.
veth_between() {  # veth_between NS_A IF_A NS_B IF_B
  ip link add "$2" netns "$(ns "$1")" type veth peer "$4" netns "$(ns "$3")"
}
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
# Waits (at most 5 s) for FILE, which PID writes once ready; false if it
# does not come (or PID exits first).
wait_ready() {  # wait_ready FILE PID
  local i
  for i in $(seq 1 100); do
    [ -f "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  [ -f "$1" ]
}
median() {  # awk, not python: called for every figure
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { printf "%.17g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ----------------------------------------------------------------- rows
# Results: one line per row in $T/rows: KEY|ISSUE|CASE|UNIT|MEDIAN RUNS...[;OFFERED]
# (values in pps, bit/s or s; OFFERED: median offered pps); bench/report.py
# reads them.
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

# ------------------------------------------------------------- profiles
# PROFILE=DIR: one extra run of each row in PROFILE_CASES, in the first pass,
# under `perf record -g`, not counted in the figures; its report in DIR/NAME.txt.
profiled_row() { [ -n "$PROFILE" ] && [ "$PASS" = 1 ] && [[ " $PROFILE_CASES " == *" ${CUR_KEY:-} "* ]]; }
PERF_PID=""
perf_start() {  # perf_start NAME SETTLE_SECS PERF_RECORD_TARGET...
  perf record -q -g -o "$PROFILE/$1.data" "${@:3}" 2>/dev/null &
  PERF_PID=$!
  sleep "$2"
}
perf_stop() {  # perf_stop NAME SORT_KEYS PERCENT_LIMIT
  kill -INT "$PERF_PID"
  wait "$PERF_PID" || true
  PERF_PID=""
  perf report -q -i "$PROFILE/$1.data" --stdio --no-children --sort "$2" \
    --percent-limit "$3" -g none >"$PROFILE/$1.txt" 2>/dev/null || true
}

# ------------------------------------------------------------------ pps
# pktgen runs at real-time priority (SCHED_FIFO 1): its thread and the
# softirq work its batches trigger on CPU 0 then get that core whatever else
# the machine runs (another build on a shared 2-core machine took two thirds
# of it otherwise, and a figure is a per-packet cost on one core). The
# kernel's RT throttling (95% of each second by default) leaves the rest.
GEN_RT=(chrt -f 1)
# One pps measurement: a receiver on every item of RX (comma-separated),
# pktgen in GEN_NS out of GEN_IF for PPS_SECS with the given flow arguments
# (default: --flows PPS_FLOWS, source ports). MODE is the receiver: native or
# generic (XDP counter, items NS:IF), tc (a tc ingress counter: the skb a
# container's stack allocates, items NS:IF) or udp (a UDP socket read with
# recvmmsg, bench/udpsink, on the last CPU; items NS:PORT; delivered = what it
# read plus what the stack carried to it while its buffer was full: one
# reading thread takes fewer datagrams a second than one core delivers).
# Prints delivered packets per second (what the receivers got together
# divided by the generator's sending time) and offered packets per second;
# with more than one receiver, their shares go to the log, and so does what
# a socket read.
pps_once() {  # pps_once GEN_NS GEN_IF DST_MAC DST_IP DPORT RX MODE [PKTGEN FLOW ARGS...]
  local gen_ns=$1 gen_if=$2 dmac=$3 dip=$4 dport=$5 rx=$6 mode=$7
  shift 7
  local flow_args=("$@")
  ((${#flow_args[@]})) || flow_args=(--flows "$PPS_FLOWS")
  # New-flow floods go on where the previous one stopped (NEW_FLOW_ARGS).
  [[ " ${flow_args[*]} " == *" addr-port "* ]] && flow_args+=(--first-flow "$(cat "$T/next_flow")")
  local gen="$T/gen.json" pids=() outs=() k=0 item ready pid
  for item in ${rx//,/ }; do
    ready="$T/ready.$k"
    rm -f "$ready"
    if [ "$mode" = udp ]; then
      taskset -c "$(($(nproc) - 1))" "$UDPSINK" --netns "$(ns "${item%%:*}")" --port "${item#*:}" --json \
        --quiet --ready-file "$ready" >"$T/cnt.$k.json" 2>"$T/cnt.$k.err" &
    else
      "$XDPCOUNT" --netns "$(ns "${item%%:*}")" --iface "${item#*:}" --mode "$mode" --json --quiet \
        --interval 0 --ready-file "$ready" >"$T/cnt.$k.json" 2>"$T/cnt.$k.err" &
    fi
    pids+=($!)
    outs+=("$T/cnt.$k.json")
    wait_ready "$ready" "${pids[$k]}" || { cat "$T/cnt.$k.err" >&2; die "no receiver ($mode) on $item"; }
    k=$((k + 1))
  done
  # CPU 0 (pktgen and the softirq work it triggers), the whole sending time.
  ((PROFILING)) && perf_start "$CUR_KEY" 0.5 -C 0
  "${GEN_RT[@]}" "$PKTGEN" --netns "$(ns "$gen_ns")" --iface "$gen_if" --dst-mac "$dmac" --dst-ip "$dip" \
    --dport "$dport" --size "$PPS_SIZE" "${flow_args[@]}" --duration "$PPS_SECS" --json \
    >"$gen" 2>"$T/gen.err" || { cat "$T/gen.err" >&2; kill -INT "${pids[@]}"; die "pktgen failed"; }
  if ((PROFILING)); then
    perf_stop "$CUR_KEY" symbol 0.5
    log "profile of $CUR_KEY: $PROFILE/$CUR_KEY.txt"
  fi
  sleep 0.05  # let the last batch drain
  kill -INT "${pids[@]}"
  k=0
  for pid in "${pids[@]}"; do
    wait "$pid" || { cat "$T/cnt.$k.err" >&2; die "receiver ($mode) failed"; }
    k=$((k + 1))
  done
  [[ " ${flow_args[*]} " == *" addr-port "* ]] && advance_flows "$gen"
  "$PY" -c '
import json, sys
g = json.load(open(sys.argv[1]))
r = [json.load(open(f)) for f in sys.argv[2:]]
# A socket: what it read, and what reached it when its buffer was full.
c = [x["packets"] + x.get("rcvbuf_errors", 0) for x in r]
full, bad = sum(x.get("rcvbuf_errors", 0) for x in r), sum(x.get("csum_errors", 0) for x in r)
if "rcvbuf_errors" in r[0]:
    print("socket: %d read (%.3f Mpps), %d at a full buffer, %d bad checksums; %d offered" % (
        sum(x["packets"] for x in r), sum(x["packets"] for x in r) / g["seconds"] / 1e6, full, bad,
        g["packets"]), file=sys.stderr)
if len(c) > 1:
    print("counter shares: " + ", ".join("%.3f" % (x / max(1, sum(c))) for x in c), file=sys.stderr)
print(sum(c) / g["seconds"], g["pps"])' "$gen" "${outs[@]}"
}

# The row KEY (already measured with an XDP or generic counter) again with the
# receivers a real container has, where each packet is an skb: a tc ingress
# counter on NS:IF (KEY_tcrx) and a UDP socket on NS:PORT (KEY_udprx).
skb_receiver_rows() {  # skb_receiver_rows KEY ISSUE CASE NS IF PORT GEN_NS GEN_IF DST_MAC DST_IP DPORT [FLOW ARGS...]
  local key=$1 issue=$2 case=$3 rns=$4 rif=$5 rport=$6
  shift 6
  measure "${key}_tcrx" "$issue" "$case, tc counter" pps pps_runs "$1" "$2" "$3" "$4" "$5" "$rns:$rif" tc "${@:6}"
  measure "${key}_udprx" "$issue" "$case, UDP socket" pps pps_runs "$1" "$2" "$3" "$4" "$5" "$rns:$rport" udp "${@:6}"
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
  if profiled_row; then PROFILING=1 pps_once "$@" >/dev/null; fi
  echo "$(median "${vals[@]}") ${vals[*]};$(median "${offered[@]}")"
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

# ---------------------------------------------------------------- iperf3
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
  BG_PIDS+=("$spid")
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
  if profiled_row; then
    # One more run under perf, every CPU (sender and receiver), not counted.
    perf_start "$CUR_KEY" 0.5 -a
    iperf_once "$@" >/dev/null
    perf_stop "$CUR_KEY" symbol 0.5
    log "profile of $CUR_KEY: $PROFILE/$CUR_KEY.txt"
  fi
  echo "$(median "${vals[@]}") ${vals[*]}"
}

# --------------------------------------------------------------- bpfnetd
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

# client pcl (10.215.0.2) --veth--> uplink up0 of the bpfnetd "host"
# (10.215.0.1): the published-port rows, (7) and the engine rows reach the
# daemon's uplink from it.
PUB_HOST=10.215.0.1
PUB_CLIENT=10.215.0.2
pub_client() {
  bpfnet_host
  make_ns pcl
  veth_between pcl eth0 host up0
  ip -n "$(ns pcl)" addr add "$PUB_CLIENT/24" dev eth0
  ip -n "$(ns pcl)" link set eth0 up
  ip -n "$(ns host)" addr add "$PUB_HOST/24" dev up0
  ip -n "$(ns host)" link set up0 up
}
# Conntrack fill after a flood, to the log (from `bpfnetctl stats`).
log_ct() {
  ctl stats -o json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
ct = d.get("conntrack") or {}
print("conntrack:", json.dumps(ct) if ct else "(not in stats)", file=sys.stderr)' || true
}
