#!/usr/bin/env bash
# Containers on one network reach each other (ping, HTTP); the host reaches
# them and they reach the gateway; other networks are isolated; ICC off and
# --internal behave as in Docker.
source "$(dirname "$0")/lib.sh"

setup_host
start_daemon
for c in c1 c2 c3 i1 i2 n1 n2; do make_ns $c; done

ctl network create front --subnet 10.77.0.0/24 >/dev/null
ctl network create back --subnet 10.78.0.0/24 >/dev/null
ctl network create noicc --subnet 10.79.0.0/24 -o com.docker.network.bridge.enable_icc=false >/dev/null
ctl network create intern --subnet 10.80.0.0/24 --internal >/dev/null

ctl network connect front c1 --netns "$(ns c1)"
ctl network connect front c2 --netns "$(ns c2)"
ctl network connect back c3 --netns "$(ns c3)"
ctl network connect noicc n1 --netns "$(ns n1)"
ctl network connect noicc n2 --netns "$(ns n2)"
ctl network connect intern i1 --netns "$(ns i1)"
ctl network connect intern i2 --netns "$(ns i2)"

# IPAM: lowest free address after the gateway.
[ "$(in_ns c1 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 10.77.0.2/24 ] || fail "c1 address"
[ "$(in_ns c2 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 10.77.0.3/24 ] || fail "c2 address"
in_ns c1 ip route show default | grep -c "via 10.77.0.1 dev eth0" >/dev/null || fail "c1 default route"
[ -z "$(in_ns i1 ip route show default)" ] || fail "internal network got a default route"

log "same network: ping and HTTP"
in_ns c1 ping -c 2 -W 2 -q 10.77.0.3 >/dev/null || fail "c1 -> c2 ping"
in_ns c2 ping -c 2 -W 2 -q 10.77.0.2 >/dev/null || fail "c2 -> c1 ping"
bg_in_ns c2 python3 "$ROOT/scripts/httpd.py" --bind 10.77.0.3 --port 8000 --name c2
wait_http c1 http://10.77.0.3:8000/
[ "$(in_ns c1 curl -sf --max-time 5 http://10.77.0.3:8000/ | cut -d: -f1)" = "c2 10.77.0.2" ] || fail "c1 -> c2 HTTP"
# TTL is left alone: a peer is one hop away, as on a bridge.
out=$(in_ns c1 ping -c 1 -W 2 10.77.0.3)
grep -q "ttl=64" <<<"$out" || fail "TTL changed on same-network forward: $out"

log "host <-> container"
in_ns host ping -c 2 -W 2 -q 10.77.0.2 >/dev/null || fail "host -> c1 ping"
in_ns host curl -sf --max-time 5 -o /dev/null http://10.77.0.3:8000/ || fail "host -> c2 HTTP"
in_ns c1 ping -c 2 -W 2 -q 10.77.0.1 >/dev/null || fail "c1 -> gateway ping"
in_ns i1 ping -c 1 -W 2 -q 10.80.0.1 >/dev/null || fail "internal container -> its gateway"
in_ns host ping -c 1 -W 2 -q 10.80.0.2 >/dev/null || fail "host -> internal container"

log "isolation between networks"
before=$(drop_count isolation)
if in_ns c3 ping -c 2 -W 1 -q 10.77.0.2 >/dev/null 2>&1; then fail "back -> front ping went through"; fi
if in_ns c3 curl -s --max-time 2 http://10.77.0.3:8000/ >/dev/null; then fail "back -> front HTTP went through"; fi
after=$(drop_count isolation)
[ "$after" -ge $((before + 3)) ] || fail "isolation drops not counted ($before -> $after)"

log "ICC disabled"
before=$(drop_count icc-disabled)
if in_ns n1 ping -c 2 -W 1 -q 10.79.0.3 >/dev/null 2>&1; then fail "ICC=false ping went through"; fi
[ "$(drop_count icc-disabled)" -ge $((before + 2)) ] || fail "icc drops not counted"
in_ns n1 ping -c 1 -W 2 -q 10.79.0.1 >/dev/null || fail "ICC=false container -> gateway"

log "internal network"
in_ns i1 ping -c 1 -W 2 -q 10.80.0.3 >/dev/null || fail "internal peers"
in_ns i1 ip route add default via 10.80.0.1 dev eth0
before=$(drop_count internal-network)
if in_ns i1 ping -c 1 -W 1 -q 10.77.0.1 >/dev/null 2>&1; then fail "internal -> other network gateway"; fi
if in_ns i1 ping -c 1 -W 1 -q 192.0.2.1 >/dev/null 2>&1; then fail "internal -> outside"; fi
[ "$(drop_count internal-network)" -ge $((before + 1)) ] || fail "internal drops not counted"

log "anti-spoofing from a real container"
before=$(drop_count invalid-source-ip)
in_ns c1 ip addr add 10.77.0.99/24 dev eth0
if in_ns c1 ping -c 2 -W 1 -q -I 10.77.0.99 10.77.0.3 >/dev/null 2>&1; then fail "spoofed source went through"; fi
[ "$(drop_count invalid-source-ip)" -ge $((before + 1)) ] || fail "spoof drops not counted"

log "stats"
ctl stats | tee "$T/stats.txt" >&2
grep -q "^CONTAINER" "$T/stats.txt" || fail "stats header"
ctl stats -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c1 = [e for e in d["endpoints"] if e["container"] == "c1"][0]
assert c1["tx_packets"] > 0 and c1["rx_packets"] > 0, c1
' || fail "per-endpoint counters"

log "disconnect frees the address and removes the interface"
ctl network disconnect front c2
in_ns c2 ip link show eth0 >/dev/null 2>&1 && fail "eth0 still in c2 after disconnect"
if in_ns c1 ping -c 1 -W 1 -q 10.77.0.3 >/dev/null 2>&1; then fail "disconnected container still reachable"; fi
ctl network connect front c2 --netns "$(ns c2)"
[ "$(in_ns c2 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 10.77.0.3/24 ] || fail "lease not reused"
in_ns c1 ping -c 1 -W 2 -q 10.77.0.3 >/dev/null || fail "reconnected container unreachable"

log "the default route moves when the gateway network is disconnected"
ctl network connect back c1 --netns "$(ns c1)"
in_ns c1 ip route show default | grep -c "via 10.77.0.1 dev eth0" >/dev/null || fail "default route before"
ctl network disconnect front c1
in_ns c1 ip route show default | grep -c "via 10.78.0.1 dev eth1" >/dev/null || fail "default route did not move: $(in_ns c1 ip route)"
