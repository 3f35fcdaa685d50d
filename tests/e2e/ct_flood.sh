#!/usr/bin/env bash
# Conntrack under a flood of new tuples (issue 12, "Conntrack floods"): on
# the XDP uplink path (up0, forced) and the tc one (up1), 10 established TCP
# connections idle through and 10 active ones exchange lines during a flood
# of FLOOD_TUPLES (4,194,304) new UDP tuples at pktgen's full rate into a
# conntrack of CT_MAX entries; none may break. New flows then displace
# unreplied ones (early drop) or are refused (ct-full), never an established
# flow; `bpfnetctl stats` shows the pressure.
source "$(dirname "$0")/lib.sh"
: "${PKTGEN:?PKTGEN must point at the bench/pktgen binary}"
FLOOD_TUPLES=${FLOOD_TUPLES:-4194304}
CT_MAX=${CT_MAX:-65536}

setup_host
for n in web xclient tclient; do make_ns $n; done
UPLINK_MODE=xdp add_uplink up0 10.99.0.1 xclient 10.99.0.2
add_uplink up1 10.98.0.1 tclient 10.98.0.2
# pktgen's frames are XDP frames: a veth takes them where XDP runs (up0) or GRO is on.
ip netns exec "$H" ethtool -K up1 gro on >/dev/null
start_daemon --uplink up0:xdp --uplink up1:tc --ct-max "$CT_MAX"
ctl network create front --subnet 10.90.0.0/24 >/dev/null
ctl network connect front web --netns "$(ns web)" >/dev/null
bg_in_ns web python3 "$E2E_DIR/tcp_conns.py" server 80
ctl port-map add web 8080:80 9000:9/udp >/dev/null
for _ in $(seq 1 50); do in_ns web ss -Hltn "sport = :80" | grep -q . && break; sleep 0.1; done

conntrack_json() { ctl stats -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["conntrack"])'; }

flood_path() {  # flood_path NAME CLIENT_NS HOST_IF HOST_IP
  local name=$1 client=$2 hif=$3 hip=$4 hostmac t0
  hostmac=$(ip -n "$H" link show "$hif" | awk '/link\/ether/ {print $2}')
  rm -f "$T/done" "$T/ready-idle" "$T/ready-active"
  bg_in_ns "$client" bash -c "python3 '$E2E_DIR/tcp_conns.py' hold $hip 8080 10 '$T/done' '$T/ready-idle' >'$T/$name-idle.out'"
  bg_in_ns "$client" bash -c "python3 '$E2E_DIR/tcp_conns.py' hold $hip 8080 10 '$T/done' '$T/ready-active' --active >'$T/$name-active.out'"
  for _ in $(seq 1 100); do [ -f "$T/ready-idle" ] && [ -f "$T/ready-active" ] && break; sleep 0.1; done
  [ -f "$T/ready-idle" ] && [ -f "$T/ready-active" ] || fail "$name: connections not open"
  log "$name: flood of $FLOOD_TUPLES new tuples (conntrack $(conntrack_json))"
  t0=$(date +%s%N)
  "$PKTGEN" --netns "$(ns "$client")" --iface eth0 --dst-mac "$hostmac" --dst-ip "$hip" --dport 9000 \
    --flows "$FLOOD_TUPLES" --flow-field addr-port --sport 0 --count "$FLOOD_TUPLES" --json \
    >"$T/$name-flood.json" || fail "$name: pktgen"
  log "$name: flood sent: $(cat "$T/$name-flood.json") in $((($(date +%s%N) - t0) / 1000000)) ms"
  log "$name: conntrack after the flood: $(conntrack_json); ct-full drops $(drop_count ct-full)"
  touch "$T/done"
  for _ in $(seq 1 100); do [ -s "$T/$name-idle.out" ] && [ -s "$T/$name-active.out" ] && break; sleep 0.1; done
  log "$name: idle: $(cat "$T/$name-idle.out"); active: $(cat "$T/$name-active.out")"
  grep -q "^broken 0 of 10" "$T/$name-idle.out" || fail "$name: idle connections broken by the flood"
  grep -q "^broken 0 of 10" "$T/$name-active.out" || fail "$name: active connections broken by the flood"
}

flood_path xdp xclient up0 10.99.0.1
flood_path tc tclient up1 10.98.0.1
ctl stats >&2
