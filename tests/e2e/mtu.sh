#!/usr/bin/env bash
# Network MTU (issue 12, item 7): a network that sets no MTU gets what its
# uplinks carry when that is less than Docker's 1500 (a cloud VM's 1460, a
# tunnel), so a container's TCP upload through masquerade does not stall on
# segments its way out cannot carry; an explicit driver.mtu still wins.
source "$(dirname "$0")/lib.sh"

setup_host
for n in router outside c1 c2; do make_ns $n; done
# host --(1400)-- router --(1500)-- outside: the bottleneck is the uplink's
# link, and the server at the far end advertises a 1460-byte MSS.
add_uplink up0 10.92.0.1 router 10.92.0.2
ip -n "$H" link set up0 mtu 1400
ip -n "$(ns router)" link set eth0 mtu 1400
ip link add "${P}-ro" type veth peer name "${P}-oo"
ip link set "${P}-ro" netns "$(ns router)"
ip link set "${P}-oo" netns "$(ns outside)"
ip -n "$(ns router)" addr add 10.91.0.1/24 dev "${P}-ro"
ip -n "$(ns router)" link set "${P}-ro" up
ip -n "$(ns outside)" addr add 10.91.0.2/24 dev "${P}-oo"
ip -n "$(ns outside)" link set "${P}-oo" up
ip -n "$(ns outside)" route add default via 10.91.0.1
in_ns router sysctl -qw net.ipv4.ip_forward=1
ip -n "$H" route add 10.91.0.0/24 via 10.92.0.2
start_daemon --uplink up0
ctl network create wan --subnet 10.82.0.0/24 >/dev/null
ctl network create small --subnet 10.81.0.0/24 -o com.docker.network.driver.mtu=1300 >/dev/null
ctl network connect wan c1 --netns "$(ns c1)" >/dev/null
ctl network connect small c2 --netns "$(ns c2)" >/dev/null

# On a veth, a segmentation-offloaded burst crosses whole and the kernel
# re-segments it: a wire would not. With offloads off in c1, its frames are
# as a NIC puts them on a wire, and the uplink's peer drops what exceeds its
# MTU, as the far end of a real 1400-byte link does (silently: no ICMP).
in_ns c1 ethtool -K eth0 tso off gso off >/dev/null

mtu_of() { ip -n "$(ns "$1")" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
[ "$(mtu_of c1)" = 1400 ] || fail "c1's eth0 has MTU $(mtu_of c1), not the uplink's 1400"
[ "$(mtu_of c2)" = 1300 ] || fail "an explicit driver.mtu lost: $(mtu_of c2)"

# A sink on the outside that answers with the number of bytes it got.
SINK='import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 9000)); s.listen()
while True:
    c,_=s.accept(); n=0
    while True:
        d=c.recv(65536)
        if not d: break
        n+=len(d)
    c.close(); print(n, flush=True)'
bg_in_ns outside python3 -c "$SINK"
sleep 0.3
UPLOAD='import socket,sys
s=socket.create_connection(("10.91.0.2", 9000), 5); s.settimeout(5)
s.sendall(b"x" * 2000000); s.shutdown(socket.SHUT_WR); s.recv(1); print("sent")'
log "a 2 MB upload from c1 through masquerade, out of a 1400-byte uplink to a 1500-byte server"
in_ns c1 timeout 20 python3 -c "$UPLOAD" >/dev/null || fail "the upload stalled"
for _ in $(seq 1 20); do grep -q '^2000000$' "$T/bg-outside.log" && break; sleep 0.1; done
grep -q '^2000000$' "$T/bg-outside.log" || fail "the sink got: $(cat "$T/bg-outside.log")"
