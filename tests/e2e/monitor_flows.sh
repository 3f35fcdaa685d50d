#!/usr/bin/env bash
# Issue 14: `bpfnetctl monitor --type flow` and the drops the datapath
# answers with ICMP. A real TCP connection (curl) from an outside client
# through a published port is a flow start with the client's real address,
# the DNAT to the container and its name, then, once closed and past the
# closing timeout, a flow end that the daemon's GC reports with both
# directions' counters and its age. A container's DF datagram over the
# uplink's MTU, answered with ICMP fragmentation needed, is a frag-needed
# drop event with the datagram's own headers. A flow whose published port
# is removed ends at once (purged). UPLINK_MODE picks the uplink path.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client web; do make_ns $n; done
add_uplink up0 10.96.0.1 client 10.96.0.2
ip -n "$H" link set up0 mtu 1400
ip -n "$(ns client)" link set eth0 mtu 1400
# shellcheck disable=SC2046
start_daemon --uplink "$(uplink_arg up0)" $(uplink_flags)
# 1500 bytes, over the uplink's 1400 (a network takes the uplinks' MTU unless told).
ctl network create fnet --subnet 10.95.0.0/24 -o com.docker.network.driver.mtu=1500 >/dev/null
ctl network connect fnet web --netns "$(ns web)" >/dev/null # 10.95.0.2
ctl port-map add web 8080:80 >/dev/null
bg_in_ns web python3 -m http.server 80 --bind 0.0.0.0
for _ in $(seq 1 50); do in_ns web ss -Hltn "sport = :80" | grep -q . && break; sleep 0.1; done

start_monitor flows --type flow -o json
start_monitor flowtext --type flow --container web
start_monitor drops --type drop -o json

# The flow event of the client's connection (its local port), by phase.
flow_event() {  # flow_event PHASE PORT
  jq -c --arg p "$1" --arg src "10.96.0.2:$2" \
    'select(.type == "flow" and .flow.phase == $p and .flow.src == $src)' "$T/flows.out" |
    head -1
}

# The same, waited for: TRIES polls 0.1 s apart (empty if it never came).
wait_flow_event() {  # wait_flow_event PHASE PORT TRIES
  local event="" i
  for i in $(seq 1 "$3"); do
    event=$(flow_event "$1" "$2")
    [ -n "$event" ] && break
    sleep 0.1
  done
  echo "$event"
}

log "curl from the client to the published port"
out=$(in_ns client curl -sS -m 5 -o /dev/null -w '%{local_port} %{http_code}' \
  http://10.96.0.1:8080/) || fail "curl failed: $out"
read -r port code <<<"$out"
[ "$code" = 200 ] || fail "curl: HTTP $code"
log "client port $port"

start=$(wait_flow_event start "$port" 50)
[ -n "$start" ] || fail "no flow start for 10.96.0.2:$port: $(cat "$T/flows.out")"
log "start: $start"
jq -e '.container == "web" and .network == "fnet" and .flow.proto == "tcp"
       and .flow.dst == "10.96.0.1:8080" and .flow.xlat_dst == "10.95.0.2:80"
       and .flow.nat == ["dnat"] and .flow.packets_orig == 1
       and (.summary | startswith("FLOW start tcp 10.96.0.2:"))' <<<"$start" >/dev/null ||
  fail "flow start: $start"

# Closed by both sides: gone past the closing timeout (10 s), a GC grace
# (1 s) and a GC pass (1 s here): the daemon's GC reports its end.
log "waiting for the closed connection's end (GC)"
end=$(wait_flow_event end "$port" 300)
[ -n "$end" ] || fail "no flow end for 10.96.0.2:$port: $(cat "$T/flows.out")"
log "end: $end"
jq -e '.container == "web" and .flow.end == "gc" and .flow.xlat_dst == "10.95.0.2:80"
       and .flow.packets_orig >= 5 and .flow.bytes_orig > 0
       and .flow.packets_reply >= 4 and .flow.bytes_reply > 0
       and .flow.age_ns >= 10000000000' <<<"$end" >/dev/null || fail "flow end: $end"
text=$(cat "$T/flowtext.out")
grep -q "FLOW start tcp 10.96.0.2:$port -> 10.96.0.1:8080 (dnat 10.95.0.2:80) web \[fnet\]" \
  <<<"$text" || fail "text start line: $text"
grep -Eq "FLOW end tcp 10.96.0.2:$port -> 10.96.0.1:8080 \(dnat 10.95.0.2:80\) web \[fnet\]: [0-9]+ pkts/.* ->, [0-9]+ pkts/.* <-, [0-9.]+ s, gc" \
  <<<"$text" || fail "text end line: $text"

log "a DF datagram over the uplink's MTU from web: a frag-needed drop event"
in_ns web python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
s.bind(("0.0.0.0", 33500))
s.sendto(b"y" * 1472, ("10.96.0.2", 9))' || fail "web could not send its datagram"
drop=""
for _ in $(seq 1 50); do
  drop=$(jq -c 'select(.reason == "frag-needed")' "$T/drops.out" | head -1)
  [ -n "$drop" ] && break
  sleep 0.1
done
[ -n "$drop" ] || fail "no frag-needed drop event: $(cat "$T/drops.out")"
log "drop: $drop"
jq -e '.at.container == "web" and .orig_len == 1514
       and (.summary | startswith("IP 10.95.0.2.33500 > 10.96.0.2.9: udp"))' <<<"$drop" \
  >/dev/null || fail "frag-needed event: $drop"

log "a UDP flow through a published port that is then removed: a flow end (purged)"
ctl port-map add web 8081:81/udp >/dev/null
in_ns client python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 33600))
s.sendto(b"hello", ("10.96.0.1", 8081))' || fail "client could not send its datagram"
udp_start=$(wait_flow_event start "33600" 50)
[ -n "$udp_start" ] || fail "no flow start for 10.96.0.2:33600: $(cat "$T/flows.out")"
ctl port-map rm web 8081/udp >/dev/null
# An unreplied UDP flow lives 30 s: GC would not end it within this wait, only
# the purge of the removed port's flows does.
purged=$(wait_flow_event end "33600" 50)
[ -n "$purged" ] || fail "no flow end for the removed port's flow: $(cat "$T/flows.out")"
log "purged: $purged"
jq -e '.container == "web" and .flow.end == "purged" and .flow.proto == "udp"
       and .flow.xlat_dst == "10.95.0.2:81" and .flow.packets_orig == 1' <<<"$purged" \
  >/dev/null || fail "purged flow end: $purged"

for m in flows flowtext drops; do
  eval "kill -INT \$${m}_pid; wait \$${m}_pid" || fail "monitor $m exited $? after SIGINT"
done
grep -Eq '^  flow end: [1-9]' "$T/flowtext.out" || fail "summary: $(cat "$T/flowtext.out")"
log "ok"
