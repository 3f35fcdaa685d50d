#!/usr/bin/env bash
# scripts/bench.sh --quick runs to completion, prints a Markdown table with a
# number in every expected row and a targets table, writes a results file
# with --results, and leaves no namespace, daemon, dockerd, cgroup or bpffs
# mount behind. Numbers are never checked. The engine rows (the real Docker
# engine) are expected unless bench.sh logged that it skipped them.
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
# The cgroups of bench.sh's dockerd (tests/e2e/docker_lib.sh: bpfnet-e2e-bnb<pid>).
docker_cgroups() { find /sys/fs/cgroup -maxdepth 2 -name 'bpfnet-e2e-bnb*' 2>/dev/null | wc -l; }
cgroups_before=$(docker_cgroups)
mounts_before=$(grep -c ' /tmp/bpfnet-bench\.' /proc/mounts || true)
bash "$BENCH_SH" --quick --results "$T/RESULTS.md" >"$T/table.md" 2>"$T/bench.log" || {
  tail -n 30 "$T/bench.log" >&2
  fail "bench.sh --quick failed"
}
after=$(ip netns list | awk '{print $1}' | grep -c '^bnb' || true)
[ "$after" -le "$before" ] || fail "bench.sh left namespaces behind"
[ "$(grep -c ' /tmp/bpfnet-bench\.' /proc/mounts || true)" -le "$mounts_before" ] || fail "bench.sh left a bpffs mounted"
pgrep -f "bpfnetd --state-dir /tmp/bpfnet-bench" >/dev/null && fail "bench.sh left a bpfnetd running"
pgrep -f "dockerd -H unix:///tmp/bpfnet-bench" >/dev/null && fail "bench.sh left a dockerd running"
[ "$(docker_cgroups)" -le "$cgroups_before" ] || fail "bench.sh left Docker's cgroups behind"
cat "$T/table.md"

engine=1
grep -q "engine: SKIPPED" "$T/bench.log" && { log "engine part skipped (no docker.io)"; engine=0; }
"$PY" - "$T/table.md" "$engine" <<'PY' || fail "table not as expected"
import re, sys
text = open(sys.argv[1]).read()
tables = [[l for l in block.splitlines() if l.startswith("|")] for block in text.split("\n\n")]
tables = [t for t in tables if t]
lines = tables[0]  # the figures; then the targets
assert lines[0].startswith("| # | case | unit | median | runs | offered |"), lines[0]
rows = {}
for l in lines[2:]:
    cells = [c.strip() for c in l.strip().strip("|").split("|")]
    rows[cells[1]] = cells
measured = [
    "raw limit: pktgen -> veth -> XDP drop",
    "raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth -> XDP drop",
    "raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth -> XDP drop, before the bpfnet XDP rows",
    "raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth -> XDP drop, before the bpfnet tc (default on a veth) rows",
    "TCP iperf3 over a veth pair (reference)",
    "TCP iperf3 over a veth pair, sender tx off (reference for the XDP path)",
    "container -> container TCP iperf3, Linux bridge",
    "container -> container UDP, Linux bridge",
    "container -> container TCP iperf3, bpfnet",
    "container -> container UDP, bpfnet",
] + [f"published port UDP, Docker-style, iptables-{b}, N={n}, {state}"
     for b in ("nft", "legacy") for n in (1, 100, 1000, 5000)
     for state in ("new", "established", "new tuples")]
measured += [f"TCP iperf3 through a published port, {w}"
             for w in ("Docker-style, iptables-nft", "Docker-style, iptables-legacy",
                       "bpfnet XDP", "bpfnet tc (default on a veth)")]
# The receivers a real container has: a tc counter and a UDP socket.
receivers = (", tc counter", ", UDP socket")
measured += [f"raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth -> receiver{when}{rx}"
             for when in ("", ", before the bpfnet XDP rows", ", before the bpfnet tc (default on a veth) rows")
             for rx in receivers]
# The tc path's own limit (a tc hop, the skb built at the first veth), before the tc rows.
tc_hop = ("raw limit, two veth hops, the skb built at the first: pktgen -> veth -> tc redirect_peer -> veth"
          " -> {}, before the bpfnet tc (default on a veth) rows")
measured += [tc_hop.format("generic XDP drop")] + [tc_hop.format("receiver") + rx for rx in receivers]
measured += [f"published port UDP, Docker-style, iptables-{b}, N=1, established{rx}"
             for b in ("nft", "legacy") for rx in receivers]
measured += [f"published port UDP, bpfnet {path}, N=1, established{rx}"
             for path in ("XDP", "tc (default on a veth)") for rx in receivers]
for path in ("XDP", "tc (default on a veth)"):
    measured += [f"published port UDP, bpfnet {path}, N={n}, {state}"
                 for n in (1, 100, 1000, 5000) for state in ("new", "established")]
    measured += [f"published port UDP, bpfnet {path}, N=1 again after N=5000, {state}"
                 for state in ("new", "established")]
    measured += [f"published port UDP through a 3-replica service, bpfnet {path}, {state}"
                 for state in ("new", "established")]
for n in (1000, 10000):
    measured += [f"publish N={n} ports: bpfnetctl port-map add (one call), idle daemon",
                 f"publish N={n} ports: bpfnetctl port-map add (one call), conntrack full (262144 entries)",
                 f"publish N={n} ports: Docker's rules, iptables-nft-restore",
                 f"publish N={n} ports: Docker's rules, iptables-legacy-restore"]
if sys.argv[2] == "1":
    measured += ["TCP iperf3 through a published port, Docker engine, bpfnet network",
                 "TCP iperf3 through a published port, Docker engine, bridge driver",
                 "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bpfnet network (socket hooks)",
                 "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bridge driver (docker-proxy)"]
    measured += [f"published port UDP, Docker engine, {net}, {state}"
                 for net in ("bpfnet network (XDP uplink)", "bridge driver")
                 for state in ("established", "new tuples")]
for case in measured:
    assert case in rows, f"missing row: {case}"
    assert re.fullmatch(r"\d+\.\d+", rows[case][3]), f"no figure in row {case}: {rows[case]}"
extra = sorted(set(rows) - set(measured))
assert not extra, f"unexpected rows: {extra}"
assert any(t[0].startswith("| target | measured | verdict |") and len(t) > 2 for t in tables), \
    "no targets table"
PY
grep -q "^- machine: " "$T/RESULTS.md" || fail "results file has no machine line"
grep -q "scripts/bench.sh --quick --results" "$T/RESULTS.md" || fail "results file has no command"
grep -q "| (1) | raw limit" "$T/RESULTS.md" || fail "results file has no table"
log "PASS"
