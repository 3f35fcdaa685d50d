#!/usr/bin/env bash
# scripts/bench_monitor.sh --quick (the monitor's cost on the live path,
# issue 14) runs to completion on both uplink paths, prints a figure for
# every case, the flood's drops and the monitor's events and lost count, and
# the targets lines, and leaves no namespace, daemon or bpffs mount behind.
# Numbers are never checked (beyond being numbers; the flood must drop).
set -euo pipefail
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
: "${BENCH_MONITOR_SH:?BENCH_MONITOR_SH must point at scripts/bench_monitor.sh}"
T=$(mktemp -d /tmp/bpfnet-monitor_quick.XXXXXX)
trap 'rm -rf "$T"' EXIT
log() { printf '[monitor_quick] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

before=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
mounts_before=$(grep -c ' /tmp/bpfnet-bench\.' /proc/mounts || true)
bash "$BENCH_MONITOR_SH" --quick >"$T/table.md" 2>"$T/bench.log" || {
  tail -n 30 "$T/bench.log" >&2
  fail "bench_monitor.sh --quick failed"
}
cat "$T/table.md"
after=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
[ "$after" -le "$before" ] || fail "bench_monitor.sh left namespaces behind"
[ "$(grep -c ' /tmp/bpfnet-bench\.' /proc/mounts || true)" -le "$mounts_before" ] ||
  fail "bench_monitor.sh left a bpffs mounted"
pgrep -f "bpfnetd --state-dir /tmp/bpfnet-bench" >/dev/null && fail "bench_monitor.sh left a bpfnetd running"
"$PY" - "$T/table.md" <<'PY' || fail "table not as expected"
import sys
text = open(sys.argv[1]).read()
rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in text.splitlines()
        if l.startswith("|") and not l.startswith("|---")]
assert rows[0][:3] == ["uplink path", "case", "delivered Mpps (median)"], rows[0]
seen = {}
for r in rows[1:]:
    seen[(r[0], r[1])] = r
    float(r[2]), float(r[4])                  # a figure and its ratio
    assert float(r[2]) > 0, r
    if r[1].startswith("drop flood"):
        assert float(r[5]) > 0, r            # the flood was sent
        assert float(r[6].rstrip("M")) > 0, r  # and dropped (invalid-source-ip)
    if r[1].endswith("monitor attached") or "idle" in r[1]:
        int(r[7]), int(r[8])                  # events, lost
for path in ("XDP", "tc (default on a veth)"):
    for case in ("no monitor", "monitor attached, idle (--type drop)",
                 "drop flood, monitor attached", "drop flood, no monitor"):
        assert (path, case) in seen, (path, case)
targets = [l for l in text.splitlines() if l.startswith("- ")]
assert len(targets) == 2 and all("idle monitor vs none" in t for t in targets), targets
PY
log "PASS"
