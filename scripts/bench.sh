#!/usr/bin/env bash
# Datapath benchmarks: packets per second with bench/pktgen (XDP live
# frames) into bench/xdpcount (XDP counter), TCP throughput with iperf3,
# control-plane times, and the per-packet cost of each BPF path (Google
# Benchmark, bench/bench_endpoint).
#
#   scripts/bench.sh [--quick] [--results FILE] [--chart FILE]
#
# Builds nothing: binaries come from $BPFNET_BUILD (default ./build):
# bench/pktgen, bench/xdpcount, bench/udpsink, bench/bench_endpoint,
# userspace/daemon/bpfnetd, userspace/ctl/bpfnetctl (each may also be given as
# $PKTGEN, $XDPCOUNT, $UDPSINK, $BENCH_ENDPOINT, $BPFNETD, $BPFNETCTL).
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
# PROFILE=DIR (perf profiles of the PROFILE_CASES rows; see below),
# KEEP_ROWS=DIR (the measured rows kept there, for bench/report.py).
set -euo pipefail
shopt -s inherit_errexit
# This file: the flags, the knobs and the order of the cases. The shared
# functions are in bench/lib.sh, the cases in bench/cases/*.sh (one file per
# family), the tables, targets, chart and results file in bench/report.py.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BPFNET_BUILD:-$ROOT/build}
PKTGEN=${PKTGEN:-$BUILD/bench/pktgen}
XDPCOUNT=${XDPCOUNT:-$BUILD/bench/xdpcount}
UDPSINK=${UDPSINK:-$BUILD/bench/udpsink}
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
# `perf record -g`, not counted in the figures; reports in DIR/KEY.txt.
PROFILE=${PROFILE:-}
PROFILE_CASES=${PROFILE_CASES:-"raw raw2 bpfnet_xdp_new_1 bpfnet_xdp_est_1 bpfnet_tc_new_1 bpfnet_tc_est_1 docker_nt_legacy_1 docker_est_legacy_1 veth_tcp pub_tcp_xdp pub_tcp_tc"}
want() { [[ " $BENCH_ONLY " == *" $1 "* ]]; }
if [ -n "$RESULTS" ] && [ -z "$CHART" ]; then
  CHART="$(dirname "$RESULTS")/scaling.png"
fi

# The system interpreter: a version-manager shim in PATH can cost a second per call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
REPORT=("$PY" "$BENCH/report.py")

# shellcheck source=SCRIPTDIR/../bench/lib.sh
source "$BENCH/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, BPF)"
for b in "$PKTGEN" "$XDPCOUNT" "$UDPSINK" "$BPFNETD" "$BPFNETCTL"; do
  [ -x "$b" ] || die "missing $b (build first: ninja -C $BUILD, or set BPFNET_BUILD)"
done
command -v iperf3 >/dev/null || die "iperf3 missing (scripts/setup.sh installs it)"
command -v ethtool >/dev/null || die "ethtool missing (scripts/setup.sh installs it)"
if ((GBENCH)) && want gbench && [ ! -x "$BENCH_ENDPOINT" ]; then
  die "missing $BENCH_ENDPOINT (GBENCH=0 skips the per-packet benchmarks)"
fi
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

# ---------------------------------------------------------------- the run
# Every namespace of the run is named bnb<pid>-*; the EXIT trap (bench/lib.sh
# cleanup) removes them, the daemons, mounts and $T however the run ends.
P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
H=$(ns host)  # the bpfnetd "host" namespace, as tests/e2e/docker_lib.sh (engine) names it

# shellcheck source=SCRIPTDIR/../bench/cases/raw.sh
source "$BENCH/cases/raw.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/c2c.sh
source "$BENCH/cases/c2c.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/docker_style.sh
source "$BENCH/cases/docker_style.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/published.sh
source "$BENCH/cases/published.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/lb.sh
source "$BENCH/cases/lb.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/control_plane.sh
source "$BENCH/cases/control_plane.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/engine.sh
source "$BENCH/cases/engine.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/gbench.sh
source "$BENCH/cases/gbench.sh"

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

# ------------------------------------------------------------------ report
"${REPORT[@]}" merge "$T/rows"
# KEEP_ROWS=DIR: the rows and the per-packet figures kept (the report again
# with bench/report.py, without measuring again).
if [ -n "${KEEP_ROWS:-}" ]; then mkdir -p "$KEEP_ROWS" && cp "$T/rows" "$T"/gbench.json* "$KEEP_ROWS/" 2>/dev/null || true; fi
TABLE=$("${REPORT[@]}" table "$T/rows")
GTABLE=$("${REPORT[@]}" gbench "$T/gbench.json")
TARGETS=$("${REPORT[@]}" targets "$T/rows" "$T/gbench.json.lowest" "$SCALING_N" "$CTL_N")
echo "$TABLE"
if [ -n "$GTABLE" ]; then echo; echo "$GTABLE"; fi
echo
echo "$TARGETS"
if [ -n "$CHART" ] && command -v gnuplot >/dev/null; then
  mkdir -p "$(dirname "$CHART")"
  "${REPORT[@]}" chart "$T/rows" "$T" "$(uname -r)" "$PPS_SIZE" $((PASSES * RUNS)) ||
    { log "gnuplot failed: no chart"; cat "$T/gnuplot.log" >&2; }
  if [ -s "$T/chart.png" ]; then mv "$T/chart.png" "$CHART"; log "chart: $CHART"; fi
fi
if [ -n "$RESULTS" ]; then
  "${REPORT[@]}" results "$RESULTS" --table "$TABLE" --gbench-table "$GTABLE" --targets "$TARGETS" \
    --chart "$CHART" --cmdline "$CMDLINE" --load-before "$LOAD_BEFORE" --seconds "$SECONDS" \
    --passes "$PASSES" --runs "$RUNS" --pps-secs "$PPS_SECS" --iperf-secs "$IPERF_SECS" \
    --pps-size "$PPS_SIZE" --pps-flows "$PPS_FLOWS" --new-flows "$NEW_FLOWS" --new-addrs "$NEW_ADDRS" \
    --gbench-reps "$GBENCH_REPS"
  log "results: $RESULTS"
fi
log "done"
