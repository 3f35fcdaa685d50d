#!/usr/bin/env bash
# Published ports end to end: clients on an uplink reach containers through
# host:port with their own address kept (TCP, UDP, iperf3); hairpin from the
# container itself, its network and another network; host processes via
# 127.0.0.1 and the host address (socket hooks, no proxy); masquerade to an
# outside server (and not when disabled); ephemeral and range allocation;
# conflicts; rm ends the port's flows, new and established; a container
# disconnected takes its flows along, so an address reused by another
# container never inherits them.
# UPLINK_MODE picks the uplink path: auto (default flags, untouched peers: tc
# on a veth), xdp (forced) or tc (--no-xdp).
source "$(dirname "$0")/lib.sh"

setup_host
setup_cgroup
for n in client outside web c2 c3 c4; do make_ns $n; done
add_uplink up0 10.99.0.1 client 10.99.0.2
add_uplink up1 10.98.0.1 outside 10.98.0.2
start_daemon --uplink "$(uplink_arg up0)" --uplink "$(uplink_arg up1)" $(uplink_flags)

ctl network create front --subnet 10.90.0.0/24 >/dev/null
ctl network create back --subnet 10.91.0.0/24 >/dev/null
ctl network create nomasq --subnet 10.92.0.0/24 -o com.docker.network.bridge.enable_ip_masquerade=false >/dev/null
ctl network connect front web --netns "$(ns web)"      # 10.90.0.2
ctl network connect front c2 --netns "$(ns c2)"        # 10.90.0.3
ctl network connect back c3 --netns "$(ns c3)"         # 10.91.0.2
ctl network connect nomasq c4 --netns "$(ns c4)"       # 10.92.0.2

bg_in_ns web python3 "$ROOT/scripts/httpd.py" --port 80 --name web
bg_in_ns web python3 -c "$UDP_ECHO" 53
bg_in_ns web iperf3 -s -p 5201
out=$(ctl port-map add web 8080:80 5353:53/udp 5201:5201)
log "published: $out"
grep -c "80/tcp -> 0.0.0.0:8080" <<<"$(ctl port-map ls web)" >/dev/null || fail "port-map ls: $(ctl port-map ls web)"
wait_http client http://10.99.0.1:8080/

log "client on the uplink: TCP, source address kept"
[ "$(in_ns client curl -sf --max-time 5 http://10.99.0.1:8080/ | cut -d: -f1)" = "web 10.99.0.2" ] \
  || fail "HTTP through 8080: $(in_ns client curl -s --max-time 5 http://10.99.0.1:8080/)"
log "UDP"
reply=$(in_ns client python3 -c "$UDP_ASK" 10.99.0.1 5353 ping) || fail "no UDP echo"
[[ "$reply" == "ping from 10.99.0.2:"* ]] || fail "UDP echo answered: $reply"
log "iperf3 through the published port"
in_ns client iperf3 -c 10.99.0.1 -p 5201 -t 2 -J >"$T/iperf-pub.json" || fail "iperf3 through 5201"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("published-port iperf3: %.2f Gbit/s" % (r["end"]["sum_received"]["bits_per_second"]/1e9))' "$T/iperf-pub.json" >&2

log "hairpin: itself, same network, other network"
[ "$(in_ns web curl -sf --max-time 5 http://10.99.0.1:8080/ | cut -d: -f1)" = "web 10.90.0.1" ] \
  || fail "hairpin to itself"
[ "$(in_ns c2 curl -sf --max-time 5 http://10.99.0.1:8080/ | cut -d: -f1)" = "web 10.90.0.3" ] \
  || fail "hairpin from the same network"
[ "$(in_ns c3 curl -sf --max-time 5 http://10.99.0.1:8080/ | cut -d: -f1)" = "web 10.91.0.2" ] \
  || fail "hairpin from another network"
[ "$(in_ns c2 curl -sf --max-time 5 http://10.90.0.1:8080/ | cut -d: -f1)" = "web 10.90.0.3" ] \
  || fail "published port via the gateway address"
if in_ns c3 curl -s --max-time 2 http://10.90.0.2:80/ >/dev/null; then fail "other network reached web directly"; fi

log "host-local: 127.0.0.1 and the host address, no proxy"
[ "$(in_host_cgroup curl -sf --max-time 5 http://127.0.0.1:8080/ | cut -d' ' -f1)" = web ] || fail "127.0.0.1:8080 from the host"
[ "$(in_host_cgroup curl -sf --max-time 5 http://10.99.0.1:8080/ | cut -d' ' -f1)" = web ] || fail "host address from the host"
reply=$(in_host_cgroup python3 -c "$UDP_ASK" 127.0.0.1 5353 hi) || fail "UDP to 127.0.0.1:5353"
[[ "$reply" == "hi from "* ]] || fail "host-local UDP answered: $reply"
pgrep -f docker-proxy >/dev/null && fail "a proxy process is running"

log "masquerade"
bg_in_ns outside python3 "$ROOT/scripts/httpd.py" --port 8000 --name outside
wait_http outside http://10.98.0.2:8000/
[ "$(in_ns c2 curl -sf --max-time 5 http://10.98.0.2:8000/ | cut -d: -f1)" = "outside 10.98.0.1" ] \
  || fail "masquerade to outside: $(in_ns c2 curl -s --max-time 5 http://10.98.0.2:8000/)"
in_ns c2 ping -c 1 -W 2 -q 10.98.0.2 >/dev/null || fail "ping outside through masquerade"
bg_in_ns outside bash -c "python3 -c '$UDP_LOG' 9999 >$T/udp-sources.log"
sleep 0.5
in_ns c4 python3 -c 'import socket; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"x",("10.98.0.2",9999))'
in_ns c2 python3 -c 'import socket; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"x",("10.98.0.2",9999))'
sleep 0.5
grep -qx 10.92.0.2 "$T/udp-sources.log" || fail "enable_ip_masquerade=false still masqueraded: $(cat "$T/udp-sources.log")"
grep -qx 10.98.0.1 "$T/udp-sources.log" || fail "masqueraded UDP not seen from the uplink address"

log "ephemeral and range allocation"
read -r lo hi < <(in_ns host cat /proc/sys/net/ipv4/ip_local_port_range)
eph=$(ctl port-map add web 80 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bindings"][0]["host_port"])')
[ "$eph" -ge "$lo" ] && [ "$eph" -le "$hi" ] || fail "ephemeral port $eph outside $lo-$hi"
[ "$(in_ns client curl -sf --max-time 5 "http://10.99.0.1:$eph/" | cut -d' ' -f1)" = web ] || fail "ephemeral port $eph"
ctl port-map add web 8100:80 >/dev/null
ranged=$(ctl port-map add web 8100-8110:80 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bindings"][0]["host_port"])')
[ "$ranged" = 8101 ] || fail "range pick gave $ranged, wanted 8101"

log "conflicts"
out=$(must_fail ctl port-map add web 8080:80)
grep -c "Bind for 0.0.0.0:8080 failed: port is already allocated" <<<"$out" >/dev/null || fail "conflict wording: $out"
bg_in_ns host python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",7777)); s.listen(); time.sleep(600)'
for _ in $(seq 1 50); do in_ns host ss -Hltn "sport = :7777" | grep -c . >/dev/null && break; sleep 0.1; done
out=$(must_fail ctl port-map add web 7777:80)
grep -c "address already in use" <<<"$out" >/dev/null || fail "listening-port wording: $out"

# A UDP flow of the client's, one fixed 5-tuple, to web through 5353.
UDP_FLOW='import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1); s.bind(("0.0.0.0",40053))
s.sendto(b"again",(sys.argv[1],int(sys.argv[2])))
try: print(s.recvfrom(65535)[0].decode())
except socket.timeout: print("(no answer)")'

log "rm: new flows stop, and the port's established flows end with it"
[[ "$(in_ns client python3 -c "$UDP_FLOW" 10.99.0.1 5353)" == "again from 10.99.0.2:40053" ]] \
  || fail "UDP flow from port 40053"
ctl port-map rm web 8080
ctl port-map rm web 5353/udp
if in_ns client curl -s --max-time 2 http://10.99.0.1:8080/ >/dev/null; then fail "new flow after rm"; fi
[ "$(in_ns client python3 -c "$UDP_FLOW" 10.99.0.1 5353)" = "(no answer)" ] \
  || fail "an established UDP flow went on after its port was removed"

ctl port-map add web 5353:53/udp >/dev/null
[[ "$(in_ns client python3 -c "$UDP_FLOW" 10.99.0.1 5353)" == "again from 10.99.0.2:40053" ]] \
  || fail "UDP flow from port 40053 before disconnect"

log "disconnect drops the container's mappings and flows"
ctl network disconnect front web
[ -z "$(ctl port-map ls -o json | python3 -c 'import json,sys; print([c for c in json.load(sys.stdin) if c["container"]=="web" and c["bindings"]])' | tr -d '[]')" ] \
  || fail "mappings left after disconnect"
ctl stats >&2

log "an address reused by another container inherits none of web's flows"
make_ns ghost
ctl network connect front ghost --netns "$(ns ghost)" --ip 10.90.0.2 >/dev/null
bg_in_ns ghost python3 -c "$UDP_LOG" 53
sleep 0.3
in_ns client python3 -c "$UDP_FLOW" 10.99.0.1 5353 >/dev/null
sleep 0.3
[ ! -s "$T/bg-ghost.log" ] || fail "web's old flow reached the container now at 10.90.0.2: $(cat "$T/bg-ghost.log")"
