#!/usr/bin/env bash
# Issue 13 with issue 12 item 7: a translated flow sent into the overlay's
# tunnel takes a routed hop, as everywhere else, on two hosts and a 3-member
# etcd. A UDP service on overlay ovh, published on h1 (5353 -> 53), has its
# one backend b2 on h2; an outside client sits on h1's uplink, container a1
# on ovh on h1.
#   - the client's datagram reaches b2 with TTL 63: h1 spent one, the tunnel
#     (one L2 segment) and h2 none;
#   - the client's TTL-1 datagram is answered by h1 (the address it reached)
#     with ICMP time exceeded and never reaches b2;
#   - the client's 1500-byte DF datagram (its own link carries 1500) is
#     answered with fragmentation needed and the overlay's MTU, 1450, which
#     its socket learns; a 1450-byte one goes through. Without DF, a
#     1500-byte datagram and a 4000-byte one in fragments reach b2 whole
#     (the VXLAN device fragments the outer packets: BPF cannot fragment);
#   - a1 through the service's VIP: TTL 63 at b2, a TTL of 1 answered by its
#     gateway; a1 straight to b2 (same overlay, untranslated) is bridged: TTL
#     64 at b2;
#   - b2's reply sent with TTL 1 runs out on h1, on its way to the client: the
#     time exceeded goes back through the tunnel and reaches b2 (from h1's lb
#     address on ovh, the address b2 sent it to).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=3

# Every check runs (and says what it saw) before the test fails.
FAILED=0
bad() {
  log "FAIL: $*"
  FAILED=$((FAILED + 1))
}

start_etcd
for n in 1 2; do add_cluster_host "$n"; done
# The outside client, on h1's uplink up0.
add_outside_client 10.97.0
start_host_daemon 1 --uplink up0
start_host_daemon 2
for n in 1 2; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
done

hctl 1 network create -d overlay --subnet 10.54.0.0/24 ovh >/dev/null
eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h2/sock' network ls | grep -q ' ovh '" ||
  fail "ovh not on h2"
add_container 2 b
hctl 2 network connect --netns "${P}-h2-b" ovh b2 >/dev/null
add_container 1 a
hctl 1 network connect --netns "${P}-h1-a" ovh a1 >/dev/null
# b2 echoes each datagram with the TTL it arrived with, and logs it; one
# that asks for it ("reply-ttl1...") is answered with TTL 1.
UDP_ECHO_TTL='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL
while True:
    d,anc,_,a=s.recvmsg(65535, socket.CMSG_SPACE(4))
    ttl=[int.from_bytes(c[2][:4],sys.byteorder) for c in anc if c[:2]==(socket.IPPROTO_IP,socket.IP_TTL)]
    print(d[:16].decode(errors="replace"), "ttl=%s" % ttl, flush=True)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1 if d.startswith(b"reply-ttl1") else 64)
    size=(" len=%d" % len(d)) if d.startswith(b"big") else ""
    s.sendto(d[:16]+(" ttl=%d%s" % (ttl[0], size)).encode(),a)'
in_ctr 2 b python3 -c "$UDP_ECHO_TTL" 53 >"$T/b2.log" 2>&1 &
BG_PIDS+=($!)
# And logs every ICMP time exceeded it gets, with its source.
in_ctr 2 b python3 -c 'import socket
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)
while True:
    d,a=r.recvfrom(65535)
    if d[20] == 11: print("time-exceeded from", a[0], flush=True)' >"$T/b2-icmp.log" 2>&1 &
BG_PIDS+=($!)

hctl 1 service create dns --network ovh --port 53/udp --publish 5353:53/udp >/dev/null
out=$(hctl 1 service add-backend dns b2@h2) || fail "add-backend b2@h2: $out"
vip=$(hctl 1 service inspect dns | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["VIP"])')
b2=$(hctl 2 network inspect ovh -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values() if c["Name"] == "b2"][0])')
gw=$(hctl 1 network inspect ovh -o json | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Gateway"])')
eventually 5 bash -c "$(declare -f tunnels); T='$T'; tunnels 1 | grep -q '^$b2 '" ||
  fail "h1 never learned b2 ($b2)"
drops() { # drops HOST REASON: packets dropped for REASON on HOST
  hctl "$1" stats -o json | python3 -c '
import json, sys
print(sum(r["packets"] for r in json.load(sys.stdin)["drops"] if r["reason"] == sys.argv[1]))' "$2"
}
log "service dns: VIP $vip, published on h1 as 5353/udp, backend b2 $b2 on h2; ovh gateway $gw"

# A datagram with TTL `ttl` (argv 4) and payload argv 3: the answer, or the
# ICMP error it got instead ("time-exceeded from ADDR"), or "(nothing)".
TTL_ASK='import socket,sys
r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); r.settimeout(0.2)
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.2)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(sys.argv[4]))
for _ in range(10):
    s.sendto(sys.argv[3].encode(),(sys.argv[1],int(sys.argv[2])))
    try: print(s.recv(65535).decode()); break
    except OSError: pass
    try:
        d,a=r.recvfrom(65535)
        if d[20] == 11: print("time-exceeded from", a[0]); break
    except socket.timeout: pass
else: print("(nothing)")'
ask() { # ask NS DST PORT PAYLOAD TTL
  local ns=$1
  shift
  ip netns exec "$ns" python3 -c "$TTL_ASK" "$@" 2>&1 || true
}

# ------------------------------------------------------------- TTL
got=$(ask "${P}-client" 10.97.0.1 5353 from-client 64)
[ "$got" = "from-client ttl=63" ] || bad "client -> published port -> b2: '$got', want TTL 63 at b2"
log "client's datagram through h1's published port: '$got'"
ttl_before=$(drops 1 ttl-exceeded)
got=$(ask "${P}-client" 10.97.0.1 5353 client-ttl1 1)
[ "$got" = "time-exceeded from 10.97.0.1" ] || bad "client's TTL-1 datagram: '$got'"
log "client's TTL-1 datagram: '$got'"
got=$(ask "${P}-client" 10.97.0.1 5353 client-ttl2 2)
[ "$got" = "client-ttl2 ttl=1" ] || bad "client's TTL-2 datagram: '$got', want TTL 1 at b2"

got=$(ask "${P}-h1-a" "$vip" 53 a1-via-vip 64)
[ "$got" = "a1-via-vip ttl=63" ] || bad "a1 -> VIP -> b2: '$got', want TTL 63 at b2"
got=$(ask "${P}-h1-a" "$vip" 53 a1-vip-ttl1 1)
[ "$got" = "time-exceeded from $gw" ] || bad "a1's TTL-1 datagram to the VIP: '$got'"
log "a1's TTL-1 datagram to the VIP: '$got'"
got=$(ask "${P}-h1-a" "$b2" 53 a1-direct 64)
[ "$got" = "a1-direct ttl=64" ] || bad "a1 -> b2 (bridged): '$got', want TTL 64 at b2"
got=$(ask "${P}-h1-a" "$b2" 53 a1-direct-ttl1 1)
[ "$got" = "a1-direct-ttl1 ttl=1" ] || bad "a1 -> b2 with TTL 1 (bridged): '$got', want delivered"
# h1's lb address (h2 has one of its own: dns is the cluster's service)
lb=$(hctl 2 network inspect ovh -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values()
       if c["Name"] == "lb-ovh" and c.get("Host") == "h1"][0])')
got=$(ask "${P}-client" 10.97.0.1 5353 reply-ttl1 64)
[ "$got" = "(nothing)" ] || bad "b2's TTL-1 reply reached the client: '$got'"
eventually 3 grep -q "time-exceeded from $lb" "$T/b2-icmp.log" ||
  bad "b2 got no time exceeded from h1's lb address $lb for its TTL-1 reply: $(cat "$T/b2-icmp.log")"
log "b2's TTL-1 reply to the client: b2 got '$(head -1 "$T/b2-icmp.log")' (h1's lb address: $lb)"
ttl_after=$(drops 1 ttl-exceeded)
[ "$ttl_after" -ge $((ttl_before + 3)) ] || bad "ttl-exceeded on h1: $ttl_before -> $ttl_after"
b2_log=$(cat "$T/b2.log")
if grep -q -e client-ttl1 -e a1-vip-ttl1 <<<"$b2_log"; then
  bad "an expired datagram reached b2: $b2_log"
fi

# ------------------------------------------------------------- path MTU
# Without DF (IP_PMTUDISC_DONT): a datagram of argv 3 bytes of IP packet,
# fragmented by the client's stack if over its 1500; b2's answer.
BIG_ASK='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
n=int(sys.argv[3]) - 28
for _ in range(5):
    s.sendto(b"big"+b"z"*(n-3),(sys.argv[1],int(sys.argv[2])))
    try: print(s.recv(65535).decode()); break
    except OSError: pass
else: print("(nothing)")'
big16="big$(printf 'z%.0s' {1..13})" # the first 16 bytes, which b2 echoes
got=$(in_ns client python3 -c "$BIG_ASK" 10.97.0.1 5353 1500 2>&1) || true
[ "$got" = "$big16 ttl=63 len=1472" ] || bad "1500-byte datagram without DF: '$got'"
got=$(in_ns client python3 -c "$BIG_ASK" 10.97.0.1 5353 4000 2>&1) || true
[ "$got" = "$big16 ttl=63 len=3972" ] || bad "4000-byte datagram in fragments: '$got'"
log "without DF, 1500- and 4000-byte datagrams through the published port reach b2 whole: '$got'"

# The client's path MTU to the published port after a DF datagram of argv 3
# bytes of IP packet, once the flow exists; and whether it was answered.
PMTU_PROBE='import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
s.connect((sys.argv[1],int(sys.argv[2])))
s.send(b"small"); s.recv(65535)          # the flow exists (translated)
try: s.send(b"y"*(int(sys.argv[3]) - 28))
except OSError: pass
try: answered = s.recv(65535).startswith(b"yyyy")
except OSError: answered = False
time.sleep(0.3)
print(s.getsockopt(socket.IPPROTO_IP, 14), "answered" if answered else "unanswered")  # IP_MTU'
frag_before=$(drops 1 frag-needed)
got=$(in_ns client python3 -c "$PMTU_PROBE" 10.97.0.1 5353 1500 2>&1) || true
[ "$got" = "1450 unanswered" ] || bad "1500-byte DF datagram: '$got', want the path MTU 1450"
log "client's 1500-byte DF datagram: path MTU, answer: $got"
got=$(in_ns client python3 -c "$PMTU_PROBE" 10.97.0.1 5353 1450 2>&1) || true
[ "$got" = "1450 answered" ] || bad "1450-byte DF datagram: '$got', want it answered"
frag_after=$(drops 1 frag-needed)
[ "$frag_after" -ge $((frag_before + 1)) ] || bad "frag-needed on h1: $frag_before -> $frag_after"
log "h1: ttl-exceeded $ttl_before -> $ttl_after, frag-needed $frag_before -> $frag_after"

[ "$FAILED" = 0 ] || fail "$FAILED checks failed"
