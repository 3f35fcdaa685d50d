#!/usr/bin/env bash
# Services across hosts on an overlay network (issue 13, Swarm's routing
# mesh), on three hosts and a 3-member etcd:
#   - a service published on h1 with one backend on each host (b2@h2, b3@h3
#     named CONTAINER@HOST): requests from an outside client on h1's uplink
#     are answered by all three; h3 dies (bpfnetd and container killed): once
#     its lease expires, every request is answered by the other two;
#   - a forged VXLAN packet (inner source h1's container, sent by h2) is
#     dropped on h3 as tunnel-spoof and never reaches the container, while
#     the very same packet sent by h1 is delivered;
#   - every host's underlay (ul0) is also an uplink (the single-NIC host; on
#     h3 in forced XDP): VXLAN between hosts still reaches the VXLAN device.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=3

start_etcd
for n in 1 2 3; do add_cluster_host "$n"; done
# The outside client, on h1's uplink up0.
add_outside_client
# Forced XDP on a veth: the switch side must checksum in software (lib.sh's
# add_uplink says why).
ip netns exec "${P}-sw" ethtool -K "${P}h3" tx off >/dev/null
start_host_daemon 1 --uplink up0 --uplink ul0
start_host_daemon 2 --uplink ul0
start_host_daemon 3 --uplink ul0:xdp
for n in 1 2 3; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
done
hctl 3 uplink ls >&2 || true

hctl 1 network create -d overlay --subnet 10.52.0.0/24 ovs >/dev/null
for n in 2 3; do
  eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h$n/sock' network ls | grep -q ' ovs '" ||
    fail "ovs not on h$n"
done
for n in 1 2 3; do
  add_container "$n" b
  hctl "$n" network connect --netns "${P}-h$n-b" ovs "b$n" >/dev/null
  ip netns exec "${P}-h$n-b" python3 "$ROOT/scripts/httpd.py" --port 80 --name "h$n" \
    >"$T/httpd-$n.log" 2>&1 &
  BG_PIDS+=($!)
done
add_container 3 t
hctl 3 network connect --netns "${P}-h3-t" ovs t3 >/dev/null

ip_of() {  # ip_of HOST CONTAINER: its address, as HOST's inspect lists it
  hctl "$1" network inspect ovs -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values() if c["Name"] == sys.argv[1]][0])' "$2"
}
mac_of() {  # mac_of HOST CONTAINER
  hctl "$1" network inspect ovs -o json | python3 -c '
import json, sys
print([c["MacAddress"] for c in json.load(sys.stdin)[0]["Containers"].values() if c["Name"] == sys.argv[1]][0])' "$2"
}
drops() {  # drops HOST REASON: packets dropped for REASON on HOST
  hctl "$1" stats -o json | python3 -c '
import json, sys
print(sum(r["packets"] for r in json.load(sys.stdin)["drops"] if r["reason"] == sys.argv[1]))' "$2"
}
for n in 2 3; do
  eventually 5 bash -c "$(declare -f tunnels); T='$T'; [ \$(tunnels 1 | grep -c ' $(host_ip "$n") ') -ge 1 ]" ||
    fail "h1 never learned h$n's containers"
done
eventually 5 bash -c "$(declare -f tunnels); T='$T'; tunnels 1 | grep -q '^$(ip_of 3 t3) '" ||
  fail "h1 never learned t3"

# --- A forged VXLAN packet: inner source h1's b1, sent by h2 to h3's t3.
b1=$(ip_of 1 b1)
t3=$(ip_of 3 t3)
vni=$(hctl 1 network inspect ovs -o json | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["Options"]["com.docker.network.driver.overlay.vxlanid_list"])')
# Logs the payload of every UDP datagram it gets.
UDP_LOG_DATA='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",int(sys.argv[1])))
while True:
    d,a=s.recvfrom(65535); print(d.decode(errors="replace"), flush=True)'
ip netns exec "${P}-h3-t" python3 -c "$UDP_LOG_DATA" 9001 >"$T/t3.log" 2>&1 &
BG_PIDS+=($!)
send_vxlan() {  # send_vxlan HOST PAYLOAD COUNT: from HOST's underlay address to h3's
  ip netns exec "${P}-h$1" python3 - "$(host_ip "$1")" "$(host_ip 3)" "$vni" "$b1" "$t3" \
    "$(mac_of 3 t3)" "$2" "$3" <<'PY'
import socket, struct, sys
src, dst, vni, isrc, idst, imac, payload, count = sys.argv[1:9]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
data = payload.encode()
udp = struct.pack("!HHHH", 40000, 9001, 8 + len(data), 0) + data
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                 socket.inet_aton(isrc), socket.inet_aton(idst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
inner = bytes.fromhex(imac.replace(":", "")) + bytes.fromhex("02420a340001") + b"\x08\x00" + ip + udp
vxlan = struct.pack("!II", 0x08000000, int(vni) << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for _ in range(int(count)):
    s.sendto(vxlan + inner, (dst, 4789))
PY
}
sleep 0.3
spoof_before=$(drops 3 tunnel-spoof)
send_vxlan 2 forged-by-h2 5
for _ in $(seq 50); do
  [ "$(drops 3 tunnel-spoof)" -ge $((spoof_before + 5)) ] && break
  sleep 0.1
done
spoof_after=$(drops 3 tunnel-spoof)
[ "$spoof_after" -eq $((spoof_before + 5)) ] ||
  fail "forged VXLAN from h2: tunnel-spoof on h3 went $spoof_before -> $spoof_after, want +5"
# The same frame from h1, whose container b1 is: delivered, so the forged
# ones were dropped for their sender alone.
for _ in $(seq 50); do
  send_vxlan 1 sent-by-h1 1
  grep -q sent-by-h1 "$T/t3.log" && break
  sleep 0.1
done
grep -q sent-by-h1 "$T/t3.log" || fail "the VXLAN frame from h1 was not delivered to t3"
! grep -q forged-by-h2 "$T/t3.log" || fail "a forged frame reached t3"
log "forged VXLAN (inner $b1 of h1, sent by h2): 5 dropped on h3 as tunnel-spoof ($spoof_before -> $spoof_after), t3 saw none; h1's delivered"

# --- The VXLAN port cannot be published over (the kernel's VXLAN socket
# holds it): with the underlay an uplink, that would take the overlay's
# traffic into a container.
out=$(must_fail hctl 1 service create dns --network ovs --port 53/udp --publish 4789:53/udp)
grep -q "4789" <<<"$out" || fail "publishing 4789/udp: $out"

# --- A service published on h1, one backend on each host.
hctl 1 service create web --network ovs --port 80/tcp --publish 8080:80 >/dev/null
hctl 1 service add-backend web b1 >/dev/null
for n in 2 3; do
  out=$(hctl 1 service add-backend web "b$n@h$n") || fail "add-backend b$n@h$n: $out"
done
out=$(must_fail hctl 1 service add-backend web nobody@h2)
grep -q "container nobody is not connected to network ovs on host h2" <<<"$out" || fail "unknown remote backend: $out"
hctl 1 service inspect web >&2
# The VIP comes from the cluster's IPAM: no container on any host has it,
# and no host gives it out later.
vip=$(hctl 1 service inspect web | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["VIP"])')
add_container 2 late
hctl 2 network connect --netns "${P}-h2-late" ovs late >/dev/null
for n in 1 2; do
  hctl "$n" network inspect ovs -o json | grep -q "\"$vip/24\"" &&
    fail "service web's VIP $vip is also a container's address: $(hctl "$n" network inspect ovs)"
done
# h1's own address on ovs (its lb endpoint) must be in the others' tunnel
# maps. (web is the cluster's: h2 and h3 have lb endpoints of their own too.)
h1_lb_on_2() {
  hctl 2 network inspect ovs -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values()
       if c["Name"] == "lb-ovs" and c.get("Host") == "h1"][0])'
}
lb=""
eventually 5 h1_lb_on_2 || fail "h1's lb endpoint never reached h2"
lb=$(h1_lb_on_2)
for n in 2 3; do
  eventually 5 bash -c "$(declare -f tunnels); T='$T'; tunnels $n | grep -q '^$lb $(host_ip 1) '" ||
    fail "h$n never learned h1's lb address $lb"
done

counts=$(spread 60)
answered_by "$counts" h1 h2 h3 || fail "60 requests to h1:8080 not spread over h1, h2, h3: $counts"
# The remote backends saw h1's lb address, the local one the client.
from=$(ip netns exec "${P}-client" curl -s --max-time 3 http://10.96.0.1:8080/ || true)
log "60 requests from the outside client: $counts (lb address $lb; one answer: $from)"

# --- h3 dies: daemon and container. Once its lease expires the table drops
# b3@h3 and every request goes to the other two.
stop_host_daemon 3 KILL
ip netns pids "${P}-h3-b" | xargs -r kill -KILL
eventually $((LEASE_TTL + 2)) bash -c "'$BPFNETCTL' --socket '$T/h1/sock' service inspect web | grep -q 'not in the cluster'" ||
  fail "b3@h3 still in service web after h3 died: $(hctl 1 service inspect web)"
counts=$(spread 60)
answered_by "$counts" h1 h2 || fail "after h3 died, 60 requests not all answered by h1 and h2: $counts"
log "h3 died: 60 requests answered by h1 and h2 alone: $counts"
hctl 1 service inspect web >&2
