#!/usr/bin/env bash
# One part of scripts/bench_overlay.sh --quick (PART: datapath, cluster or
# gbench) runs to completion, prints its tables with a number in every cell
# it must fill, writes the overlay section of a results file (keeping what
# was before it), and leaves no namespace, daemon, etcd or bpffs mount
# behind. Numbers are never checked against a target.
set -euo pipefail
PART=${1:?usage: overlay_quick.sh datapath|cluster|gbench}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
: "${BENCH_OVERLAY_SH:?BENCH_OVERLAY_SH must point at scripts/bench_overlay.sh}"
T=$(mktemp -d /tmp/bpfnet-overlay_quick.XXXXXX)
trap 'rm -rf "$T"' EXIT
log() { printf '[overlay_quick %s] %s\n' "$PART" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

ns_before=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
mounts_before=$(grep -c ' /tmp/bpfnet-bench-overlay\.' /proc/mounts || true)
printf '# earlier results\n\nkept\n' >"$T/RESULTS.md"
OVERLAY_ONLY=$PART bash "$BENCH_OVERLAY_SH" --quick --results "$T/RESULTS.md" >"$T/table.md" 2>"$T/bench.log" || {
  tail -n 30 "$T/bench.log" >&2
  fail "bench_overlay.sh --quick failed"
}
cat "$T/table.md"
ns_after=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
[ "$ns_after" -le "$ns_before" ] || fail "namespaces left behind"
[ "$(grep -c ' /tmp/bpfnet-bench-overlay\.' /proc/mounts || true)" -le "$mounts_before" ] || fail "a bpffs left mounted"
pgrep -f "bpfnetd --state-dir /tmp/bpfnet-bench-overlay" >/dev/null && fail "a bpfnetd left running"
pgrep -f "etcd --name (ov|sim) --data-dir /tmp/bpfnet-bench-overlay" >/dev/null && fail "an etcd left running"
pgrep -f "cluster_sim --store" >/dev/null && fail "cluster_sim left running"

"$PY" - "$T/table.md" "$T/RESULTS.md" "$PART" <<'PY' || fail "tables not as expected"
import re, sys
text, results, part = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
number = re.compile(r"\d")
def rows(first_cell_prefix):
    return [l for l in text.splitlines() if l.startswith("| " + first_cell_prefix)]
def filled(line, cells):
    got = [c.strip() for c in line.strip().strip("|").split("|")]
    return all(number.search(got[i]) for i in cells)
if part == "datapath":
    for label in ("TCP iperf3", "UDP 64 B, tc counter", "UDP 64 B, UDP socket"):
        r = rows(label)
        assert len(r) == 1 and filled(r[0], [1, 2, 3]), (label, r)
    verdicts = [l for l in text.splitlines() if l.startswith("| ") and "of Docker's overlay (" in l
                or l.startswith("| UDP pps >= 2x")]
    assert len(verdicts) == 3, verdicts
    assert all(l.rstrip().endswith(("| met |", "| **missed** |")) for l in verdicts), verdicts
if part == "cluster":
    for label in ("steady state: connect", "… p99", "host join", "etcd keys", "… watch events"):
        r = rows(label)
        assert len(r) == 1 and filled(r[0], [1, 2]), (label, r)
    assert "control plane" in text and "etcd keys**" in text, "targets or estimate missing"
if part == "gbench":
    for n in ("10", "100", "1,000", "10,000"):
        r = [l for l in text.splitlines() if re.match(r"\| %s \|" % re.escape(n), l)]
        assert len(r) == 1 and filled(r[0], [1, 3]), (n, r)
assert results.startswith("# earlier results\n\nkept\n"), "the results file's earlier part was not kept"
assert "## Overlay networks across hosts (issue 13)" in results
PY
log "ok"
