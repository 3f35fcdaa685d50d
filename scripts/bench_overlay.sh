#!/usr/bin/env bash
# Overlay networks across hosts (issue 13): the datapath next to Docker's
# overlay, the control plane at scale by simulation, and tunnel-map lookups
# by table size.
#
#   scripts/bench_overlay.sh [--quick] [--results bench/RESULTS.md] [--keep DIR]
#
# Parts (OVERLAY_ONLY, a subset of "datapath cluster gbench"):
#   datapath  cross-host container -> container, two hosts each: bpfnet's
#             overlay (bpfnetd per host, one etcd) vs Docker's overlay
#             datapath (bridge + kernel VXLAN per host, static FDB and
#             neighbours, MTU 1450), TCP iperf3 and 64-byte UDP pps (tc
#             counter and UDP socket in the receiving container), in the same
#             run: every figure the median of one run in each of PASSES passes
#   cluster   bench/cluster_sim against one etcd (Debian's etcd-server, in a
#             namespace of its own): SIM_HOSTS x SIM_ENDPOINTS, connect ->
#             every other host's tunnel map (p50/p99), a host joining with
#             SIM_ENDPOINTS endpoints; with the cluster's wake fd and with the
#             200 ms tick alone
#   gbench    bench_endpoint's overlay_encap, tunnel map of 10 .. 10,000 entries
# --results FILE replaces the overlay section of FILE (bench/RESULTS.md; the
# rest, written by scripts/bench.sh, is kept, and bench.sh keeps this one).
# --keep DIR copies the raw figures (rows, sim-*.json, gbench.json) there,
# for bench/overlay_report.py to combine runs of different parts.
# Knobs (env): PASSES (3; 1 with --quick), PPS_SECS (2; 0.2), IPERF_SECS (5; 1),
# PPS_FLOWS (64), PPS_SIZE (60), SIM_HOSTS (50; 3), SIM_ENDPOINTS (200; 5),
# SIM_PROBES (200; 5), SIM_GAP_MS (100; 20), GBENCH_REPS (5; 1 and a check
# run), OVERLAY_ONLY. Needs root; everything lives in namespaces bnb<pid>-*,
# removed by the EXIT trap with the daemons, etcd, mounts and the temp dir.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BPFNET_BUILD:-$ROOT/build}
PKTGEN=${PKTGEN:-$BUILD/bench/pktgen}
XDPCOUNT=${XDPCOUNT:-$BUILD/bench/xdpcount}
UDPSINK=${UDPSINK:-$BUILD/bench/udpsink}
BPFNETD=${BPFNETD:-$BUILD/userspace/daemon/bpfnetd}
BPFNETCTL=${BPFNETCTL:-$BUILD/userspace/ctl/bpfnetctl}
BENCH_ENDPOINT=${BENCH_ENDPOINT:-$BUILD/bench/bench_endpoint}
CLUSTER_SIM=${CLUSTER_SIM:-$BUILD/bench/cluster_sim}

QUICK=0
RESULTS=""
KEEP=""
CMDLINE="scripts/bench_overlay.sh $*"
for _v in PROFILE OVERLAY_ONLY GBENCH_REPS SIM_GAP_MS SIM_PROBES SIM_ENDPOINTS SIM_HOSTS PPS_SIZE PPS_FLOWS \
    IPERF_SECS PPS_SECS PASSES; do
  [ -n "${!_v:-}" ] && CMDLINE="$_v=$(printf '%q' "${!_v}") $CMDLINE"
done
unset _v
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --results) RESULTS=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_overlay.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  PASSES=${PASSES:-1} PPS_SECS=${PPS_SECS:-0.2} IPERF_SECS=${IPERF_SECS:-1}
  SIM_HOSTS=${SIM_HOSTS:-3} SIM_ENDPOINTS=${SIM_ENDPOINTS:-5} SIM_PROBES=${SIM_PROBES:-5}
  SIM_GAP_MS=${SIM_GAP_MS:-20} GBENCH_REPS=${GBENCH_REPS:-1}
  export BENCH_ENDPOINT_CHECK=1  # bench_endpoint's few-runs mode: verdicts checked, timings meaningless
else
  PASSES=${PASSES:-3} PPS_SECS=${PPS_SECS:-2} IPERF_SECS=${IPERF_SECS:-5}
  SIM_HOSTS=${SIM_HOSTS:-50} SIM_ENDPOINTS=${SIM_ENDPOINTS:-200} SIM_PROBES=${SIM_PROBES:-200}
  SIM_GAP_MS=${SIM_GAP_MS:-100} GBENCH_REPS=${GBENCH_REPS:-5}
fi
RUNS=1
NEW_FLOWS=0  # (bench/lib.sh's new-flow floods: not used here)
PPS_FLOWS=${PPS_FLOWS:-64}
PPS_SIZE=${PPS_SIZE:-60}
OVERLAY_ONLY=${OVERLAY_ONLY:-"datapath cluster gbench"}
# PROFILE=DIR: one extra, uncounted run of each PROFILE_CASES row under perf
# (bench/lib.sh), first pass only; reports in DIR/KEY.txt.
PROFILE=${PROFILE:-}
PROFILE_CASES=${PROFILE_CASES:-"ov_bpfnet_tcrx ov_docker_tcrx"}
if [ -n "$PROFILE" ]; then mkdir -p "$PROFILE" && PROFILE=$(cd "$PROFILE" && pwd); fi
want() { [[ " $OVERLAY_ONLY " == *" $1 "* ]]; }

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# shellcheck source=SCRIPTDIR/../bench/lib.sh
source "$BENCH/lib.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/overlay.sh
source "$BENCH/cases/overlay.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/cluster_sim.sh
source "$BENCH/cases/cluster_sim.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, BPF)"
for b in "$PKTGEN" "$XDPCOUNT" "$UDPSINK" "$BPFNETD" "$BPFNETCTL" "$BENCH_ENDPOINT" "$CLUSTER_SIM"; do
  [ -x "$b" ] || die "missing $b (build first: ninja -C $BUILD, or set BPFNET_BUILD)"
done
for t in iperf3 etcd etcdctl bpftool; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup.sh installs it)"
done

P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench-overlay.XXXXXX)
trap 'rc=$?; set +e; overlay_cleanup; (exit $rc); cleanup' EXIT
trap 'exit 130' INT TERM
: >"$T/rows"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "$(nproc) cores, kernel $(uname -r); passes=$PASSES pps=${PPS_SECS}s iperf=${IPERF_SECS}s sim=${SIM_HOSTS}x${SIM_ENDPOINTS}"

if want gbench; then run_overlay_gbench; fi
if want datapath; then
  for PASS in $(seq 1 "$PASSES"); do
    ((PASSES > 1)) && log "pass $PASS of $PASSES"
    run_overlay_datapath
  done
fi
if want cluster; then
  run_cluster_sim wake
  run_cluster_sim tick
fi

REPORT=("$PY" "$BENCH/overlay_report.py" --rows "$T/rows" --sim "$T/sim-wake.json"
  --sim-tick "$T/sim-tick.json" --gbench "$T/gbench.json" --tunnels-map "$T/tunnels_map.json")
"${REPORT[@]}" table
if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"
  cp "$T"/rows "$T"/sim-*.json "$T"/gbench.json "$T"/tunnels_map.json "$KEEP"/ 2>/dev/null || true
fi
if [ -n "$RESULTS" ]; then
  "${REPORT[@]}" results "$RESULTS" --cmdline "$CMDLINE" --load-before "$LOAD_BEFORE" \
    --seconds "$SECONDS" --passes "$PASSES" --pps-secs "$PPS_SECS" --iperf-secs "$IPERF_SECS"
  log "results: $RESULTS"
fi
log "done"
