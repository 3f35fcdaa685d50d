#!/usr/bin/env bash
# Issue 12, item 2: a service VIP belongs to its network. A container of
# another network gets none of 10 connections to the VIP:port (dropped as
# `isolation`); the service's published port stays reachable from it, as
# any published port is; containers of the service's network reach the VIP.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client r1 same other; do make_ns $n; done
add_uplink up0 10.87.0.1 client 10.87.0.2
start_daemon --uplink up0
ctl network create n1 --subnet 10.86.1.0/24 >/dev/null
ctl network create n2 --subnet 10.86.2.0/24 >/dev/null
ctl network connect n1 r1 --netns "$(ns r1)"        # 10.86.1.2
ctl network connect n1 same --netns "$(ns same)"    # 10.86.1.3
ctl network connect n2 other --netns "$(ns other)"  # 10.86.2.2
bg_in_ns r1 python3 "$ROOT/scripts/httpd.py" --port 80 --name r1
ctl service create web --network n1 --vip 10.86.1.100 --port 80/tcp --publish 8080:80 >/dev/null
ctl service add-backend web r1
wait_http same http://10.86.1.100/
wait_http client http://10.87.0.1:8080/

tries() {  # tries NS URL: how many of 10 requests get an answer
  local ok=0 i
  for i in $(seq 1 10); do
    in_ns "$1" curl -sf -o /dev/null --max-time 1 "$2" && ok=$((ok + 1))
  done
  echo "$ok"
}

log "the service's own network reaches the VIP"
[ "$(tries same http://10.86.1.100/)" = 10 ] || fail "n1 container to its service's VIP"

log "another network's container does not"
before=$(drop_count isolation)
got=$(tries other http://10.86.1.100/)
dropped=$(( $(drop_count isolation) - before ))
log "n2 -> VIP: $got of 10 answered, $dropped packets dropped as isolation"
[ "$got" = 0 ] || fail "$got of 10 connections from n2 reached n1's VIP"
[ "$dropped" -ge 10 ] || fail "isolation drops: $dropped"

log "the published port stays reachable from it, as any published port"
[ "$(tries other http://10.87.0.1:8080/)" = 10 ] || fail "n2 container to the published port"
[ "$(tries client http://10.87.0.1:8080/)" = 10 ] || fail "uplink client to the published port"
