#!/usr/bin/env bash
# Issue 12, item 3: crafted ICMP errors do not cross networks, and container
# addresses are refused from every interface that is not the container's own.
#   - a2 (network n2) has a masqueraded flow of its own and sends ICMP errors
#     quoting it to v1 (network n1): none arrive (isolation);
#   - a client on the uplink has a flow to v1's published port and sends ICMP
#     errors quoting it to v1's address: none arrive (no-portmap);
#   - a neighbour on a second host interface that is not an uplink (lan0)
#     routes UDP to v1's address through the host: none arrive (direct-access);
#   - legitimate traffic still flows: the host reaches v1, the published port
#     and a2's masqueraded flow answer, a2's error to its flow's source passes.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client lan v1 a2; do make_ns $n; done
add_uplink up0 10.82.0.1 client 10.82.0.2
# A second host interface, not an uplink: nothing of bpfnet is attached to it.
add_uplink lan0 10.84.0.1 lan 10.84.0.2
start_daemon --uplink up0
ctl network create n1 --subnet 10.83.1.0/24 >/dev/null
ctl network create n2 --subnet 10.83.2.0/24 >/dev/null
ctl network connect n1 v1 --netns "$(ns v1)" # 10.83.1.2
ctl network connect n2 a2 --netns "$(ns a2)" # 10.83.2.2
in_ns lan ip route add 10.83.0.0/16 via 10.84.0.1

# v1 logs every UDP datagram's source (and echoes it), and every ICMP error it gets.
bg_in_ns v1 python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",53))
while True:
    d,a=s.recvfrom(65535); print("udp", a[0], flush=True); s.sendto(d,a)'
bg_in_ns v1 python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)
while True:
    d,a=s.recvfrom(65535)
    if d[20] in (3, 11, 12): print("icmp-error", a[0], flush=True)'
bg_in_ns client python3 -c "$UDP_ECHO" 53
ctl port-map add v1 5353:53/udp >/dev/null

# One UDP exchange from a fixed source port; prints the answer or "(no answer)".
UDP_FROM='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); s.bind(("0.0.0.0",int(sys.argv[3])))
s.sendto(b"q",(sys.argv[1],int(sys.argv[2])))
try: print(s.recvfrom(65535)[0].decode())
except socket.timeout: print("(no answer)")'

log "legitimate traffic"
sleep 0.5
in_ns host ping -c 1 -W 2 -q 10.83.1.2 >/dev/null || fail "the host does not reach v1"
[ "$(in_ns client python3 -c "$UDP_FROM" 10.82.0.1 5353 40053)" = q ] || fail "client to v1's published port"
[[ "$(in_ns a2 python3 -c "$UDP_FROM" 10.82.0.2 53 40000)" == "q from 10.82.0.1:"* ]] \
  || fail "a2's masqueraded flow"
nport=$(in_ns a2 python3 -c "$UDP_FROM" 10.82.0.2 53 40000 | sed 's/.*://')
log "a2's flow leaves as 10.82.0.1:$nport"

ICMP_BEFORE=0
icmp_seen() { grep -c '^icmp-error' "$T/bg-v1.log" || true; }
udp_seen_from() { grep -c "^udp $1\$" "$T/bg-v1.log" || true; }

log "a2 sends ICMP errors quoting its own flow to v1, on another network"
gwmac=$(in_ns a2 ip neigh show 10.83.2.1 | awk '{print $5; exit}')
[ -n "$gwmac" ] || fail "a2 has no neighbour entry for its gateway"
before=$(drop_count isolation)
in_ns a2 python3 "$E2E_DIR/craft.py" icmp-error eth0 "$gwmac" 10.83.2.2 10.83.1.2 3 3 \
  10.82.0.2 10.83.2.2 17 53 40000 20
sleep 1
got=$(icmp_seen)
log "v1 got $got of 20; isolation drops: $(( $(drop_count isolation) - before ))"
[ "$got" = 0 ] || fail "$got ICMP errors from a2 crossed into n1"
[ $(( $(drop_count isolation) - before )) -ge 20 ] || fail "not dropped as isolation"

log "a client on the uplink sends ICMP errors quoting its flow to v1's address"
hostmac=$(in_ns host cat /sys/class/net/up0/address)
before=$(drop_count no-portmap)
in_ns client python3 "$E2E_DIR/craft.py" icmp-error eth0 "$hostmac" 10.82.0.2 10.83.1.2 3 3 \
  10.82.0.1 10.82.0.2 17 5353 40053 20
sleep 1
got=$(icmp_seen)
log "v1 got $got of 20; no-portmap drops: $(( $(drop_count no-portmap) - before ))"
[ "$got" = 0 ] || fail "$got ICMP errors from the uplink reached v1 directly"
[ $(( $(drop_count no-portmap) - before )) -ge 20 ] || fail "not dropped as no-portmap"

log "a neighbour on lan0 (not an uplink) routes UDP to v1 through the host"
before=$(drop_count direct-access)
pids=()
for i in $(seq 1 10); do
  in_ns lan python3 -c "$UDP_FROM" 10.83.1.2 53 $((41000 + i)) >/dev/null &
  pids+=($!)
done
wait "${pids[@]}"
got=$(udp_seen_from 10.84.0.2)
log "v1 got $got of 10; direct-access drops: $(( $(drop_count direct-access) - before ))"
[ "$got" = 0 ] || fail "$got datagrams from lan0 reached v1 directly"
[ $(( $(drop_count direct-access) - before )) -ge 10 ] || fail "not dropped as direct-access"
if in_ns lan ping -c 1 -W 1 -q 10.83.1.2 >/dev/null; then fail "lan0 pings v1"; fi

log "still: the host reaches v1, and a2's error to its own flow's source leaves translated"
in_ns host ping -c 1 -W 2 -q 10.83.1.2 >/dev/null || fail "the host does not reach v1 afterwards"
bg_in_ns client python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)
while True:
    d,a=s.recvfrom(65535)
    if d[20] == 3: print("icmp-error", a[0], "quoting-dport", int.from_bytes(d[50:52], "big"), flush=True)'
sleep 0.3
in_ns a2 python3 "$E2E_DIR/craft.py" icmp-error eth0 "$gwmac" 10.83.2.2 10.82.0.2 3 3 \
  10.82.0.2 10.83.2.2 17 53 40000 1
sleep 0.5
grep -q "^icmp-error 10.82.0.1 quoting-dport $nport\$" "$T/bg-client.log" \
  || fail "a2's error about its own flow did not reach its source translated: $(grep icmp "$T/bg-client.log")"
ctl stats >&2
