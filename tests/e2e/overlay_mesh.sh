#!/usr/bin/env bash
# Services of the cluster (Swarm's routing mesh, issue 13): a service on an
# overlay network made on one host exists on every host, and its published
# port answers on every host, spread over the backends of all hosts. Three
# hosts (each with an uplink up0 and an outside client on it), a 3-member
# etcd. web is made on h1 with --publish 8080:80 and one backend on each
# host; the outside clients of h2 and h3 request their own host's port 8080
# and see all three backends answer; `service ls` and `inspect` on h2 show
# it; h2 cannot make another web. h1 dies: web stays on h2 and h3 (as in
# Swarm), balanced over their backends; h1 restarts and b1 is back. `service
# rm` on h3 removes it everywhere: h1's port 8080 closes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=3

start_etcd
for n in 1 2 3; do
  add_cluster_host "$n"
  add_outside_client "10.9$((5 + n)).0" "$n"
  start_host_daemon "$n" --uplink up0
done
for n in 1 2 3; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
done
client() { [ "$1" = 1 ] && echo "${P}-client" || echo "${P}-client$1"; }
uplink() { echo "10.9$((5 + $1)).0.1"; }

hctl 1 network create -d overlay --subnet 10.54.0.0/24 ovm >/dev/null
for n in 2 3; do
  eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h$n/sock' network ls | grep -q ' ovm '" ||
    fail "ovm not on h$n"
done
for n in 1 2 3; do
  add_container "$n" b
  hctl "$n" network connect --netns "${P}-h$n-b" ovm "b$n" >/dev/null
  ip netns exec "${P}-h$n-b" python3 "$ROOT/scripts/httpd.py" --port 80 --name "h$n" \
    >>"$T/httpd-$n.log" 2>&1 &
  BG_PIDS+=($!)
done
for n in 2 3; do
  eventually 5 bash -c "$(declare -f tunnels); T='$T'; [ \$(tunnels 1 | grep -c ' $(host_ip "$n") ') -ge 1 ]" ||
    fail "h1 never learned h$n's containers"
done

hctl 1 service create web --network ovm --port 80/tcp --publish 8080:80 >/dev/null
hctl 1 service add-backend web b1 >/dev/null
for n in 2 3; do
  out=$(hctl 1 service add-backend web "b$n@h$n") || fail "add-backend b$n@h$n: $out"
done

# On h2 and h3: web with its three backends, in their own names.
backends_on() {  # backends_on N: web's backends on hN, as inspect names them
  hctl "$1" service inspect web 2>/dev/null | python3 -c '
import json, sys
print(" ".join(b["Container"] for b in json.load(sys.stdin)[0]["Backends"]))'
}
for n in 2 3; do
  want="b1@h1 b2@h2 b3@h3"
  want=${want/b$n@h$n/b$n}
  eventually 10 bash -c "[ \"\$($(declare -f backends_on hctl); BPFNETCTL='$BPFNETCTL' T='$T' backends_on $n)\" = '$want' ]" ||
    fail "web on h$n: backends '$(backends_on "$n")', want '$want' (service ls: $(hctl "$n" service ls 2>&1))"
done
ls2=$(hctl 2 service ls)
grep -q "^web " <<<"$ls2" || fail "service ls on h2 does not list web: $ls2"
log "service ls on h2: $(grep '^web ' <<<"$ls2")"
vips=$(for n in 1 2 3; do hctl "$n" service inspect web | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["VIP"])'; done | sort -u)
[ "$(wc -l <<<"$vips")" = 1 ] || fail "web's VIPs differ between hosts: $vips"

# The outside clients of h2 and h3 request their own host's port 8080.
for n in 2 3; do
  eventually 10 bash -c "ip netns exec '$(client "$n")' curl -s --max-time 2 http://$(uplink "$n"):8080/ | grep -q ." ||
    fail "h$n's published port 8080 does not answer: $(hctl "$n" service inspect web)"
  counts=$(spread 60 "$(uplink "$n")" "$(client "$n")")
  answered_by "$counts" h1 h2 h3 || fail "60 requests to h$n:8080 not spread over h1, h2, h3: $counts"
  log "60 requests from h$n's outside client to h$n:8080: $counts"
done

# The name is the cluster's: h2 cannot make another web (it has web already;
# one that had not synced yet is refused by etcd, controller_cluster_tests).
out=$(must_fail hctl 2 service create web --network ovm --port 81/tcp)
grep -q "service with name web already exists" <<<"$out" ||
  fail "a second web on h2: $out"

# h1, which created web, dies (SIGKILL, its lease expires): web stays on h2
# and h3, balanced over b2 and b3; h1 back, b1 is back in it.
state_on_2() {  # state_on_2 BACKEND: its State in h2's inspect of web
  hctl 2 service inspect web | python3 -c '
import json, sys
print([b["State"] for b in json.load(sys.stdin)[0]["Backends"] if b["Container"] == sys.argv[1]][0])' "$1"
}
is_state_on_2() { [ "$(state_on_2 "$1")" = "$2" ]; }
stop_host_daemon 1 KILL
eventually 20 is_state_on_2 b1@h1 unhealthy || fail "b1@h1 still $(state_on_2 b1@h1) on h2 after h1 died"
counts=$(spread 30 "$(uplink 2)" "$(client 2)")
answered_by "$counts" h2 h3 || fail "with h1 dead, 30 requests to h2:8080 not answered by h2 and h3: $counts"
log "h1 (web's creator) dead: web stays, 30 requests to h2:8080: $counts"
start_host_daemon 1 --uplink up0
eventually 20 is_state_on_2 b1@h1 healthy || fail "b1@h1 still $(state_on_2 b1@h1) on h2 after h1 came back"
eventually 10 bash -c "ip netns exec '${P}-client' curl -s --max-time 2 http://10.96.0.1:8080/ | grep -q ." ||
  fail "h1's port 8080 does not answer after its restart: $(hctl 1 service inspect web)"

# service rm on h3: gone everywhere; h1's port 8080 closes.
got=$(ip netns exec "${P}-client" curl -s --max-time 2 http://10.96.0.1:8080/ || true)
[ -n "$got" ] || fail "h1's port 8080 does not answer before service rm"
hctl 3 service rm web >/dev/null
closed_on_h1() {
  ! ip netns exec "${P}-client" curl -s --max-time 1 http://10.96.0.1:8080/ >/dev/null
}
for n in 1 2; do
  eventually 10 bash -c "! '$BPFNETCTL' --socket '$T/h$n/sock' service ls | grep -q '^web '" ||
    fail "web stays on h$n after service rm on h3: $(hctl "$n" service ls)"
done
eventually 10 closed_on_h1 || fail "h1's port 8080 still answers after service rm on h3"
log "service rm on h3: web gone from h1 and h2, h1's port 8080 closed"
log "ok"
