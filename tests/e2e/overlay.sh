#!/usr/bin/env bash
# Overlay networks across three hosts and a 3-member etcd (issue 13): one
# network created on one host and seen on all, cluster-wide IPAM under
# concurrent connects, every host's tunnel map, refusals that change
# nothing, a daemon killed and restarted, a whole host dying, etcd away.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=3

# --- Without --store, overlay networks are refused with the flag to use.
setup_host
start_daemon
out=$(must_fail ctl network create -d overlay lonely)
grep -q -- "--store" <<<"$out" || fail "overlay without a store: $out"
stop_daemon

start_etcd
for n in 1 2 3; do add_cluster_host "$n"; start_host_daemon "$n"; done
for n in 1 2 3; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
done

# --- A second host with a taken name does not start.
add_cluster_host 4
ip netns exec "${P}-h4" "$BPFNETD" --state-dir "$T/h4/state" --bpffs "$T/h4/bpffs/pins" \
  --socket "$T/h4/sock" --cgroup none --store "$STORE" --host-name h1 --underlay ul0 \
  >"$T/h4.log" 2>&1 &
h4=$!
eventually 10 grep -q "host name h1 is taken by a live host at $(host_ip 1)" "$T/h4.log" ||
  { kill -KILL $h4; fail "a second h1 was not refused: $(cat "$T/h4.log")"; }
kill -KILL $h4 2>/dev/null; wait $h4 2>/dev/null || true

# --- Created on h1, visible on every host as overlay/global.
hctl 1 network create -d overlay --subnet 10.50.0.0/22 ov1 >/dev/null
for n in 2 3; do
  eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h$n/sock' network ls | grep -Eq ' ov1 +overlay +global'" ||
    fail "ov1 not listed on h$n: $(hctl "$n" network ls)"
done

# --- Refusals: an overlapping overlay, an overlay over a host's local
# network, a taken VNI, a name in use. Nothing changes.
hctl 3 network create --subnet 10.60.0.0/24 local3 >/dev/null
sleep 0.5
before=$(hctl 2 network ls)
out=$(must_fail hctl 2 network create -d overlay --subnet 10.50.1.0/24 ov-overlap)
grep -qi "overlap" <<<"$out" || fail "overlapping overlay: $out"
out=$(must_fail hctl 1 network create -d overlay --subnet 10.60.0.0/16 ov-local)
grep -qi "overlap" <<<"$out" || fail "overlay over h3's local network: $out"
vni=$(hctl 1 network inspect ov1 -o json | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["Options"]["com.docker.network.driver.overlay.vxlanid_list"])')
[ "$vni" -ge 4096 ] || fail "ov1's VNI: $vni"
out=$(must_fail hctl 3 network create -d overlay --subnet 10.71.0.0/24 -o "com.docker.network.driver.overlay.vxlanid_list=$vni" ov-vni)
grep -q "$vni" <<<"$out" || fail "taken VNI: $out"
out=$(must_fail hctl 2 network create -d overlay --subnet 10.70.0.0/24 ov1)
grep -q "already exists" <<<"$out" || fail "name in use: $out"
[ "$(hctl 2 network ls)" = "$before" ] || fail "a refused create changed h2's networks"
log "refusals: overlap, local subnet, taken VNI $vni, name"

# --- 3 hosts x 30 concurrent connects: 90 distinct addresses.
pids=()
for n in 1 2 3; do
  for i in $(seq 1 30); do
    add_container "$n" "c$i"
    hctl "$n" network connect --netns "${P}-h$n-c$i" ov1 "h${n}c$i" >"$T/connect-$n-$i.out" 2>&1 &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent connect failed: $(cat "$T"/connect-*.out | grep -i error | head -3)"; done
# Each host's inspect lists every host's containers, each with its host.
containers() {  # containers N: "IP HOST" of every container h N's inspect shows
  hctl "$1" network inspect ov1 -o json | python3 -c '
import json, sys
for c in json.load(sys.stdin)[0]["Containers"].values():
    print(c["IPv4Address"].split("/")[0], c["Host"])'
}
for n in 1 2 3; do
  eventually 5 bash -c "[ \$($(declare -f hctl containers); T='$T' BPFNETCTL='$BPFNETCTL' containers $n | wc -l) = 90 ]" ||
    fail "h$n's inspect shows $(containers "$n" | wc -l) containers, expected 90"
done
containers 1 | sort >"$T/addresses"
[ "$(awk '{print $1}' "$T/addresses" | sort -u | wc -l)" = 90 ] ||
  fail "an address was given twice: $(awk '{print $1}' "$T/addresses" | uniq -d)"
for n in 1 2 3; do
  [ "$(grep -c " h$n\$" "$T/addresses")" = 30 ] || fail "h1's inspect: $(grep -c " h$n\$" "$T/addresses") containers on h$n"
done
log "90 concurrent connects on 3 hosts: 90 distinct addresses, listed on every host"

# --- Every host's tunnel map holds the other hosts' 60 endpoints, each at
# its host's underlay address.
for n in 1 2 3; do
  eventually 5 bash -c "[ \$(source '$E2E_DIR/cluster_lib.sh' 2>/dev/null; true; bpftool -j map dump pinned '$T/h$n/bpffs/pins/bpfnet_tunnels' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 60 ]" ||
    fail "h$n's tunnel map: $(tunnels "$n" | wc -l) entries, expected 60"
  for m in 1 2 3; do
    [ "$m" = "$n" ] && continue
    got=$(tunnels "$n" | awk -v r="$(host_ip "$m")" '$2 == r' | wc -l)
    [ "$got" = 30 ] || fail "h$n tunnels $got endpoints to h$m, expected 30"
  done
done
log "tunnel maps: 60 remote endpoints on each host"

# --- Traffic across hosts, through the VXLAN device: ping, UDP, TCP
# (iperf3), and a 1422-byte payload with DF at the overlay MTU (1450).
ip_of() {  # ip_of HOST CONTAINER
  hctl "$1" network inspect ov1 -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values() if c["Name"] == sys.argv[1]][0])' "$2"
}
ip21=$(ip_of 2 h2c1)
ip31=$(ip_of 3 h3c1)
in_ctr 1 c1 ping -c 2 -W 2 "$ip21" >/dev/null || fail "ping h1c1 -> h2c1 ($ip21)"
in_ctr 3 c1 ping -c 2 -W 2 "$(ip_of 1 h1c2)" >/dev/null || fail "ping h3c1 -> h1c2"
[ "$(in_ctr 1 c1 cat /sys/class/net/eth0/mtu)" = 1450 ] || fail "overlay endpoint MTU: $(in_ctr 1 c1 cat /sys/class/net/eth0/mtu)"
in_ctr 1 c1 ping -c 1 -W 2 -M do -s 1422 "$ip21" >/dev/null || fail "1422-byte DF ping across hosts"
ip netns exec "${P}-h2-c1" python3 -c "$UDP_ECHO" 5300 >"$T/udp.log" 2>&1 &
BG_PIDS+=($!)
sleep 0.3
out=$(in_ctr 1 c1 python3 -c "$UDP_ASK" "$ip21" 5300 hello) || fail "UDP h1c1 -> h2c1"
grep -q "hello from $(ip_of 1 h1c1):" <<<"$out" || fail "UDP answer: $out"
ip netns exec "${P}-h3-c1" iperf3 -s -1 -p 5201 >"$T/iperf-s.log" 2>&1 &
BG_PIDS+=($!)
sleep 0.5
in_ctr 2 c1 iperf3 -c "$ip31" -p 5201 -t 2 -J >"$T/iperf.json" || fail "iperf3 h2c1 -> h3c1"
gbps=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e9))' "$T/iperf.json")
log "across hosts: ping, UDP, 1422 B DF, TCP $gbps Gbit/s (h2 -> h3)"

# --- A second overlay is isolated from the first, across hosts too.
hctl 2 network create -d overlay --subnet 10.51.0.0/24 ov2 >/dev/null
eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h1/sock' network ls | grep -q ' ov2 '" || fail "ov2 not on h1"
add_container 1 other
hctl 1 network connect --netns "${P}-h1-other" ov2 other >/dev/null
eventually 5 bash -c "$(declare -f tunnels); T='$T'; tunnels 2 | grep -q '^10.51.0.2 '" || fail "h2 never learned ov2's endpoint"
in_ctr 1 other ip route add 10.50.0.0/22 dev eth0
if in_ctr 1 other ping -c 2 -W 1 "$ip21" >/dev/null 2>&1; then fail "ov2 reached ov1 across hosts"; fi
log "a second overlay is isolated from the first"

# --- network rm is refused while any host has endpoints on it.
out=$(must_fail hctl 2 network rm ov1)
grep -q "has active endpoints" <<<"$out" || fail "rm with endpoints elsewhere: $out"

# --- SIGKILL h2's bpfnetd: the others keep its endpoints (its lease lives
# while it restarts within the TTL), and the restarted daemon takes the
# lease over: nothing changes anywhere. TCP streams h1 -> h3 (other hosts)
# and h1 -> h2 (the killed one's) run throughout on the same connections.
ip netns exec "${P}-h3-c2" python3 "$E2E_DIR/streams.py" echo 7000 >/dev/null 2>&1 &
BG_PIDS+=($!)
ip netns exec "${P}-h2-c2" python3 "$E2E_DIR/streams.py" echo 7000 >/dev/null 2>&1 &
BG_PIDS+=($!)
sleep 0.5
in_ctr 1 c3 python3 "$E2E_DIR/streams.py" tcp "$(ip_of 3 h3c2)" 7000 "$T/stop" >"$T/s13.out" 2>&1 &
s13=$!
in_ctr 1 c4 python3 "$E2E_DIR/streams.py" tcp "$(ip_of 2 h2c2)" 7000 "$T/stop" >"$T/s12.out" 2>&1 &
s12=$!
sleep 1
tunnels 1 >"$T/t1.before"
stop_host_daemon 2 KILL
sleep 1
start_host_daemon 2
eventually 10 grep -q "joined the cluster as h2" "$T/h2/bpfnetd.log" || fail "h2 did not rejoin"
sleep $((LEASE_TTL + 1))
[ "$(tunnels 1)" = "$(cat "$T/t1.before")" ] || fail "h1's tunnels changed across h2's restart"
[ "$(containers 2 | grep -c ' h2$')" = 30 ] || fail "h2 lost endpoints across its restart"
touch "$T/stop"
wait $s13 || fail "stream h1 -> h3 across h2's restart: $(cat "$T/s13.out")"
wait $s12 || fail "stream h1 -> h2 across h2's restart: $(cat "$T/s12.out")"
log "h2's bpfnetd killed and restarted: tunnels unchanged, streams kept ($(cat "$T/s13.out"), $(cat "$T/s12.out"))"

# --- A whole host dies (daemon and containers): within TTL + 1 s its
# endpoints leave the others' tunnel maps, and its addresses are free.
h3addr=$(containers 3 | awk '$2 == "h3" {print $1; exit}')
stop_host_daemon 3 KILL
for i in $(seq 1 30); do ip netns del "${P}-h3-c$i"; done
gone_after=$(elapsed_until $((4 * LEASE_TTL + 5)) bash -c "[ \$(bpftool -j map dump pinned '$T/h1/bpffs/pins/bpfnet_tunnels' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 30 ]") ||
  fail "h3's endpoints still in h1's tunnel map $((4 * LEASE_TTL + 5)) s after it died: $(tunnels 1 | grep -c "$(host_ip 3)")"
add_container 1 reuse
hctl 1 network connect --netns "${P}-h1-reuse" --ip "$h3addr" ov1 reuse >/dev/null ||
  fail "h3's address $h3addr not reusable"
log "h3 died: gone from h1 after ${gone_after} s (lease TTL ${LEASE_TTL} s), $h3addr reused"

# --- etcd away: forwarding state stays, changes are refused with the
# store's error, and everything converges when it returns.
etcd_do kill 1
add_container 2 one-member-down
hctl 2 network connect --netns "${P}-h2-one-member-down" ov1 one-member-down >/dev/null ||
  fail "connect with one etcd member down"
etcd_do stop-all
tunnels 1 >"$T/t1.before"
add_container 1 away
out=$(must_fail hctl 1 network connect --netns "${P}-h1-away" ov1 away)
grep -q "store unavailable" <<<"$out" || fail "connect with etcd away: $out"
[ "$(tunnels 1)" = "$(cat "$T/t1.before")" ] || fail "h1's tunnels changed with etcd away"
etcd_do start-all
eventually 20 hctl 1 network connect --netns "${P}-h1-away" ov1 away || fail "no connect after etcd came back"
ip_away=$(hctl 1 network inspect ov1 -o json | python3 -c '
import json, sys
print([c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values() if c["Name"] == "away"][0])')
eventually 10 bash -c "$(declare -f tunnels); T='$T'; tunnels 2 | grep -q '^$ip_away '" ||
  fail "h2 never learned $ip_away after etcd returned"
log "etcd away: refused with 'store unavailable', converged after"

# --- A graceful stop (SIGTERM) takes h2's records out at once.
stop_host_daemon 2 TERM
# The records are gone from the store when the daemon has exited (a killed
# daemon's would stay until its lease expires).
store_keys=$(etcd_do exec env ETCDCTL_API=3 etcdctl --endpoints "${STORE#etcd://}" get --prefix /bpfnet/ --keys-only) ||
  fail "etcdctl get failed"
grep -qx '/bpfnet/v1/hosts/h1' <<<"$store_keys" || fail "h1's host record not in the store: $store_keys"
if grep -qx '/bpfnet/v1/hosts/h2' <<<"$store_keys"; then
  fail "h2's host record still in the store after its graceful stop"
fi
left_after=$(elapsed_until 15 bash -c "$(declare -f tunnels); T='$T'; ! tunnels 1 | grep -q ' $(host_ip 2) '") ||
  fail "h2's endpoints still in h1's tunnel map 15 s after its graceful stop: $(tail -5 "$T/h2/bpfnetd.log")"
log "h2 stopped gracefully: its endpoints left after ${left_after} s (no lease wait)"
