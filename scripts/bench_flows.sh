#!/usr/bin/env bash
# `bpfnetctl flows` end to end at scale (issue 14: 262,144 flows in under 1 s):
# a real bpfnetd (its own namespace, bpffs, state dir and socket, conntrack of
# 2 x FLOWS entries) with SERVERS containers on one network; its pinned
# conntrack map filled with FLOWS established published-port flows to them
# (bench/flows_bench --fill-pinned); then the wall time of `bpfnetctl flows`
# and `bpfnetctl flows -o json` to completion, output to /dev/null: the
# daemon's dump, join and JSON, the socket, bpfnetctl's decoding and printing.
#
#   scripts/bench_flows.sh [--quick]
#
# Prints every run's time and the median of each. Needs root; namespaces
# bnb<pid>-*, removed by the EXIT trap with the daemon and the temp dir.
# Knobs (env): FLOWS (262144; 4096 with --quick), RUNS (5; 1 with --quick),
# SERVERS (4), PROFILE=DIR (one more listing of each kind under perf).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BPFNET_BUILD:-$ROOT/build}
BPFNETD=${BPFNETD:-$BUILD/userspace/daemon/bpfnetd}
BPFNETCTL=${BPFNETCTL:-$BUILD/userspace/ctl/bpfnetctl}
FLOWS_BENCH=${FLOWS_BENCH:-$BUILD/bench/flows_bench}
QUICK=0
case ${1:-} in
  --quick) QUICK=1 ;;
  "") ;;
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench_flows.sh: unknown argument $1" >&2; exit 2 ;;
esac
if ((QUICK)); then FLOWS=${FLOWS:-4096} RUNS=${RUNS:-1}; else FLOWS=${FLOWS:-262144} RUNS=${RUNS:-5}; fi
SERVERS=${SERVERS:-4}
NEW_FLOWS=0  # bench/lib.sh names it (new-flow floods: none here)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
# shellcheck source=SCRIPTDIR/../bench/lib.sh
source "$BENCH/lib.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, BPF)"
for b in "$BPFNETD" "$BPFNETCTL" "$FLOWS_BENCH"; do
  [ -x "$b" ] || die "missing $b (build first: ninja -C $BUILD, or set BPFNET_BUILD)"
done

P="bnb$$"
T=$(mktemp -d /tmp/bpfnet-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM

log "load $(cut -d' ' -f1-3 /proc/loadavg); $FLOWS flows, $SERVERS containers, $RUNS runs"
bpfnet_host
bpfnet_daemon --ct-max $((2 * FLOWS > 1024 ? 2 * FLOWS : 1024))
ctl network create front --subnet 10.217.0.0/16 >/dev/null
for ((i = 0; i < SERVERS; i++)); do
  make_ns "web$i"
  ctl network connect front "web$i" --ip "10.217.0.$((2 + i))" --netns "$(ns "web$i")" >/dev/null
done
"$FLOWS_BENCH" --fill-pinned "$T/bpffs/pins/bpfnet_ct" --flows "$FLOWS" --server-base 10.217.0.2 \
  --servers "$SERVERS" >&2
log_ct

# Wall time of one listing, in seconds, its output to /dev/null.
time_flows() {
  local t0=$EPOCHREALTIME
  ctl flows "$@" >/dev/null || die "bpfnetctl flows $* failed"
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}
# Once, untimed: every flow is listed (a header line and one per flow; one
# object per flow in the JSON).
ctl flows >"$T/flows.txt" || die "bpfnetctl flows failed"
[ "$(wc -l <"$T/flows.txt")" -eq $((FLOWS + 1)) ] || die "flows listed $(($(wc -l <"$T/flows.txt") - 1)) rows, not $FLOWS"
ctl flows -o json | "$PY" -c 'import json, sys; n = len(json.load(sys.stdin)); sys.exit(0 if n == int(sys.argv[1]) else "flows -o json: %d rows" % n)' "$FLOWS"
rm -f "$T/flows.txt"
# CPU seconds (user + system) of a process by /proc/PID/stat.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }
declare -A times
for r in $(seq 1 "$RUNS"); do
  for fmt in text json; do
    args=()
    [ "$fmt" = json ] && args=(-o json)
    d0=$(cpu_of "$DAEMON_PID")
    t=$(time_flows "${args[@]}")
    d1=$(cpu_of "$DAEMON_PID")
    times[$fmt]+="$t "
    # Where the wall time went: the daemon's CPU for the request, and
    # bpfnetctl's own (one more run, untimed, under /usr/bin/time).
    ctl_cpu=$(/usr/bin/time -f "%U %S" "$BPFNETCTL" --socket "$T/bpfnetd.sock" flows "${args[@]}" 2>&1 >/dev/null |
      tail -1 | awk '{ printf "%.3f", $1 + $2 }')
    log "run $r, $fmt: $t s (daemon CPU $(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.3f", b - a }') s, bpfnetctl CPU $ctl_cpu s; load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
echo "| output | runs (s) | median (s) |"
echo "|---|---|---:|"
for fmt in text json; do
  # shellcheck disable=SC2086
  echo "| bpfnetctl flows$([ "$fmt" = json ] && echo ' -o json') | ${times[$fmt]% } | $(printf "%.3f" "$(median ${times[$fmt]})") |"
done
# PROFILE=DIR: one more listing of each kind under perf (not timed): the
# daemon's side (perf record -p) and bpfnetctl's, reports in DIR/*.txt.
if [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  for fmt in text json; do
    args=()
    [ "$fmt" = json ] && args=(-o json)
    perf record -q -g -o "$PROFILE/daemon-$fmt.data" -p "$DAEMON_PID" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
    perf record -q -g -o "$PROFILE/ctl-$fmt.data" -- "$BPFNETCTL" --socket "$T/bpfnetd.sock" flows \
      "${args[@]}" >/dev/null 2>&1
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    for who in daemon ctl; do
      perf report -q -i "$PROFILE/$who-$fmt.data" --stdio --no-children --sort symbol \
        --percent-limit 1 -g none >"$PROFILE/$who-$fmt.txt" 2>/dev/null || true
    done
    log "profiles: $PROFILE/daemon-$fmt.txt, $PROFILE/ctl-$fmt.txt"
  done
fi
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
