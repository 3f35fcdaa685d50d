#!/usr/bin/env bash
# The monitor's cost on the live path (issue 14): established published-port
# UDP pps with no monitor, with `bpfnetctl monitor --type drop` connected and
# idle, and under a drop flood from a container with the monitor connected
# (and, for reference, the flood without a monitor); bench/cases/monitor.sh
# has the topology.
#
#   scripts/bench_monitor.sh [--quick]
#
# The cases run interleaved, one run each per pass (order rotated every
# pass), PASSES passes; prints a Markdown table of medians, every run, the
# ratios to "no monitor", the flood's rate and drops, and the events the
# monitor got and lost (the datapath's per-CPU rate limit). Needs root;
# namespaces bnb<pid>-*, removed by the EXIT trap with the daemon and the
# temp dir. Binaries from $BPFNET_BUILD (default ./build), as scripts/bench.sh.
# Knobs (env): PASSES (5; 1 with --quick), PPS_SECS (2; 0.3 with --quick),
# PPS_FLOWS (64), PPS_SIZE (60), MON_PATHS ("xdp tc": uplink paths).
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

QUICK=0
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_monitor.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  PASSES=${PASSES:-1} PPS_SECS=${PPS_SECS:-0.3}
else
  PASSES=${PASSES:-5} PPS_SECS=${PPS_SECS:-2}
fi
RUNS=1 PROFILE="" PROFILE_CASES="" IPERF_SECS=1 NEW_FLOWS=0  # bench/lib.sh names them
PPS_FLOWS=${PPS_FLOWS:-64}
PPS_SIZE=${PPS_SIZE:-60}
MON_PATHS=${MON_PATHS:-"xdp tc"}

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
# shellcheck source=SCRIPTDIR/../bench/lib.sh
source "$BENCH/lib.sh"
# shellcheck source=SCRIPTDIR/../bench/cases/monitor.sh
source "$BENCH/cases/monitor.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, BPF)"
for b in "$PKTGEN" "$XDPCOUNT" "$BPFNETD" "$BPFNETCTL"; do
  [ -x "$b" ] || die "missing $b (build first: ninja -C $BUILD, or set BPFNET_BUILD)"
done
command -v ethtool >/dev/null || die "ethtool missing (scripts/setup.sh installs it)"
(($(nproc) >= 2)) || die "needs 2 CPUs (the flood runs on the other one)"

P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
echo 0 >"$T/next_flow"

log "$(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); passes=$PASSES pps=${PPS_SECS}s paths: $MON_PATHS"
for mode in $MON_PATHS; do run_monitor_cost "$mode"; done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck disable=SC2086  # one argument per path
"$PY" - "$T" $MON_PATHS <<'PY'
import statistics, sys
tdir, paths = sys.argv[1], sys.argv[2:]
labels = {"none": "no monitor", "idle": "monitor attached, idle (--type drop)",
          "flood": "drop flood, monitor attached", "flood-nomon": "drop flood, no monitor"}
path_label = {"xdp": "XDP", "tc": "tc (default on a veth)"}
targets = []
print("| uplink path | case | delivered Mpps (median) | runs, pass order | vs no monitor | flood Mpps offered | invalid-source-ip drops in the run | monitor events | lost events |")
print("|---|---|---:|---|---:|---:|---:|---:|---:|")
for path in paths:
    runs = {}
    for line in open(f"{tdir}/monitor_runs.{path}"):
        case, _pass, delivered, _offered, flood, drops, events, lost = line.split()
        runs.setdefault(case, []).append((float(delivered), float(flood), int(drops), int(events), int(lost)))
    med = {c: statistics.median(r[0] for r in v) for c, v in runs.items()}
    for case in ("none", "idle", "flood", "flood-nomon"):
        v = runs[case]
        flood = statistics.median(r[1] for r in v)
        print("| %s | %s | %.3f | %s | %.3f | %s | %s | %s | %s |" % (
            path_label[path], labels[case], med[case] / 1e6,
            ", ".join("%.3f" % (r[0] / 1e6) for r in v), med[case] / med["none"],
            "%.2f" % (flood / 1e6) if flood else "",
            "%.2fM" % (statistics.median(r[2] for r in v) / 1e6) if case.startswith("flood") else "",
            ", ".join(str(r[3]) for r in v) if case in ("idle", "flood") else "",
            ", ".join(str(r[4]) for r in v) if case in ("idle", "flood") else ""))
    idle = med["idle"] / med["none"]
    flood = med["flood"] / med["none"]
    targets.append("- %s: idle monitor vs none %.3f (target >= 0.97: %s); flood with monitor vs none %.3f "
                   "(target >= 0.90: %s); flood with vs without monitor %.3f" % (
                       path_label[path], idle, "met" if idle >= 0.97 else "**missed**", flood,
                       "met" if flood >= 0.90 else "**missed**", med["flood"] / med["flood-nomon"]))
print()
print("\n".join(targets))
PY
log "done"
