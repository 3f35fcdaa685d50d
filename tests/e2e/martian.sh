#!/usr/bin/env bash
# Issue 12, item 1: a port published on 127.0.0.1 answers only the host
# itself. A neighbour on the uplink sends UDP to 127.0.0.1:5353 addressed to
# the host's MAC (crafted frames: no stack sends that): nothing reaches the
# container, every frame is dropped as `martian`. The host still reaches the
# port on 127.0.0.1 (socket hooks). UPLINK_MODE picks the uplink path.
source "$(dirname "$0")/lib.sh"

setup_host
setup_cgroup
for n in client web; do make_ns $n; done
add_uplink up0 10.89.0.1 client 10.89.0.2
start_daemon --uplink "$(uplink_arg up0)" $(uplink_flags)

ctl network create mnet --subnet 10.88.0.0/24 >/dev/null
ctl network connect mnet web --netns "$(ns web)" # 10.88.0.2
# Echoes and logs the source of every datagram.
bg_in_ns web python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",53))
while True:
    d,a=s.recvfrom(65535); print(a[0], flush=True); s.sendto(d+(" from %s:%d" % a).encode(),a)'
ctl port-map add web 127.0.0.1:5353:53/udp >/dev/null
ctl port-map ls web >&2

log "the host reaches 127.0.0.1:5353"
reply=""
for _ in $(seq 1 20); do
  reply=$(in_host_cgroup python3 -c "$UDP_ASK" 127.0.0.1 5353 hi 2>/dev/null) && break
  sleep 0.1
done
[[ "$reply" == "hi from "* ]] || fail "127.0.0.1:5353 from the host: '$reply'"

log "a neighbour sends 127.0.0.1:5353 to the host's MAC"
hostmac=$(in_ns host cat /sys/class/net/up0/address)
before=$(drop_count martian)
in_ns client python3 "$E2E_DIR/craft.py" udp eth0 "$hostmac" 10.89.0.2 127.0.0.1 40000 5353 20
in_ns client python3 "$E2E_DIR/craft.py" udp eth0 "$hostmac" 10.89.0.2 127.0.0.9 40000 5353 5
sleep 1
from_lan=$(grep -c '^10.89.0.2$' "$T/bg-web.log" || true)
dropped=$(( $(drop_count martian) - before ))
log "reached the container: $from_lan of 25; dropped as martian: $dropped"
[ "$from_lan" = 0 ] || fail "$from_lan crafted frames to 127.0.0.1:5353 reached the container"
[ "$dropped" -ge 25 ] || fail "martian drops counted: $dropped, wanted 25"
ctl stats | grep -q martian || fail "stats do not show martian drops: $(ctl stats)"

log "still reachable from the host afterwards"
[[ "$(in_host_cgroup python3 -c "$UDP_ASK" 127.0.0.1 5353 again)" == "again from "* ]] \
  || fail "127.0.0.1:5353 from the host after the attack"
