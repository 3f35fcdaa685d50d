#!/usr/bin/env bash
# bench/bench_endpoint runs every BPF path it times to completion: each
# benchmark checks the verdict of every call (and, for new flows, that every
# run created its conntrack entries) and reports an error otherwise. This
# test runs them all (with fewer calls) and fails on any error or missing
# benchmark. Timings are never checked: BENCH_ENDPOINT_CHECK=1 scales the
# run counts down, so each path runs a few calls.
set -euo pipefail
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
: "${BENCH_ENDPOINT:?BENCH_ENDPOINT must point at bench/bench_endpoint}"
T=$(mktemp -d /tmp/bpfnet-endpoint_paths.XXXXXX)
trap 'rm -rf "$T"' EXIT
log() { printf '[endpoint_paths] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# The binary moves itself into a private network namespace: nothing to clean up.
BENCH_ENDPOINT_CHECK=1 "$BENCH_ENDPOINT" --benchmark_out="$T/out.json" --benchmark_out_format=json \
  >"$T/out.txt" 2>"$T/err.txt" || { tail -20 "$T/err.txt" >&2; fail "bench_endpoint exited non-zero"; }

"$PY" - "$T/out.json" <<'PY' || fail "benchmarks missing or in error"
import json, math, sys
d = json.load(open(sys.argv[1]))
runs = {b["run_name"].split("/iterations")[0]: b for b in d["benchmarks"]}
want = [f"{p}/fill:{f}" for f in (10, 10000) for p in (
    "forward", "to_host", "drop_isolation", "arp_reply", "xdp_dnat_new", "xdp_dnat_established",
    "tc_dnat_new", "tc_dnat_established", "reverse_nat", "masquerade_new", "masquerade_established")]
want += [f"lb_{k}/services:{s}/backends:{b}" for k in ("new", "established")
         for s in (1, 100, 10000) for b in (2, 100)]
want += [f"overlay_encap/remotes:{n}" for n in (10, 100, 1000, 10000)]
bad = []
for name in want:
    b = runs.get(name)
    if b is None:
        bad.append(f"{name}: missing")
    elif b.get("error_occurred"):
        bad.append(f"{name}: {b.get('error_message')}")
    elif not all(math.isfinite(b.get(c, float("nan"))) for c in ("ns_per_pkt", "cold_ns_per_pkt")):
        bad.append(f"{name}: counters missing")
for x in bad:
    print(x, file=sys.stderr)
print(f"{len(want) - len(bad)} of {len(want)} paths ran with the expected verdicts", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
log "PASS"
