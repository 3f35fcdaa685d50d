#!/usr/bin/env python3
"""The report of scripts/bench_overlay.sh (issue 13): the cross-host table,
the control-plane simulation, the tunnel-map lookups, the targets, and the
estimate for 1,000 hosts x 100 endpoints.

    overlay_report.py --rows R --sim S --sim-tick S2 --gbench G --tunnels-map M table
    overlay_report.py ... results FILE --cmdline C --load-before L --seconds N ...

`results` replaces the overlay section of FILE (from MARKER to the end; the
section is appended when FILE has none), so scripts/bench.sh's part of
bench/RESULTS.md stays as it is (and bench/report.py keeps this section).
"""
import argparse
import datetime
import json
import os
import statistics
import sys

MARKER = "<!-- overlay section: scripts/bench_overlay.sh writes from here on; scripts/bench.sh keeps it -->"
REMOTES = (10, 100, 1000, 10000)


def load(path):
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    return json.load(open(path))


def rows(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    # One line per key and pass (bench/lib.sh's add_row): every pass's runs,
    # in pass order, and their median.
    for line in open(path):
        key, _issue, case, unit, vals = line.rstrip("\n").split("|", 4)
        runs = [float(v) for v in vals.split(";")[0].split()][1:]
        row = out.setdefault(key, {"case": case, "unit": unit, "runs": []})
        row["runs"] += runs
        row["median"] = statistics.median(row["runs"])
    return out


def fmt(v, unit):
    if unit == "pps":
        return f"{v / 1e6:.3f} Mpps"
    if unit == "bps":
        return f"{v / 1e9:.2f} Gbit/s"
    return f"{v:g}"


PAIRS = [("tcp", "TCP iperf3 (1 stream)", 1.0),
         ("tcrx", "UDP 64 B, tc counter in the receiving container", 2.0),
         ("udprx", "UDP 64 B, UDP socket in the receiving container", 2.0)]


def datapath_tables(r):
    if not r:
        return [], []
    table = ["| case | bpfnet overlay | Docker overlay | bpfnet / Docker | runs (bpfnet; Docker) |",
             "|---|---:|---:|---:|---|"]
    targets = []
    for key, label, goal in PAIRS:
        b, d = r.get(f"ov_bpfnet_{key}"), r.get(f"ov_docker_{key}")
        if not b or not d:
            continue
        ratio = b["median"] / d["median"] if d["median"] else 0
        runs = "; ".join(" ".join(fmt(v, b["unit"]).split()[0] for v in x["runs"]) for x in (b, d))
        table.append(f"| {label} | {fmt(b['median'], b['unit'])} | {fmt(d['median'], d['unit'])}"
                     f" | {ratio:.2f}x | {runs} |")
        per_pass = [bv / dv for bv, dv in zip(b["runs"], d["runs"]) if dv]
        want = "UDP pps >= 2x Docker's overlay" if goal > 1 else "TCP >= 100% of Docker's overlay"
        targets.append((f"{want} ({label})",
                        f"{ratio:.2f}x (per pass: {', '.join(f'{x:.2f}' for x in per_pass)})",
                        ratio >= goal))
    return table, targets


def sim_tables(sim, tick):
    if not sim:
        return [], []
    cols = [("wake fd (bpfnetd now)", sim)] + ([("200 ms tick only (before)", tick)] if tick else [])
    head = "| " + " | ".join(["figure"] + [c for c, _ in cols]) + " |"
    table = [head, "|---" + "|---:" * len(cols) + "|"]

    def line(label, get):
        vals = []
        for _, s in cols:
            try:
                vals.append(get(s))
            except (KeyError, TypeError):
                vals.append("")
        table.append("| " + " | ".join([label] + vals) + " |")

    ms = lambda v: f"{v:.0f} ms"
    line("steady state: connect -> every other host's tunnel map, p50",
         lambda s: ms(s["probes"]["connect_to_everywhere_ms"]["p50"]))
    line("… p99", lambda s: ms(s["probes"]["connect_to_everywhere_ms"]["p99"]))
    line("… max", lambda s: ms(s["probes"]["connect_to_everywhere_ms"]["max"]))
    line("… of which the connect call itself, p50 / p99",
         lambda s: f"{s['probes']['connect_call_ms']['p50']:.0f} / {s['probes']['connect_call_ms']['p99']:.0f} ms")
    line("fill (8 hosts connecting at a time, `--ip`): connect -> everywhere, p50 / p99",
         lambda s: f"{s['fill']['connect_to_everywhere_ms']['p50']:.0f} / {s['fill']['connect_to_everywhere_ms']['p99']:.0f} ms")
    line("fill: until every endpoint is everywhere", lambda s: f"{s['fill']['all_everywhere_s']:.1f} s")
    line("host join with its endpoints: converged everywhere", lambda s: f"{s['join']['converged_s']:.2f} s")
    line("… the others have its endpoints", lambda s: f"{s['join']['others_have_its_s']:.2f} s")
    line("… it has everyone's (tunnel entries)",
         lambda s: f"{s['join']['it_has_others_s']:.2f} s ({s['join']['its_tunnels']:,})")
    line("… watch events one host receives", lambda s: f"{s['join']['watch_events_per_host']:,}")
    line("etcd keys (bytes of keys and values)", lambda s: f"{s['etcd_keys']:,} ({s['etcd_bytes'] / 1e6:.2f} MB)")
    p99 = sim["probes"]["connect_to_everywhere_ms"]["p99"]
    join = sim["join"]["converged_s"]
    n = f"{sim['hosts']} hosts x {sim['endpoints_per_host']}"
    targets = [(f"control plane ({n}): connect -> every host's tunnel map, p99 < 1 s", f"{p99:.0f} ms", p99 < 1000),
               (f"control plane ({n}): a host joining with {sim['endpoints_per_host']} endpoints converges everywhere < 2 s",
                f"{join:.2f} s", join < 2)]
    return table, targets


def gbench_table(g):
    if not g:
        return []
    warm, cold = {}, {}
    for b in g["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        name = b["run_name"].split("/iterations")[0]
        warm.setdefault(name, []).append(b["ns_per_pkt"])
        cold.setdefault(name, []).append(b["cold_ns_per_pkt"])
    base = warm.get("overlay_encap/remotes:10")
    out = ["| remote endpoints in the tunnel map | warm ns/packet | vs 10 | cold ns/packet |",
           "|---:|---:|---:|---:|"]
    for n in REMOTES:
        k = f"overlay_encap/remotes:{n}"
        if k not in warm:
            continue
        w, c = statistics.median(warm[k]), statistics.median(cold[k])
        ratio = f"{w / statistics.median(base):.2f}" if base else ""
        out.append(f"| {n:,} | {w:.0f} | {ratio} | {c:.0f} |")
    return out


def estimate(sim, tmap):
    """1,000 hosts x 100 endpoints, scaled from the simulation's figures."""
    if not sim:
        return []
    kinds = sim.get("etcd_keys_by_kind", {})
    endpoints = sim["hosts"] * sim["endpoints_per_host"] + sim["probes"]["connect_to_everywhere_ms"]["n"]
    per_key = sim["etcd_bytes"] / max(1, sim["etcd_keys"])
    hosts, per_host = 1000, 100
    keys = hosts + 2 * hosts * per_host + kinds.get("networks", 1) + kinds.get("vnis", 1)
    events, e = sim["join"]["watch_events_per_host"], sim["endpoints_per_host"]
    fixed = max(0, events - 2 * e)  # the host's own records (registration, its subnets)
    per_join = fixed + 2 * per_host
    mem = tmap.get("bytes_memlock") if tmap else None
    entries = tmap.get("max_entries") if tmap else None
    out = [f"From the simulation ({sim['hosts']} hosts x {sim['endpoints_per_host']}, "
           f"{endpoints:,} endpoints: {sim['etcd_keys']:,} keys, {per_key:.0f} bytes a key with its value) "
           f"and the tunnel map's size:", "",
           f"- **etcd keys**: one per host, two per endpoint (its address under `ipam/`, its record "
           f"under `endpoints/`), two per network: 1,000 + 2 x 100,000 + 2 ≈ **{keys:,} keys**, "
           f"≈ {keys * per_key / 1e6:.0f} MB of keys and values (etcd's default quota is 2 GB), "
           f"under 1,000 leases.",
           f"- **watch events per host join**: measured {events:,} events for a join with {e} endpoints: "
           f"2 per endpoint (its address, its record) and {fixed} for the host's own records; with 100 "
           f"endpoints **{per_join:,} events, delivered to each of the 999 other hosts** "
           f"(≈ {999 * per_join:,} in all), and the joiner reads the ≈ {keys:,} keys once (one range "
           f"read, not events).",
    ]
    if mem and entries:
        out.append(
            f"- **tunnel map memory per host**: a preallocated hash of {entries:,} entries "
            f"(BPFNET_MAX_TUNNELS), {mem / 2**20:.1f} MiB locked whatever its fill (bpftool's memlock); "
            f"1,000 x 100 needs 99,900 remote entries per host, more than {entries:,}: "
            f"BPFNET_MAX_TUNNELS would have to go to 131,072 (≈ {2 * mem / 2**20:.0f} MiB per host). "
            f"Lookups stay flat with the size (table above). In bpfnetd, the cluster view holds each "
            f"remote endpoint's records (a few hundred bytes each: ≈ 30–50 MB for 100,000).")
    return out


def sections(a):
    r = rows(a.rows)
    sim, tick = load(a.sim), load(a.sim_tick)
    g = load(a.gbench)
    tmap = load(a.tunnels_map)
    dp, dp_targets = datapath_tables(r)
    st, st_targets = sim_tables(sim, tick)
    gt = gbench_table(g)
    targets = dp_targets + st_targets
    tt = ["| target | measured | verdict |", "|---|---|---|"] + [
        f"| {t} | {m} | {'met' if ok else '**missed**'} |" for t, m, ok in targets]
    return {"targets": tt if targets else [], "datapath": dp, "sim": st, "gbench": gt,
            "estimate": estimate(sim, tmap)}


def table(a):
    s = sections(a)
    for name in ("targets", "datapath", "sim", "gbench", "estimate"):
        if s[name]:
            print("\n".join(s[name]))
            print()


def results(a):
    s = sections(a)
    body = [MARKER, "", "## Overlay networks across hosts (issue 13)", "",
            f"Measured by `scripts/bench_overlay.sh` on "
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')}: "
            f"`{a.cmdline}` (from the repository root); load average before / after: "
            f"{a.load_before} / {a.load_after or ' '.join(open('/proc/loadavg').read().split()[:3])}; "
            f"took {a.seconds} s; "
            f"{a.passes} passes, pps cases {a.pps_secs} s, iperf3 {a.iperf_secs} s, "
            f"{os.cpu_count()} cores shared with other work (compare the ratios within the run).", ""]
    for title, name in (("Targets", "targets"), ("Cross-host container to container", "datapath"),
                        ("Control plane at scale (bench/cluster_sim)", "sim"),
                        ("Tunnel map lookups (bench_endpoint overlay_encap)", "gbench"),
                        ("Estimate: 1,000 hosts x 100 endpoints", "estimate")):
        if s[name]:
            body += [f"### {title}", ""] + s[name] + [""]
    if a.extra:  # what this run adds in words (a combined run, a part that failed)
        body += [open(a.extra).read().rstrip("\n"), ""]
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "overlay_notes.md")
    if os.path.exists(notes):
        body += [open(notes).read().rstrip("\n"), ""]
    text = open(a.file).read() if os.path.exists(a.file) else ""
    head = text.split(MARKER)[0].rstrip("\n")
    # The monitor's section (issue 14, measured by hand: see its text) follows: kept.
    monitor = "<!-- monitor section:"
    tail = "\n" + text[text.index(monitor):] if monitor in text else ""
    with open(a.file, "w") as f:
        f.write((head + "\n\n" if head else "") + "\n".join(body) + tail)


def main():
    p = argparse.ArgumentParser(prog="overlay_report.py")
    for opt in ("rows", "sim", "sim-tick", "gbench", "tunnels-map"):
        p.add_argument("--" + opt, default="")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("table")
    r = sub.add_parser("results")
    r.add_argument("file")
    # --load-after: for a report made later from kept runs (default: the load now).
    for opt in ("cmdline", "load-before", "load-after", "seconds", "passes", "pps-secs",
                "iperf-secs", "extra"):
        r.add_argument("--" + opt, default="")
    a = p.parse_args()
    if isinstance(load(a.tunnels_map), list):
        a.tunnels_map = ""
    {"table": table, "results": results}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
