#!/usr/bin/env bash
# scripts/bench.sh --quick runs to completion, prints a Markdown table with
# every expected row (a number for each measured run, "not yet available" for
# the placeholders), writes a results file with --results, and leaves no
# namespace behind. Numbers are never checked.
set -euo pipefail
# The system interpreter: a version-manager shim in PATH can cost a second per call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
: "${BENCH_SH:?BENCH_SH must point at scripts/bench.sh}"
T=$(mktemp -d /tmp/bpfnet-bench_quick.XXXXXX)
trap 'rm -rf "$T"' EXIT
log() { printf '[bench_quick] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

before=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
bash "$BENCH_SH" --quick --results "$T/RESULTS.md" >"$T/table.md" 2>"$T/bench.log" || {
  tail -n 30 "$T/bench.log" >&2
  fail "bench.sh --quick failed"
}
after=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
[ "$after" -le "$before" ] || fail "bench.sh left namespaces behind"
cat "$T/table.md"

"$PY" - "$T/table.md" <<'PY' || fail "table not as expected"
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("|")]
assert lines[0].startswith("| # | case | unit | median | runs | offered |"), lines[0]
rows = {}
for l in lines[2:]:
    cells = [c.strip() for c in l.strip().strip("|").split("|")]
    rows[cells[1]] = cells
measured = [
    "raw limit: pktgen -> veth -> XDP drop",
    "TCP iperf3 over a veth pair (reference)",
    "container -> container TCP iperf3, Linux bridge",
    "container -> container UDP, Linux bridge",
    "container -> container TCP iperf3, bpfnet",
    "container -> container UDP, bpfnet",
] + [f"published port UDP, Docker-style, iptables-{b}, N={n}, {state}"
     for b in ("nft", "legacy") for n in (1, 100, 1000, 5000) for state in ("new", "established")]
placeholders = ["published port UDP, bpfnet"] + [f"published port UDP, bpfnet, N={n}" for n in (1, 100, 1000, 5000)]
for case in measured:
    assert case in rows, f"missing row: {case}"
    assert re.fullmatch(r"\d+\.\d+", rows[case][3]), f"no figure in row {case}: {rows[case]}"
for case in placeholders:
    assert case in rows, f"missing row: {case}"
    assert rows[case][3] == "not yet available", rows[case]
assert len(rows) == len(measured) + len(placeholders), sorted(rows)
PY
grep -q "^- machine: " "$T/RESULTS.md" || fail "results file has no machine line"
grep -q "scripts/bench.sh --quick --results" "$T/RESULTS.md" || fail "results file has no command"
grep -q "| (1) | raw limit" "$T/RESULTS.md" || fail "results file has no table"
log "PASS"
