#!/usr/bin/env bash
# A TCP stream between two containers keeps flowing, on one connection,
# across SIGTERM + start and SIGKILL + start of bpfnetd: programs stay
# attached and maps stay pinned while the daemon is away.
source "$(dirname "$0")/lib.sh"

setup_host
start_daemon
make_ns c1; make_ns c2
ctl network create net1 --subnet 10.81.0.0/24 >/dev/null
ctl network connect net1 c1 --netns "$(ns c1)"
ctl network connect net1 c2 --netns "$(ns c2)"
host_if=$(ctl stats -o json | python3 -c '
import json, sys; print([e["host_ifname"] for e in json.load(sys.stdin)["endpoints"] if e["container"] == "c1"][0])')

bg_in_ns c2 iperf3 -s -1 -B 10.81.0.3
sleep 0.5
in_ns c1 iperf3 -c 10.81.0.3 -t 12 -i 1 -J >"$T/iperf.json" 2>&1 &
IPERF=$!
BG_PIDS+=($IPERF)

sleep 2
log "SIGTERM"
stop_daemon TERM
tc -n "$H" filter show dev "$host_if" ingress | grep -c "bpf" >/dev/null || fail "program detached after SIGTERM"
in_ns c1 ping -c 1 -W 2 -q 10.81.0.3 >/dev/null || fail "no forwarding while daemon is down"
sleep 1
start_daemon
sleep 2
log "SIGKILL"
stop_daemon KILL
tc -n "$H" filter show dev "$host_if" ingress | grep -c "bpf" >/dev/null || fail "program detached after SIGKILL"
sleep 1
start_daemon
# The restarted daemon still knows everything and can change things.
ctl network inspect net1 | grep -c '"c2"' >/dev/null || fail "state lost across restart"
# Reattaching to veths that keep their clsact is routine: no kernel error in the log.
if grep -F "Kernel error message" "$T/bpfnetd.log" >&2; then fail "restart logged kernel errors"; fi

wait "$IPERF" || fail "iperf3 client failed: $(tail -c 400 "$T/iperf.json")"
python3 - "$T/iperf.json" <<'PY' || fail "stream did not keep flowing"
import json, sys
r = json.load(open(sys.argv[1]))
assert "error" not in r, r.get("error")
ivals = [i["sum"]["bits_per_second"] for i in r["intervals"]]
print("interval Gbit/s:", [round(b / 1e9, 2) for b in ivals], file=sys.stderr)
assert len(ivals) >= 11, ivals
assert min(ivals) > 0, "an interval carried nothing"
PY
