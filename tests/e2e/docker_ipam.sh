#!/usr/bin/env bash
# Docker's IPAM driver end to end, against the real engine (Debian's docker.io
# 20.10) in the test's own host namespace next to `bpfnetd --docker-plugin
# bpfnet`: `docker network create -d bpfnet --ipam-driver bpfnet`, with and
# without --subnet; the containers' addresses are the ones the bpfnet pool
# handed out (docker inspect = bpfnetctl = the pool in bpfnetd's state), they
# reach each other; restarts of bpfnetd and of dockerd keep pools and
# addresses; `docker network rm` releases the pool; Docker's own bridge
# driver works on a bpfnet pool too. Skips (77) only when docker.io cannot be
# installed.
source "$(dirname "$0")/docker_lib.sh"
docker_require
source "$(dirname "$0")/lib.sh"
docker_setup

PLUGIN_SOCK="$DOCKER_PLUGINS/bpfnet.sock"
IMG=$DOCKER_IMAGE

setup_host
start_bpfnetd() {
  start_daemon --docker-plugin bpfnet --docker-plugin-socket "$PLUGIN_SOCK"
  for _ in $(seq 1 50); do [ -S "$PLUGIN_SOCK" ] && return 0; sleep 0.1; done
  fail "bpfnetd made no plugin socket at $PLUGIN_SOCK"
}
docker_start
start_bpfnetd
docker_import_busybox
log "dockerd $(dk version -f '{{.Server.Version}}') up in $H; image $IMG imported"

dexec() { dk exec "$@" || fail "docker exec $*"; }
# The pools in bpfnetd's state file: "ID ADDRESS..." per pool, sorted.
pools() {
  python3 - "$STATE/state.json" <<'PY'
import json, sys
for pool in json.load(open(sys.argv[1])).get("ipam_pools", []):
    print(pool["id"], *sorted(pool["addresses"]))
PY
}
# The addresses bpfnetctl shows on network NAME, sorted, without the mask.
ctl_addresses() {
  ctl network inspect "$1" -o json | python3 -c '
import json, sys
print(*sorted(c["IPv4Address"].split("/")[0] for c in json.load(sys.stdin)[0]["Containers"].values()))'
}
NETS0=$(ctl network ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

log "docker network create -d bpfnet --ipam-driver bpfnet --subnet 10.220.0.0/24 n1"
dk network create -d bpfnet --ipam-driver bpfnet --subnet 10.220.0.0/24 -o bpfnet.name=ipam-n1 n1 \
  >/dev/null || fail "network create n1"
[ "$(dk network inspect -f '{{.IPAM.Driver}}' n1)" = bpfnet ] || fail "n1's IPAM driver: $(dk network inspect n1)"
[ "$(pools)" = "LocalDefault/10.220.0.0/24 10.220.0.1" ] || fail "pools after network create: $(pools)"
ctl network inspect ipam-n1 -o json | grep '"Gateway": "10.220.0.1"' >/dev/null ||
  fail "bpfnet's n1 gateway: $(ctl network inspect ipam-n1 -o json)"

log "two containers get their addresses from the pool and reach each other"
dk run -d --name ia --network n1 "$IMG" sleep 3600 >/dev/null || fail "docker run ia"
dk run -d --name ib --network n1 "$IMG" sleep 3600 >/dev/null || fail "docker run ib"
A=$(docker_ip ia n1) B=$(docker_ip ib n1)
log "ia=$A ib=$B; pools: $(pools)"
[ "$(pools)" = "LocalDefault/10.220.0.0/24 10.220.0.1 $A $B" ] || fail "pool's addresses: $(pools) (docker: $A $B)"
[ "$(ctl_addresses ipam-n1)" = "$(printf '%s\n' "$A" "$B" | sort | xargs)" ] ||
  fail "bpfnetctl shows $(ctl_addresses ipam-n1), docker $A $B"
dexec ia ip -4 addr show eth0 | grep "inet $A/24" >/dev/null || fail "ia's eth0: $(dk exec ia ip addr)"
dexec ia ping -c 1 -W 2 "$B" >/dev/null
dexec ib ping -c 1 -W 2 "$A" >/dev/null
dexec ia ping -c 1 -W 2 10.220.0.1 >/dev/null

log "a static --ip from the pool; one the pool already gave is refused"
dk run -d --name is --network n1 --ip 10.220.0.77 "$IMG" sleep 3600 >/dev/null || fail "docker run --ip"
[ "$(docker_ip is n1)" = 10.220.0.77 ] || fail "is: $(docker_ip is n1)"
out=$(must_fail dk run -d --name dup --network n1 --ip "$A" "$IMG" sleep 3600)
grep "Address already in use" <<<"$out" >/dev/null || fail "a taken --ip: $out"
dk rm -f dup >/dev/null 2>&1 || true
dk rm -f is >/dev/null || fail "docker rm is"
[ "$(pools)" = "LocalDefault/10.220.0.0/24 10.220.0.1 $A $B" ] || fail "after rm of is: $(pools)"

log "without --subnet: bpfnet picks the pool"
dk network create -d bpfnet --ipam-driver bpfnet -o bpfnet.name=ipam-n2 n2 >/dev/null || fail "network create n2"
S2=$(dk network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' n2)
log "n2: $S2"
[ -n "$S2" ] && [ "$S2" != 10.220.0.0/24 ] || fail "n2's subnet '$S2'"
pools | grep "^LocalDefault/$S2 " >/dev/null || fail "no pool $S2 in $(pools)"
ctl network inspect ipam-n2 -o json | grep "\"Subnet\": \"$S2\"" >/dev/null || fail "bpfnet's n2 is not $S2"
dk run -d --name ic --network n2 "$IMG" sleep 3600 >/dev/null || fail "docker run ic"
C=$(docker_ip ic n2)
[ "$(ctl_addresses ipam-n2)" = "$C" ] || fail "bpfnetctl shows $(ctl_addresses ipam-n2) on n2, docker $C"
pools | grep "^LocalDefault/$S2 .* $C\$" >/dev/null || fail "$C is not in the pool: $(pools)"
dexec ic ping -c 1 -W 2 "${S2%.0/*}.1" >/dev/null   # its gateway

log "Docker's own bridge driver on a bpfnet pool"
dk network create -d bridge --ipam-driver bpfnet --subnet 10.221.0.0/24 n3 >/dev/null || fail "network create -d bridge n3"
dk run -d --name ie --network n3 "$IMG" sleep 3600 >/dev/null || fail "docker run ie"
E=$(docker_ip ie n3)
[ "$(pools | grep '^LocalDefault/10.221.0.0/24')" = "LocalDefault/10.221.0.0/24 10.221.0.1 $E" ] || fail "n3's pool: $(pools) (docker: $E)"
dexec ie ping -c 1 -W 2 10.221.0.1 >/dev/null
dk rm -f ie >/dev/null || fail "docker rm ie"
dk network rm n3 >/dev/null || fail "docker network rm n3"
pools | grep 10.221 >/dev/null && fail "n3's pool left: $(pools)"

log "bpfnetd restart keeps pools and addresses"
before=$(pools)
stop_daemon
start_bpfnetd
[ "$(pools)" = "$before" ] || fail "pools after the restart: $(pools) (were $before)"
dexec ia ping -c 1 -W 2 "$B" >/dev/null
dk run -d --name id --network n1 "$IMG" sleep 3600 >/dev/null || fail "docker run id after the restart"
D=$(docker_ip id n1)
[[ $D != "$A" && $D != "$B" && $D != 10.220.0.1 && $D == 10.220.0.* ]] || fail "id got $D (a=$A b=$B)"
[ "$(ctl_addresses ipam-n1)" = "$(printf '%s\n' "$A" "$B" "$D" | sort | xargs)" ] ||
  fail "bpfnetctl shows $(ctl_addresses ipam-n1), docker $A $B $D"
dexec id ping -c 1 -W 2 "$A" >/dev/null

log "dockerd restart: the pools stay; restarted containers get their addresses from them"
docker_stop
log "pools with dockerd down: $(pools | xargs)"
pools | grep "^LocalDefault/10.220.0.0/24 10.220.0.1" >/dev/null || fail "n1's pool after dockerd stopped: $(pools)"
docker_start
dk start ia ib id >/dev/null || fail "docker start ia ib id after the dockerd restart"
A=$(docker_ip ia n1) B=$(docker_ip ib n1) D=$(docker_ip id n1)
log "ia=$A ib=$B id=$D"
[ "$(pools | grep '^LocalDefault/10.220.0.0/24')" = "LocalDefault/10.220.0.0/24 $(printf '%s\n' 10.220.0.1 "$A" "$B" "$D" | sort | xargs)" ] ||
  fail "n1's pool after the dockerd restart: $(pools) (docker: $A $B $D)"
[ "$(ctl_addresses ipam-n1)" = "$(printf '%s\n' "$A" "$B" "$D" | sort | xargs)" ] ||
  fail "bpfnetctl shows $(ctl_addresses ipam-n1), docker $A $B $D"
dexec ia ping -c 1 -W 2 "$B" >/dev/null
dexec id ping -c 1 -W 2 "$A" >/dev/null

log "docker network rm releases the pools"
dk rm -f ia ib ic id >/dev/null || fail "docker rm"
[ "$(pools | sort)" = "$(printf '%s\n' "LocalDefault/10.220.0.0/24 10.220.0.1" "LocalDefault/$S2 ${S2%.0/*}.1" | sort)" ] ||
  fail "pools after the containers left: $(pools)"
dk network rm n1 n2 >/dev/null || fail "docker network rm"
[ -z "$(pools)" ] || fail "pools left after network rm: $(pools)"
[ "$(ctl network ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$NETS0" ] ||
  fail "bpfnetctl still shows Docker's networks: $(ctl network ls)"
log "the subnet is free again: a plain bpfnet network takes it"
ctl network create --subnet 10.220.0.0/24 again >/dev/null || fail "bpfnetctl network create on the released subnet"
ctl network rm again >/dev/null
docker_stop
log "dockerd log: $(grep -c 'level=error' "$DK/dockerd.log") error lines (the refused --ip makes two):"
grep 'level=error' "$DK/dockerd.log" | sed 's/^time="[^"]*" //' | cut -c1-240 >&2 || true
