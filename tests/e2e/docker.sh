#!/usr/bin/env bash
# The Docker network driver end to end, against the real engine (Debian's
# docker.io 20.10) running in the test's own host namespace next to
# `bpfnetd --docker-plugin bpfnet`: `docker network create -d bpfnet`,
# containers reaching each other by IP, isolation between networks, `-p`
# reachable from a client on the uplink with the client's address kept (seen in
# `busybox httpd -v`'s log), `docker restart`, bpfnetd and dockerd restarts,
# `docker network rm` refused while in use, nothing left after teardown.
# The image is a busybox rootfs imported locally (no registry). Skips (77) only
# when docker.io cannot be installed.
source "$(dirname "$0")/docker_lib.sh"
docker_require
source "$(dirname "$0")/lib.sh"
docker_setup

PLUGIN_SOCK="$DOCKER_PLUGINS/bpfnet.sock"
IMG=$DOCKER_IMAGE
HTTPD=(busybox httpd -f -v -p 80 -h /www)

setup_host
make_ns client
add_uplink up0 10.99.0.1 client 10.99.0.2
start_bpfnetd() {
  start_daemon --docker-plugin bpfnet --docker-plugin-socket "$PLUGIN_SOCK" --uplink "$(uplink_arg up0)" $(uplink_flags)
  for _ in $(seq 1 50); do [ -S "$PLUGIN_SOCK" ] && return 0; sleep 0.1; done
  fail "bpfnetd made no plugin socket at $PLUGIN_SOCK"
}
# dockerd first, as on a host where Docker starts at boot: it enables forwarding
# and so sets the iptables FORWARD policy to DROP, which bpfnet must live with.
# (Docker looks the driver up only at `network create`.)
docker_start
[ "$(ip netns exec "$H" iptables -S FORWARD | head -n 1)" = "-P FORWARD DROP" ] ||
  log "note: dockerd left the FORWARD policy at $(ip netns exec "$H" iptables -S FORWARD | head -n 1)"
start_bpfnetd
docker_import_busybox
log "dockerd $(dk version -f '{{.Server.Version}}') up in $H; image $IMG imported"

# (No `producer | grep -q` below: with pipefail, the producer's SIGPIPE fails the check.)
# Runs a command in a container; fails the test if it fails.
dexec() { dk exec "$@" || fail "docker exec $*"; }
# busybox-static 1.35's `wget -T` segfaults: time it out with `timeout` instead.
# Fails when a container reaches IP (HTTP or ping).
cannot_reach() {  # cannot_reach CONTAINER IP
  if dk exec "$1" timeout 1 wget -q -O /dev/null "http://$2/" 2>/dev/null; then fail "$1 reached $2 over HTTP"; fi
  if dk exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; then fail "$1 pinged $2"; fi
}
page() { dk exec "$1" timeout 5 wget -q -O - "http://$2/" 2>&1; }
# The client's view of a published port and the server's log of it.
client_gets() {  # client_gets CONTAINER URL
  local body
  body=$(in_ns client curl -sf --max-time 5 "$2") || fail "client could not fetch $2"
  [ "$body" = "hello from bpfnet-busybox" ] || fail "client got '$body' from $2"
  sleep 0.2   # httpd -v logs after answering
  dk logs "$1" 2>&1 | grep "10\.99\.0\.2\]*:[0-9]*: response:200" >/dev/null ||
    fail "$1's log does not show the client's address 10.99.0.2: $(dk logs "$1" 2>&1 | tail -n 3)"
}
# No Docker-driver leftovers in the host namespace.
# bpfnet's links, but for the interface of its own default network `bridge`
# (it stays, as docker0 does).
bpfnet_links() {
  local keep
  keep="bn-$(ctl network inspect bridge | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:12])')"
  ip -n "$H" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(bnv|bnc|bnp|bn-)' | grep -vx "$keep" || true
}

nets() { ctl network ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
NETS0=$(nets)   # the built-in ones

log "harness check: Docker's own bridge driver with -p (iptables DNAT in $H)"
dk run -d --name base -p 8081:80 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run on the default bridge"
docker_wait_http client http://10.99.0.1:8081/
client_gets base http://10.99.0.1:8081/
dk rm -f base >/dev/null

log "docker network create -d bpfnet"
# n1 named for bpfnetctl by the driver option bpfnet.name; n2 by its Docker
# ID (the driver never learns Docker's name), with an MTU and its own gateway.
dk network create -d bpfnet --subnet 10.210.0.0/24 -o bpfnet.name=dk-n1 n1 >/dev/null ||
  fail "network create n1"
dk network create -d bpfnet --subnet 10.211.0.0/24 --gateway 10.211.0.254 \
  -o com.docker.network.driver.mtu=1400 n2 >/dev/null || fail "network create n2"
N2=$(dk network inspect -f '{{.Id}}' n2)
ctl network ls >&2
ctl network inspect dk-n1 -o json >"$T/n1.json" 2>&1 || fail "bpfnetctl network inspect dk-n1: $(cat "$T/n1.json")"
ctl network inspect "${N2:0:12}" -o json >"$T/n2.json" 2>&1 || fail "bpfnetctl network inspect ${N2:0:12}: $(cat "$T/n2.json")"
grep 10.210.0.0/24 "$T/n1.json" >/dev/null || fail "dk-n1 is not 10.210.0.0/24: $(cat "$T/n1.json")"
grep 10.211.0.254 "$T/n2.json" >/dev/null || fail "n2's gateway is not 10.211.0.254: $(cat "$T/n2.json")"

log "two containers on n1 reach each other by IP; one on n2 reaches neither"
dk run -d --name ca --network n1 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run a"
dk run -d --name cb --network n1 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run b"
dk run -d --name cc --network n2 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run c"
A=$(docker_ip ca n1) B=$(docker_ip cb n1) C=$(docker_ip cc n2)
log "a=$A b=$B c=$C"
[[ $A == 10.210.0.* && $B == 10.210.0.* && $C == 10.211.0.* ]] || fail "addresses a=$A b=$B c=$C"
dexec ca ip -4 addr show eth0 | grep "inet $A/24" >/dev/null || fail "a's eth0: $(dk exec ca ip addr)"
dk exec ca ip route | grep "default via 10.210.0.1" >/dev/null || fail "a's default route: $(dk exec ca ip route)"
dk exec cc ip route | grep "default via 10.211.0.254" >/dev/null || fail "c's default route: $(dk exec cc ip route)"
[ "$(dk exec cc cat /sys/class/net/eth0/mtu)" = 1400 ] || fail "c's MTU: $(dk exec cc ip link show eth0)"
[ "$(dk exec ca cat /sys/class/net/eth0/mtu)" = 1500 ] || fail "a's MTU: $(dk exec ca ip link show eth0)"
[ -z "$(bpfnet_links | grep '^bnc')" ] || fail "container ends left in $H after Join: $(bpfnet_links)"
[ "$(bpfnet_links | grep -c '^bnv')" = 3 ] || fail "want 3 host-side veths: $(bpfnet_links)"
ip -n "$H" link show docker_gwbridge >/dev/null 2>&1 && fail "Docker fell back to docker_gwbridge (Join had no Gateway?)"
dexec ca ping -c 1 -W 2 "$B" >/dev/null
dexec cb ping -c 1 -W 2 "$A" >/dev/null
[ "$(page ca "$B")" = "hello from bpfnet-busybox" ] || fail "a -> b over HTTP: $(page ca "$B")"
[ "$(page cb "$A")" = "hello from bpfnet-busybox" ] || fail "b -> a over HTTP: $(page cb "$A")"
dk logs cb 2>&1 | grep "$A\]*:[0-9]*: response:200" >/dev/null || fail "b's log does not show a's address $A"
dexec ca ping -c 1 -W 2 10.210.0.1 >/dev/null   # the gateway
dexec cc ping -c 1 -W 2 10.211.0.254 >/dev/null   # c is up, only isolated
cannot_reach cc "$A"
cannot_reach cc "$B"
cannot_reach ca "$C"

log "outbound: masqueraded to the uplink's address"
bg_in_ns client python3 "$ROOT/scripts/httpd.py" --port 8000 --name outside
wait_http client http://10.99.0.2:8000/
out=$(page ca 10.99.0.2:8000)
[ "${out%%:*}" = "outside 10.99.0.1" ] || fail "a -> outside: '$out' (want the uplink address 10.99.0.1)"

log "-p 8080:80 from a client on the uplink, its address kept"
dk run -d --name web --network n1 --restart always -p 8080:80 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run -p"
docker_wait_http client http://10.99.0.1:8080/
client_gets web http://10.99.0.1:8080/
ctl port-map ls >&2
ctl port-map ls | grep "8080" >/dev/null || fail "bpfnetctl port-map ls does not show 8080"
for pid in $(ip netns pids "$H"); do
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-proxy ] && fail "a docker-proxy runs for a bpfnet port: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
done
WEB=$(docker_ip web n1)
[ "$(page ca "$WEB")" = "hello from bpfnet-busybox" ] || fail "a -> web by IP"

log "a second -p 8080:80 is refused and rolled back; -p 80 gets an ephemeral port"
links=$(bpfnet_links | sort)
out=$(must_fail dk run -d --name dup --network n1 -p 8080:80 "$IMG" "${HTTPD[@]}")
grep "Bind for 0.0.0.0:8080 failed: port is already allocated" <<<"$out" >/dev/null || fail "conflict: $out"
[ "$(bpfnet_links | sort)" = "$links" ] || fail "the refused run left links: $(bpfnet_links)"
dk rm -f dup >/dev/null
client_gets web http://10.99.0.1:8080/
dk run -d --name eph --network n1 -p 80 "$IMG" "${HTTPD[@]}" >/dev/null || fail "docker run -p 80"
eph=$(ctl port-map ls -o json | python3 -c '
import json, sys
print(" ".join(str(b["host_port"]) for c in json.load(sys.stdin) for b in c["bindings"] if b["host_port"] != 8080))')
read -r lo hi < <(in_ns host cat /proc/sys/net/ipv4/ip_local_port_range)
if ! [[ $eph =~ ^[0-9]+$ ]] || [ "$eph" -lt "$lo" ] || [ "$eph" -gt "$hi" ]; then
  fail "ephemeral port '$eph' (want one in $lo-$hi)"
fi
log "ephemeral port $eph"
docker_wait_http client "http://10.99.0.1:$eph/"
client_gets eph "http://10.99.0.1:$eph/"
dk rm -f eph >/dev/null

log "docker network rm refused while in use"
out=$(must_fail dk network rm n1)
log "refused: $out"
grep -q "active endpoints" <<<"$out" || fail "network rm n1: $out"
dk network inspect n1 >/dev/null || fail "n1 gone after a refused rm"

log "docker restart web (a new endpoint)"
ep() { dk inspect -f '{{(index .NetworkSettings.Networks "n1").EndpointID}}' "$1"; }
ep0=$(ep web)
dk restart -t 2 web >/dev/null || fail "docker restart web"
[ "$(ep web)" != "$ep0" ] || fail "docker restart kept endpoint $ep0"
docker_wait_http client http://10.99.0.1:8080/
client_gets web http://10.99.0.1:8080/
WEB=$(docker_ip web n1)
[ "$(page ca "$WEB")" = "hello from bpfnet-busybox" ] || fail "a -> web after restart"

log "bpfnetd restart with the containers running"
stop_daemon
start_bpfnetd
client_gets web http://10.99.0.1:8080/
[ "$(page ca "$B")" = "hello from bpfnet-busybox" ] || fail "a -> b after a bpfnetd restart"
cannot_reach cc "$A"

log "dockerd stop/start: networks come from bpfnetd's state, web comes back (--restart always)"
docker_stop
[ -z "$(bpfnet_links | grep -E '^(bnv|bnc)')" ] || fail "endpoint links left after dockerd stopped its containers: $(bpfnet_links)"
ctl network ls -o json | grep 10.210.0.0/24 >/dev/null || fail "n1 gone from bpfnetd when dockerd stopped"
stop_daemon
start_bpfnetd
docker_start
docker_wait_http client http://10.99.0.1:8080/
client_gets web http://10.99.0.1:8080/
dk start ca cb cc >/dev/null || fail "docker start a b c after the dockerd restart"
A=$(docker_ip ca n1) B=$(docker_ip cb n1) C=$(docker_ip cc n2)
[ "$(page ca "$B")" = "hello from bpfnet-busybox" ] || fail "a -> b after the dockerd restart"
cannot_reach cc "$A"

log "teardown: containers, then networks; nothing left"
dk rm -f ca cb cc web >/dev/null || fail "docker rm"
dk network rm n1 n2 >/dev/null || fail "docker network rm"
left=$(bpfnet_links)
[ -z "$left" ] || fail "links left in $H: $left"
[ "$(nets)" = "$NETS0" ] || fail "bpfnetctl network ls still shows Docker's networks: $(ctl network ls)"
[ "$(ctl port-map ls -o json | python3 -c 'import json,sys; print(sum(len(c["bindings"]) for c in json.load(sys.stdin)))')" = 0 ] ||
  fail "port mappings left: $(ctl port-map ls)"
in_ns client curl -s --max-time 2 http://10.99.0.1:8080/ >/dev/null && fail "8080 still answers after teardown"
docker_stop
pids=$(ip netns pids "$H" | grep -vx "$DAEMON_PID" || true)
[ -z "$pids" ] || fail "processes left in $H after dockerd stopped: $(ps -o pid=,args= -p "${pids//$'\n'/,}")"
for d in $(docker_cgroup_dirs); do
  [ -z "$(find "$d" -name cgroup.procs -exec cat {} +)" ] || fail "processes left in $d"
done
grep -q " $DK/" /proc/self/mounts && fail "mounts left under $DK: $(grep " $DK/" /proc/self/mounts)"
log "dockerd log: $(grep -c 'level=error' "$DK/dockerd.log") error lines"
