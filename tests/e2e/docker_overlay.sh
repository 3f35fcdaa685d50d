#!/usr/bin/env bash
# Docker containers on a bpfnet overlay network across two Docker hosts
# (issue 15): two "hosts" (namespaces of cluster_lib.sh, each with its own
# bpfnetd joined to a 3-member etcd) each run their own real dockerd (Debian's
# docker.io 20.10, as docker_lib.sh starts it: own data-root, exec-root,
# pidfile, API socket and plugin dir pointing at that host's bpfnetd). The
# overlay is created once (bpfnetctl on h1); on each host
#   docker network create -d bpfnet --ipam-driver bpfnet \
#     --ipam-opt bpfnet.network=ov --subnet 10.60.0.0/24 ovd
# then 5 concurrent `docker run -d --network ovd` per host: all 10 addresses
# distinct (the cluster-wide IPAM), each host's tunnel map holds the other's
# containers, a container on h1 pings and fetches HTTP (TCP) from one on h2
# across the overlay, a SIGKILLed and restarted bpfnetd keeps its Docker
# containers on the overlay, `docker rm -f` frees its address in the cluster
# (h1's Docker takes it with --ip), and a dockerd restart starts its
# containers on the overlay again. Skips (77) only when docker.io cannot be
# installed.
source "$(dirname "$0")/docker_lib.sh"
docker_require
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
LEASE_TTL=5
IMG=$DOCKER_IMAGE
DOCKER_CGROUP="bpfnet-e2e-$P" # --cgroup-parent, shared by both dockerds
declare -A DOCKERD_PIDS=()

# Points docker_lib.sh's functions (and dk) at host N's dockerd.
use_host() { # use_host N
  H="${P}-h$1"
  DK="$T/docker-h$1"
  DOCKER_SOCK="$DK/docker.sock"
  DOCKER_PLUGINS="$DK/run/docker/plugins"
  DOCKERD_PID=${DOCKERD_PIDS[$1]:-}
  export DOCKER_HOST="unix://$DOCKER_SOCK" DOCKER_CONFIG="$DK/cli"
}
docker_dirs() { # docker_dirs N
  use_host "$1"
  mkdir -p "$DK"/{data,exec,run,cg,cli} "$DOCKER_PLUGINS"
  printf '{"deprecated-key-path": "%s"}\n' "$DK/key.json" >"$DK/daemon.json"
}
all_docker_cleanup() {
  local n
  for n in "${!DOCKERD_PIDS[@]}"; do
    use_host "$n"
    docker_cleanup
  done
  return 0
}
dump_logs() {
  local n
  for n in 1 2; do
    [ -f "$T/h$n/bpfnetd.log" ] && { log "--- h$n bpfnetd log ---"; tail -n 20 "$T/h$n/bpfnetd.log" >&2; }
  done
  return 0
}
# dockerds first, while the bpfnetds they call are still up.
trap 'rc=$?; set +e; __rc=$rc; [ $rc = 0 ] || dump_logs; all_docker_cleanup; cluster_cleanup; (exit $rc); cleanup' EXIT

start_etcd
for n in 1 2; do
  add_cluster_host "$n"
  docker_dirs "$n"
  start_host_daemon "$n" --docker-plugin bpfnet --docker-plugin-socket "$DOCKER_PLUGINS/bpfnet.sock"
done
for n in 1 2; do
  eventually 10 grep -q "joined the cluster as h$n" "$T/h$n/bpfnetd.log" || fail "h$n did not join"
  use_host "$n"
  # No docker0: only bpfnet's networks matter here.
  docker_start --bridge none
  DOCKERD_PIDS[$n]=$DOCKERD_PID
  docker_import_busybox
done
use_host 1
log "two hosts, each with bpfnetd and dockerd $(dk version -f '{{.Server.Version}}')"

hctl 1 network create -d overlay --subnet 10.60.0.0/24 ov >/dev/null || fail "overlay create"
eventually 5 bash -c "'$BPFNETCTL' --socket '$T/h2/sock' network ls | grep -q ' ov '" ||
  fail "ov not mirrored on h2"
use_host 1
# Without the subnet, refused naming the fix (Docker would drop the pool
# because the host routes the overlay, and ask again for ever).
out=$(must_fail dk network create -d bpfnet --ipam-driver bpfnet --ipam-opt bpfnet.network=ov ovd)
grep -q "give the overlay's subnet too (--subnet 10.60.0.0/24)" <<<"$out" || fail "no --subnet: $out"
for n in 1 2; do
  use_host "$n"
  dk network create -d bpfnet --ipam-driver bpfnet --ipam-opt bpfnet.network=ov \
    --subnet 10.60.0.0/24 ovd >/dev/null || fail "docker network create ovd on h$n"
  sub=$(dk network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ovd)
  [ "$sub" = 10.60.0.0/24 ] || fail "ovd on h$n: subnet '$sub'"
done

log "refusals: an option naming no overlay, Docker's own IPAM on the overlay"
use_host 2
out=$(must_fail dk network create -d bpfnet -o bpfnet.network=nope --subnet 10.61.0.0/24 bad1)
grep -q "network nope not found" <<<"$out" || fail "-o bpfnet.network=nope: $out"
out=$(must_fail dk network create -d bpfnet -o bpfnet.network=ov --subnet 10.62.0.0/24 bad2)
grep -q "is not the subnet 10.60.0.0/24 of overlay network ov" <<<"$out" || fail "another subnet: $out"

log "5 concurrent docker run on each host"
pids=()
for n in 1 2; do
  use_host "$n"
  for i in 1 2 3 4 5; do
    dk run -d --name "c$n$i" --network ovd "$IMG" busybox httpd -f -p 80 -h /www \
      >"$T/run-$n$i.out" 2>&1 &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do
  wait "$p" || fail "a concurrent docker run failed: $(cat "$T"/run-*.out | grep -iv '^[0-9a-f]*$' | head -3)"
done
declare -A IP=()
for n in 1 2; do
  use_host "$n"
  for i in 1 2 3 4 5; do IP[c$n$i]=$(docker_ip "c$n$i" ovd); done
done
all=$(printf '%s\n' "${IP[@]}")
log "addresses: $(sort -V <<<"$all" | xargs)"
[ "$(sort -u <<<"$all" | grep -c '^10\.60\.0\.')" = 10 ] ||
  fail "10 containers, $(sort -u <<<"$all" | wc -l) distinct addresses: $(sort <<<"$all" | uniq -d)"

# Each host's tunnel map holds the other host's 5 containers at its underlay address.
for n in 1 2; do
  m=$((3 - n))
  for i in 1 2 3 4 5; do
    want="${IP[c$m$i]} $(host_ip "$m")"
    eventually 5 bash -c "$(declare -f tunnels); T='$T'; tunnels $n | grep -q '^$want '" ||
      fail "h$n has no tunnel '$want': $(tunnels "$n")"
  done
done
# bpfnetctl on h2 lists every host's Docker containers on ov.
count=$(hctl 2 network inspect ov -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["Containers"]))')
[ "$count" = 10 ] || fail "h2's inspect of ov shows $count containers"

log "across the overlay: c11 (h1) -> c21 (h2): ping and HTTP"
use_host 1
dk exec c11 ping -c 2 -W 2 "${IP[c21]}" >/dev/null || fail "ping c11 -> c21 (${IP[c21]})"
body=$(dk exec c11 timeout 5 wget -q -O - "http://${IP[c21]}/") || fail "HTTP c11 -> c21"
[ "$body" = "hello from bpfnet-busybox" ] || fail "c11 got '$body' from c21"
use_host 2
body=$(dk exec c22 timeout 5 wget -q -O - "http://${IP[c15]}/") || fail "HTTP c22 -> c15"
[ "$body" = "hello from bpfnet-busybox" ] || fail "c22 got '$body' from c15"

log "h2's bpfnetd killed and restarted (its lease resumed): its Docker containers stay on ov"
stop_host_daemon 2 KILL
start_host_daemon 2 --docker-plugin bpfnet --docker-plugin-socket "$T/docker-h2/run/docker/plugins/bpfnet.sock"
eventually 10 bash -c "[ \$(grep -c 'joined the cluster as h2' '$T/h2/bpfnetd.log') = 2 ]" || fail "h2 did not rejoin"
count=$(hctl 1 network inspect ov -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["Containers"]))')
[ "$count" = 10 ] || fail "after h2's restart h1's inspect of ov shows $count containers"
mine=$(hctl 2 network inspect ov -o json | python3 -c '
import json, sys
print(sum(c["Host"] == "h2" for c in json.load(sys.stdin)[0]["Containers"].values()))')
[ "$mine" = 5 ] || fail "h2 holds $mine of its 5 Docker containers after its restart: $(tail -5 "$T/h2/bpfnetd.log")"
use_host 1
dk exec c11 ping -c 1 -W 2 "${IP[c21]}" >/dev/null || fail "ping c11 -> c21 after h2's restart"
use_host 2

log "docker rm -f on h2 frees the address in the cluster: h1's Docker takes it"
freed=${IP[c23]}
dk rm -f c23 >/dev/null || fail "docker rm -f c23"
eventually 5 bash -c "$(declare -f tunnels); T='$T'; ! tunnels 1 | grep -q '^$freed '" ||
  fail "h1 still tunnels $freed after its container left h2"
use_host 1
dk run -d --name c16 --network ovd --ip "$freed" "$IMG" busybox httpd -f -p 80 -h /www \
  >/dev/null || fail "h1 could not take $freed after docker rm -f on h2"
[ "$(docker_ip c16 ovd)" = "$freed" ] || fail "c16: $(docker_ip c16 ovd), wanted $freed"
use_host 2
body=$(dk exec c21 timeout 5 wget -q -O - "http://$freed/") || fail "HTTP c21 -> c16 ($freed)"
# And an address h2's Docker still holds is refused to h1's.
use_host 1
out=$(must_fail dk run -d --name dup --network ovd --ip "${IP[c24]}" "$IMG" sleep 60)
grep -q "Address already in use: ${IP[c24]} is used by host h2" <<<"$out" || fail "taken --ip: $out"
dk rm -f dup >/dev/null 2>&1 || true

log "dockerd of h2 restarted: its containers start again on ov, reachable from h1"
use_host 2
docker_stop
docker_start --bridge none
DOCKERD_PIDS[2]=$DOCKERD_PID
dk start c21 c22 >/dev/null || fail "docker start c21 c22 after h2's dockerd restart"
IP[c21]=$(docker_ip c21 ovd) IP[c22]=$(docker_ip c22 ovd)
use_host 1
dk exec c11 ping -c 1 -W 2 "${IP[c21]}" >/dev/null ||
  fail "ping c11 -> c21 (${IP[c21]}) after h2's dockerd restart"

log "docker network rm on h1 leaves the overlay (and h2's containers) alone"
dk rm -f c11 c12 c13 c14 c15 c16 >/dev/null || fail "docker rm on h1"
dk network rm ovd >/dev/null || fail "docker network rm ovd on h1"
hctl 1 network inspect ov >/dev/null || fail "ov gone from h1 with its Docker network"
use_host 2
dk exec c21 ping -c 1 -W 2 "${IP[c22]}" >/dev/null || fail "h2's containers after h1's network rm"
dk rm -f c21 c22 c24 c25 >/dev/null || fail "docker rm on h2"
dk network rm ovd >/dev/null || fail "docker network rm ovd on h2"
