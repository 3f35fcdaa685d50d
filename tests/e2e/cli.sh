#!/usr/bin/env bash
# bpfnetctl against a live daemon: Docker's output shapes, pools, options,
# config file, rm rules, JSON for scripts.
source "$(dirname "$0")/lib.sh"

setup_host
# A host route over 172.17.0.0/16 (as docker0 would have): pool selection
# must skip it: Docker's default network `bridge` takes 172.18.0.0/16, the
# first automatic network 172.19.0.0/16.
ip -n "$H" link add dummy0 type veth peer name dummy1
ip -n "$H" link set dummy1 up
ip -n "$H" link set dummy0 up
ip -n "$H" addr add 172.17.0.1/16 dev dummy0
make_ns c1; make_ns c2
printf '{"networks":[{"name":"cfgnet","subnet":"10.87.0.0/24","options":{"com.docker.network.driver.mtu":"1400"}}],"containers":[{"name":"web","netns":"%s","networks":[{"name":"cfgnet","ip":"10.87.0.10"}]}]}' "$(ns c1)" >"$T/cfg.json"
start_daemon --config "$T/cfg.json"

log "config applied"
[ "$(in_ns c1 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 10.87.0.10/24 ] || fail "config address"
in_ns c1 ip link show eth0 | grep -c "mtu 1400" >/dev/null || fail "config MTU"

log "Docker's default network: bridge, on the first pool no host route holds"
ctl network ls | grep -Eq "^[0-9a-f]{12} +bridge +bridge +local$" || fail "no default bridge in ls: $(ctl network ls)"
subnet=$(ctl network inspect bridge | python3 -c 'import json,sys; n=json.load(sys.stdin)[0]; assert n["Options"]["com.docker.network.bridge.default_bridge"] == "true"; print(n["IPAM"]["Config"][0]["Subnet"])')
[ "$subnet" = 172.18.0.0/16 ] || fail "default bridge subnet $subnet, wanted 172.18.0.0/16"
out=$(must_fail ctl network rm bridge)
grep -q "bridge is a pre-defined network and cannot be removed" <<<"$out" || fail "rm bridge wording: $out"
make_ns b1
ctl network connect bridge b1 --netns "$(ns b1)" >/dev/null
[ "$(in_ns b1 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 172.18.0.2/16 ] || fail "bridge endpoint address"
in_ns b1 ping -c 1 -W 2 -q 172.18.0.1 >/dev/null || fail "b1 -> default bridge gateway"
ctl network disconnect bridge b1

log "default pools skip host routes"
id=$(ctl network create auto1)
[ ${#id} -eq 64 ] || fail "network create must print the full ID, got '$id'"
ctl network inspect auto1 -o json >/dev/null 2>&1 || true
subnet=$(ctl network inspect auto1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])')
[ "$subnet" = 172.19.0.0/16 ] || fail "auto subnet $subnet, wanted 172.19.0.0/16"
subnet=$(ctl network create auto2 >/dev/null && ctl network inspect auto2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])')
[ "$subnet" = 172.20.0.0/16 ] || fail "second auto subnet $subnet"

log "network ls looks like docker's"
ctl network ls | tee "$T/ls.txt" >&2
head -1 "$T/ls.txt" | grep -Eq '^NETWORK ID +NAME +DRIVER +SCOPE$' || fail "ls header"
grep -Eq "^${id:0:12} +auto1 +bridge +local$" "$T/ls.txt" || fail "ls row for auto1"
grep -Eq "^[0-9a-f]{12} +none +null +local$" "$T/ls.txt" || fail "ls row for none"
[ "$(ctl network ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 6 ] || fail "ls -o json"

log "inspect shape"
ctl network connect auto1 c2 --netns "$(ns c2)" --ip 172.19.5.5 --mac 02:00:00:00:05:05
ctl network inspect auto1 | python3 -c '
import json, sys
n = json.load(sys.stdin)[0]
for k in ["Name","Id","Created","Scope","Driver","EnableIPv6","IPAM","Internal","Attachable","Ingress","ConfigFrom","ConfigOnly","Containers","Options","Labels"]:
    assert k in n, k
assert n["Driver"] == "bridge" and n["Scope"] == "local"
assert n["IPAM"]["Config"][0]["Gateway"] == "172.19.0.1"
(c,) = n["Containers"].values()
assert c["Name"] == "c2", c
assert c["IPv4Address"] == "172.19.5.5/16", c
assert c["MacAddress"] == "02:00:00:00:05:05", c
' || fail "inspect shape"
in_ns c2 ip link show eth0 | grep -c "02:00:00:00:05:05" >/dev/null || fail "--mac not applied"
in_ns c2 ping -c 1 -W 2 -q 172.19.0.1 >/dev/null || fail "c2 -> gateway"

log "rm"
out=$(must_fail ctl network rm auto1)
printf '%s\n' "$out" | grep -c "^Error response from daemon: error while removing network: network auto1 id $id has active endpoints$" >/dev/null || fail "rm wording: $out"
out=$(must_fail ctl network rm host)
printf '%s\n' "$out" | grep -c "pre-defined network" >/dev/null || fail "rm host wording: $out"
ctl network disconnect auto1 c2
[ "$(ctl network rm auto1)" = auto1 ] || fail "rm output"
ip -n "$H" -o link show | grep -c "bn-${id:0:12}" >/dev/null && fail "network interface left after rm"
out=$(must_fail ctl network inspect auto1)
printf '%s\n' "$out" | grep -c "No such network: auto1" >/dev/null || fail "inspect missing wording: $out"

log "none: loopback only; host: nothing to connect"
make_ns lonely
ip -n "$(ns lonely)" link set lo down
ctl network connect --netns "$(ns lonely)" none lonely >/dev/null
in_ns lonely ip -o link show lo | grep -q "LOOPBACK,UP" || fail "none: loopback not up"
[ "$(in_ns lonely ip -o link show | wc -l)" = 1 ] || fail "none: more than loopback: $(in_ns lonely ip -o link show)"
out=$(must_fail ctl network connect --netns "$(ns lonely)" host lonely)
grep -q "shares the host's network namespace" <<<"$out" || fail "connect host wording: $out"

log "state survives a restart; config is idempotent"
stop_daemon TERM
start_daemon --config "$T/cfg.json"
[ "$(ctl network ls -o json | python3 -c 'import json,sys; print(sorted(n["Name"] for n in json.load(sys.stdin)))')" = "['auto2', 'bridge', 'cfgnet', 'host', 'none']" ] || fail "networks after restart"
[ "$(in_ns c1 ip -4 -o addr show dev eth0 | awk '{print $4}')" = 10.87.0.10/24 ] || fail "config address after restart"

log "dockerd's --bip and --bridge none"
bridge_id=$(ctl network inspect bridge | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:12])')
ip -n "$H" -o link show "bn-$bridge_id" >/dev/null || fail "default bridge has no interface"
stop_daemon TERM
out=$(ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" --cgroup none --bip 10.0.0.0/24 2>&1) && fail "--bip 10.0.0.0/24 accepted"
grep -q 'invalid --bip "10.0.0.0/24": expected the bridge' <<<"$out" || fail "--bip wording: $out"
out=$(ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" --cgroup none --bridge docker0 2>&1) && fail "--bridge docker0 accepted"
grep -q 'only "none" is accepted' <<<"$out" || fail "--bridge wording: $out"
start_daemon --config "$T/cfg.json" --bridge none
[ "$(ctl network ls -o json | python3 -c 'import json,sys; print(sorted(n["Name"] for n in json.load(sys.stdin)))')" = "['auto2', 'cfgnet', 'host', 'none']" ] || fail "--bridge none kept the default bridge: $(ctl network ls)"
ip -n "$H" -o link show "bn-$bridge_id" >/dev/null 2>&1 && fail "default bridge interface left after --bridge none"
stop_daemon TERM
start_daemon --config "$T/cfg.json" --bip 10.66.0.1/24
subnet=$(ctl network inspect bridge | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]["IPAM"]["Config"][0]; print(c["Subnet"], c["Gateway"])')
[ "$subnet" = "10.66.0.0/24 10.66.0.1" ] || fail "--bip: $subnet"
log "ok"
