#!/usr/bin/env bash
# Conntrack's TCP state per direction, end to end through a published port:
# a client that shuts down its side (FIN) and idles past the closing timeout
# (10 s) still gets the container's data, and RSTs crafted from the wire
# with sequence numbers outside the window (AF_PACKET, the client's own
# tuple) neither reach the container nor end the connection: the container
# answers 12 s later, past the closing timeout a believed RST would have set.
# UPLINK_MODE picks the uplink path (auto: tc on a veth; xdp; tc).
source "$(dirname "$0")/lib.sh"

setup_host
for n in client web; do make_ns $n; done
add_uplink up0 10.99.0.1 client 10.99.0.2
start_daemon --uplink "$(uplink_arg up0)" $(uplink_flags)
ctl network create front --subnet 10.90.0.0/24 >/dev/null
ctl network connect front web --netns "$(ns web)" >/dev/null
bg_in_ns web python3 "$E2E_DIR/tcp_conns.py" server 80
ctl port-map add web 8080:80 >/dev/null
for _ in $(seq 1 50); do in_ns web ss -Hltn "sport = :80" | grep -q . && break; sleep 0.1; done
# Past the closing timeout (BPFNET_CT_TIMEOUT_TCP_CLOSE, 10 s) and a GC pass
# (the tests run it every second).
IDLE=12

log "half-close: the client's FIN, ${IDLE} s idle, then the container's data"
got=$(in_ns client python3 "$E2E_DIR/tcp_conns.py" half-close 10.99.0.1 8080 "$IDLE")
[ "$got" = "data after the half-close" ] || fail "half-closed connection lost the other direction: $got"

log "blind RSTs from the wire: dropped, counted, the connection kept"
before=$(drop_count tcp-rst-window)
hostmac=$(ip -n "$H" link show up0 | awk '/link\/ether/ {print $2}')
got=$(in_ns client python3 "$E2E_DIR/tcp_conns.py" blind-rst 10.99.0.1 8080 eth0 "$hostmac" "$IDLE")
[ "$got" = late ] || fail "connection after out-of-window RSTs: $got"
after=$(drop_count tcp-rst-window)
[ "$((after - before))" -ge 4 ] || fail "tcp-rst-window drops: $before -> $after, want 4 more"
ctl stats >&2
