#!/usr/bin/env bash
# Issue 12, items 5 and 7 (the datapath half):
#   - a 4000-byte UDP datagram through a published port arrives whole at the
#     container, and its 4000-byte answer comes back whole (fragments follow
#     their flow);
#   - GRE and SCTP from a container never reach the uplink's wire with its
#     private address (dropped as nat-unsupported);
#   - a packet too big for the next hop with DF set is answered with ICMP
#     "fragmentation needed" and that hop's MTU: ping -M do -s 1472 from a
#     1500-byte network out of a 1400-byte uplink, a UDP flow already
#     masqueraded, and a client's datagram to a container on a 1300-byte
#     network;
#   - routed hops spend TTL: ping -t 1 from a container is answered by the
#     host (its gateway) with time exceeded, not by the router behind it, and
#     a client's TTL-1 datagram to a published port gets time exceeded.
# UPLINK_MODE=xdp runs the uplink on forced XDP (lib.sh).
source "$(dirname "$0")/lib.sh"

# Every check runs (and says what it saw) before the test fails: on a
# datapath without these features each of them fails on its own.
FAILED=0
bad() { log "FAIL: $*"; FAILED=$((FAILED + 1)); }

setup_host
for n in router outside c1 c2 c3; do make_ns $n; done
# host --(1400)-- router (the client) --(1500)-- outside
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
# shellcheck disable=SC2046
start_daemon --uplink "$(uplink_arg up0)" $(uplink_flags)
ctl network create wan --subnet 10.82.0.0/24 >/dev/null
ctl network create big --subnet 10.83.0.0/24 -o com.docker.network.driver.mtu=1500 >/dev/null
ctl network create small --subnet 10.81.0.0/24 -o com.docker.network.driver.mtu=1300 >/dev/null
ctl network connect wan c1 --netns "$(ns c1)" >/dev/null   # 10.82.0.2
ctl network connect big c2 --netns "$(ns c2)" >/dev/null   # 10.83.0.2
ctl network connect small c3 --netns "$(ns c3)" >/dev/null # 10.81.0.2
ctl port-map add c1 5353:53/udp >/dev/null
ctl port-map add c3 6363:53/udp >/dev/null
bg_in_ns c1 python3 -c "$UDP_ECHO" 53
bg_in_ns c3 python3 -c "$UDP_ECHO" 53
bg_in_ns outside python3 -c "$UDP_ECHO" 53
# The router logs the source of every GRE or SCTP packet it receives on the
# uplink's wire.
bg_in_ns router python3 -c 'import socket
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(0x0800)); s.bind(("eth0",0))
while True:
    f=s.recv(65535)
    if f[23] in (47,132): print("proto", f[23], "from", socket.inet_ntoa(f[26:30]), flush=True)'
sleep 0.5

# ----------------------------------------------------------------- fragments
BIG_UDP='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"x"*4000,(sys.argv[1],int(sys.argv[2])))
d,a=s.recvfrom(65535); print("whole" if d[:4000] == b"x"*4000 else "broken", d[4000:].decode().strip())'
log "a 4000-byte datagram to the published port and its 4000-byte answer, in fragments"
got=$(in_ns router python3 -c "$BIG_UDP" 10.92.0.1 5353 2>&1) || bad "no answer to a 4000-byte datagram"
[[ "$got" == "whole from 10.92.0.2:"* ]] || bad "answer: $got"
log "and from c1 to a server outside (masqueraded), in fragments both ways"
got=$(in_ns c1 python3 -c "$BIG_UDP" 10.91.0.2 53 2>&1) || bad "no answer from outside"
[[ "$got" == "whole from 10.92.0.1:"* ]] || bad "answer from outside: $got (not masqueraded?)"

# ----------------------------------------------------------------- GRE, SCTP
log "GRE and SCTP from a container: never on the wire with its private address"
in_ns c1 python3 -c 'import socket
for proto, body in ((47, b"\0\0\x08\0" + b"g"*20), (132, b"\0\x35\0\x35" + b"\0"*8 + b"s"*16)):
    s=socket.socket(socket.AF_INET,socket.SOCK_RAW,proto)
    for _ in range(3): s.sendto(body,("10.91.0.2",0))'
sleep 0.5
if grep -q "from 10.82.0.2" "$T/bg-router.log"; then
  bad "GRE/SCTP left with the container's address: $(grep -c 'from 10.82.0.2' "$T/bg-router.log") packets"
fi
[ "$(drop_count nat-unsupported)" -ge 6 ] || bad "nat-unsupported counted $(drop_count nat-unsupported), not 6"
log "publishing SCTP is refused with its reason, and changes nothing"
before=$(ctl port-map ls -o json 2>/dev/null || true)
if out=$(ctl port-map add c1 9999:9/sctp 2>&1); then
  bad "port-map add .../sctp was accepted: $out"
elif ! grep -q "cannot publish 9/sctp: bpfnet does not translate SCTP" <<<"$out"; then
  bad "port-map add .../sctp: $out"
fi
[ "$(ctl port-map ls -o json 2>/dev/null || true)" = "$before" ] || bad "a refused sctp mapping changed the port list"

# ----------------------------------------------------------------- path MTU

# A socket's path MTU after a datagram too big for it, with DF.
PMTU_PROBE='import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
s.connect((sys.argv[1],int(sys.argv[2])))
s.send(b"small"); s.recv(65535)          # the flow exists (translated)
try: s.send(b"y"*int(sys.argv[3]))
except OSError: pass
time.sleep(0.5)
print(s.getsockopt(socket.IPPROTO_IP, 14))  # IP_MTU'
log "a masqueraded UDP flow's 1500-byte datagram learns the uplink's 1400"
mtu=$(in_ns c2 python3 -c "$PMTU_PROBE" 10.91.0.2 53 1472) || bad "probe from c2 failed"
[ "$mtu" = 1400 ] || bad "c2's path MTU to the server is $mtu, not 1400"
# (To another address: c2 knows its path MTU to the server now.)
log "ping -M do -s 1472 from a 1500-byte network out of a 1400-byte uplink"
out=$(in_ns c2 ping -M do -s 1472 -c 1 -W 2 10.91.0.1 2>&1 || true)
grep -q "Frag needed and DF set (mtu = 1400)" <<<"$out" || bad "ping got: $out"
grep -q "From 10.83.0.1 " <<<"$out" || bad "not answered by the gateway: $out"
log "a client's 1400-byte datagram to a container on a 1300-byte network learns 1300"
mtu=$(in_ns router python3 -c "$PMTU_PROBE" 10.92.0.1 6363 1372) || bad "probe from the client failed"
[ "$mtu" = 1300 ] || bad "the client's path MTU to the published port is $mtu, not 1300"
[ "$(drop_count frag-needed)" -ge 3 ] || bad "frag-needed counted $(drop_count frag-needed)"

# ----------------------------------------------------------------- TTL
log "ping -t 1 from a container: time exceeded from the host, not the router"
out=$(in_ns c1 ping -t 1 -c 1 -W 2 10.91.0.2 2>&1 || true)
grep -q "From 10.82.0.1 .*Time to live exceeded" <<<"$out" || bad "ping -t 1 got: $out"
log "a client's TTL-1 datagram to a published port: time exceeded, not delivered"
TTL_PROBE='import socket,sys
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); r.settimeout(2)
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.sendto(b"ttl",(sys.argv[1],int(sys.argv[2])))
while True:
    try: d,a=r.recvfrom(65535)
    except socket.timeout: print("(nothing)"); break
    if d[20] == 11: print("time-exceeded from", a[0]); break'
got=$(in_ns router python3 -c "$TTL_PROBE" 10.92.0.1 5353)
[ "$got" = "time-exceeded from 10.92.0.1" ] || bad "TTL-1 datagram: $got"
[ "$(drop_count ttl-exceeded)" -ge 2 ] || bad "ttl-exceeded counted $(drop_count ttl-exceeded)"
log "routed traffic still flows: a normal datagram answers"
[[ "$(in_ns router python3 -c "$UDP_ASK" 10.92.0.1 5353 hi)" == "hi from 10.92.0.2:"* ]] ||
  bad "published port after the probes"

[ "$FAILED" = 0 ] || fail "$FAILED checks failed"
