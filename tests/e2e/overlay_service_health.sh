#!/usr/bin/env bash
# Health across hosts (issue 13, services across hosts): each backend of a
# service is probed by the host its container lives on, and its state is
# shared through etcd. Three hosts, a 3-member etcd, a service published on
# h1 with one backend on each host (b2@h2, b3@h3). The HTTP server in h3's
# container stops while the container stays (so its endpoint stays in the
# cluster and only a health check can notice): h3's probes find it down,
# h3 says so in etcd, and h1's table leaves it out, so every request from an
# outside client through h1's published port is answered by h1 and h2. The
# server comes back: h3's probes say so, and requests reach it again. How
# long each took is logged, never judged (the deadlines are generous).
# Last, h2 restarts with a config file defining the same service: it gets
# the cluster's VIP (h1's), not the address it picked before joining. A new
# host h4, started for the first time (its state has never seen ovh), with a
# config naming ovh gets the service with that VIP too, and a clear error
# for a service on a network the cluster lacks while it runs on. h1, which
# holds the VIP in etcd, drops web (keeping another service on ovh, so that
# nothing else of the cluster changes): h2 or h4 takes the VIP at once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=3

start_etcd
for n in 1 2 3; do add_cluster_host "$n"; done
# The outside client, on h1's uplink up0.
add_outside_client
start_host_daemon 1 --uplink up0
start_host_daemon 2
start_host_daemon 3
for n in 1 2 3; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
done

hctl 1 network create -d overlay --subnet 10.53.0.0/24 ovh >/dev/null
for n in 2 3; do
  eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h$n/sock' network ls | grep -q ' ovh '" ||
    fail "ovh not on h$n"
done
start_httpd() {  # start_httpd N: the HTTP server in hN's container b
  ip netns exec "${P}-h$1-b" python3 "$ROOT/scripts/httpd.py" --port 80 --name "h$1" \
    >>"$T/httpd-$1.log" 2>&1 &
  HTTPD_PID[$1]=$!
  BG_PIDS+=($!)
}
HTTPD_PID=()
for n in 1 2 3; do
  add_container "$n" b
  hctl "$n" network connect --netns "${P}-h$n-b" ovh "b$n" >/dev/null
  start_httpd "$n"
done
for n in 2 3; do
  eventually 5 bash -c "$(declare -f tunnels); T='$T'; [ \$(tunnels 1 | grep -c ' $(host_ip "$n") ') -ge 1 ]" ||
    fail "h1 never learned h$n's containers"
done

# HTTP checks every 200 ms; two failures take a backend out, two successes
# bring it back.
hctl 1 service create web --network ovh --port 80/tcp --publish 8080:80 \
  --health http --health-interval 200ms --health-timeout 150ms --health-rise 2 \
  --health-fall 2 >/dev/null
hctl 1 service add-backend web b1 >/dev/null
for n in 2 3; do
  out=$(hctl 1 service add-backend web "b$n@h$n") || fail "add-backend b$n@h$n: $out"
done
state_of() {  # state_of BACKEND: its State in h1's `service inspect web`
  hctl 1 service inspect web | python3 -c '
import json, sys
print([b["State"] for b in json.load(sys.stdin)[0]["Backends"] if b["Container"] == sys.argv[1]][0])' "$1"
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }

# The servers may have started after a first probe or two: all healthy first.
for b in b1 b2@h2 b3@h3; do
  eventually 10 is_state "$b" healthy || fail "$b never healthy: $(hctl 1 service inspect web)"
done
counts=$(spread 60)
answered_by "$counts" h1 h2 h3 || fail "60 requests to h1:8080 not spread over h1, h2, h3: $counts"
log "60 requests from the outside client: $counts"

# --- The server in h3's container stops; the container and its endpoint
# stay, so only h3's probes can tell.
kill "${HTTPD_PID[3]}"
wait "${HTTPD_PID[3]}" 2>/dev/null || true  # its SIGTERM status
hctl 1 network inspect ovh | grep -q '"b3"' || fail "b3's endpoint left the cluster: the test would not need health checks"
took=$(elapsed_until 20 is_state b3@h3 unhealthy) ||
  fail "b3@h3 still $(state_of b3@h3) on h1 20 s after its server stopped: $(hctl 1 service inspect web)"
log "b3@h3's server stopped: h1 has it unhealthy after ${took}s (h3 probes it: 2 failures x 200 ms)"
grep -q "service web: backend b3 is now unhealthy" "$T/h3/bpfnetd.log" ||
  fail "h3 did not say it found b3 unhealthy: $(tail -5 "$T/h3/bpfnetd.log")"
hctl 1 service inspect web | grep -q "unhealthy on host h3" ||
  fail "h1's inspect does not say h3 found b3 unhealthy: $(hctl 1 service inspect web)"
counts=$(spread 60)
answered_by "$counts" h1 h2 || fail "with b3's server down, 60 requests not all answered by h1 and h2: $counts"
log "b3 down: 60 requests answered by h1 and h2 alone: $counts"
hctl 1 service inspect web >&2

# --- Back: h3's probes succeed twice, h1 puts it back.
start_httpd 3
took=$(elapsed_until 20 is_state b3@h3 healthy) ||
  fail "b3@h3 still $(state_of b3@h3) on h1 20 s after its server came back: $(hctl 1 service inspect web)"
log "b3@h3's server back: h1 has it healthy after ${took}s"
counts=$(spread 60)
answered_by "$counts" h1 h2 h3 || fail "with b3 back, 60 requests not spread over h1, h2, h3: $counts"
log "b3 back: 60 requests: $counts"

# --- h2's config file defines the same service on ovh. Its VIP is picked
# before the cluster answers (a local pick knows only h2's containers); on
# joining, h2 takes the cluster's VIP of web, h1's.
vip_of() {  # vip_of N: service web's VIP on hN
  hctl "$1" service inspect web | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["VIP"])'
}
vip=$(vip_of 1)
cat >"$T/h2-config.json" <<JSON
{"services": [{"name": "web", "network": "ovh", "ports": ["80/tcp"]}]}
JSON
stop_host_daemon 2
start_host_daemon 2 --config "$T/h2-config.json"
eventually 10 grep -q "joined the cluster as h2" "$T/h2/bpfnetd.log" || fail "h2 did not join again"
eventually 10 bash -c "[ \"\$('$BPFNETCTL' --socket '$T/h2/sock' service inspect web | python3 -c 'import json, sys; print(json.load(sys.stdin)[0][\"VIP\"])')\" = $vip ]" ||
  fail "service web of h2's config file has VIP $(vip_of 2), not the cluster's $vip (h1's)"
log "h2's config-file service web: VIP $(vip_of 2), h1's ($(grep -o 'service web: VIP .*' "$T/h2/bpfnetd.log" || echo "picked so at once"))"

# --- h4 starts for the first time: its state has no ovh when bpfnetd reads
# the config; web waits for the join, then takes the cluster's VIP.
add_cluster_host 4
cat >"$T/h4-config.json" <<JSON
{"services": [{"name": "web", "network": "ovh", "ports": ["80/tcp"]},
              {"name": "api", "network": "nowhere", "ports": ["80/tcp"]}]}
JSON
start_host_daemon 4 --config "$T/h4-config.json"
eventually 10 grep -q "joined the cluster as h4" "$T/h4/bpfnetd.log" || fail "h4 did not join"
eventually 10 bash -c "[ \"\$('$BPFNETCTL' --socket '$T/h4/sock' service inspect web 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)[0][\"VIP\"])')\" = $vip ]" ||
  fail "new host h4's config-file service web: $(hctl 4 service ls 2>&1), not VIP $vip: $(tail -5 "$T/h4/bpfnetd.log")"
log "new host h4's config-file service web on ovh: VIP $(vip_of 4), the cluster's"
eventually 10 grep -q "error: --config: service api: network nowhere not found" "$T/h4/bpfnetd.log" ||
  fail "h4 did not say api's network nowhere is missing: $(tail -5 "$T/h4/bpfnetd.log")"
kill -0 "${HOST_PID[4]}" || fail "h4's bpfnetd stopped"
out=$(hctl 4 service ls) || fail "h4 does not answer: $out"
log "h4: $(grep -o 'error: --config: service api.*' "$T/h4/bpfnetd.log")"

# --- h1 holds web's VIP in etcd; it drops web but keeps another service on
# ovh (so its lb address, and every other record, stays): h2 or h4, which
# balance on that VIP, take it again on the deletion of its record.
vip_holder() {  # vip_holder: the host holding $vip on ovh in etcd ("" if none)
  etcd_do exec env ETCDCTL_API=3 etcdctl --endpoints "${STORE#etcd://}" get --print-value-only \
    "/bpfnet/v1/ipam/$ovh_id/$vip" | python3 -c 'import json, sys
text = sys.stdin.read().strip()
print(json.loads(text)["host"] if text else "")'
}
ovh_id=$(hctl 1 network inspect ovh | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])')
[ "$(vip_holder)" = h1 ] || fail "web's VIP $vip is held by '$(vip_holder)', not h1"
hctl 1 service create api --network ovh --port 81/tcp >/dev/null
# Its remote backends first: their checks' records go, a change of its own.
for n in 2 3; do hctl 1 service rm-backend web "b$n@h$n" >/dev/null; done
checks() {
  etcd_do exec env ETCDCTL_API=3 etcdctl --endpoints "${STORE#etcd://}" get --prefix --keys-only \
    /bpfnet/v1/checks/
}
eventually 10 bash -c "$(declare -f checks etcd_do); ROOT='$ROOT' ETCD_DIR='$ETCD_DIR' STORE='$STORE'; [ -z \"\$(checks)\" ]" ||
  fail "h1's checks of b2@h2 and b3@h3 stay: $(checks)"
hctl 1 service rm web >/dev/null
eventually 10 bash -c "$(declare -f vip_holder etcd_do); ROOT='$ROOT' ETCD_DIR='$ETCD_DIR' STORE='$STORE' ovh_id='$ovh_id' vip='$vip'; h=\$(vip_holder); [ \"\$h\" = h2 ] || [ \"\$h\" = h4 ]" ||
  fail "web's VIP $vip is held by '$(vip_holder)' after h1 dropped web (h2 and h4 still balance on it)"
log "h1 dropped web: its VIP $vip is held by $(vip_holder) now"
log "ok"
