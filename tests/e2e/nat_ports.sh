#!/usr/bin/env bash
# Issue 12, item 8: masquerade's source ports come from outside the host's
# ip_local_port_range and do not run out. The host's range is set to
# 20000-65000, so masquerade must use 1024-19999; a container then opens 6000
# UDP flows to one resolver, more than the fixed 4,536 ports and more than a
# resolver sees in a UDP timeout at the ~75 new flows/s that exhausted them
# (4,500 in 60 s): every flow is answered, from a port of that span, with no
# nat-no-port drop; `stats` shows the span and the exhaustion count.
source "$(dirname "$0")/lib.sh"

setup_host
for n in resolver c1; do make_ns $n; done
in_ns host sysctl -qw net.ipv4.ip_local_port_range="20000 65000"
add_uplink up0 10.81.0.1 resolver 10.81.0.2
start_daemon --uplink up0
ctl network create natnet --subnet 10.80.0.0/24 >/dev/null
ctl network connect natnet c1 --netns "$(ns c1)" # 10.80.0.2
bg_in_ns resolver python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,1<<22); s.bind(("0.0.0.0",53))
while True:
    d,a=s.recvfrom(65535); s.sendto(b"%d" % a[1],a)'
sleep 0.3

ctl stats -o json | python3 -c '
import json, sys
m = json.load(sys.stdin)["masquerade"]
assert (m["port_min"], m["port_max"], m["ports"]) == (1024, 19999, 18976), m' \
  || fail "stats: masquerade span $(ctl stats -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("masquerade"))')"

log "6000 UDP flows from c1 to one resolver"
# Batches of 100 sockets (distinct source ports), each datagram answered with
# the source port the resolver saw: the masquerade port.
in_ns c1 python3 - >"$T/ports.txt" <<'PY'
import select, socket
for batch in range(60):
    socks = []
    for i in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 30000 + batch * 100 + i))  # 6000 distinct flows
        s.setblocking(False)
        s.sendto(b"q", ("10.81.0.2", 53))
        socks.append(s)
    pending = set(socks)
    while pending:
        ready, _, _ = select.select(list(pending), [], [], 1.0)
        if not ready:
            break
        for s in ready:
            print(s.recv(64).decode())
            pending.discard(s)
    for s in socks:
        s.close()
PY
python3 - "$T/ports.txt" <<'PY' || fail "masquerade ports"
import sys
ports = [int(l) for l in open(sys.argv[1]) if l.strip()]
outside = [p for p in ports if not 1024 <= p <= 19999]
print("answered: %d of 6000, distinct ports %d, outside 1024-19999: %d (e.g. %s)"
      % (len(ports), len(set(ports)), len(outside), outside[:3]), file=sys.stderr)
assert len(ports) == 6000 and len(set(ports)) == 6000 and not outside
PY
dropped=$(drop_count nat-no-port)
log "nat-no-port drops: $dropped"
[ "$dropped" = 0 ] || fail "$dropped flows found no masquerade port"
ctl stats | grep -q "^Masquerade ports: 1024-19999 (18976 ports), new flows refused for want of one: 0" \
  || fail "stats table: $(ctl stats)"
