#!/usr/bin/env bash
# Uplink hooks (issue 11): with default flags, a published port answers an
# untouched veth peer (checksum offload and GSO on, as every veth starts):
# TCP (curl, iperf3) and UDP. bpfnetd picks tc for a veth and says why in
# `uplink ls`; `--uplink NAME:xdp` forces native XDP, and going back to auto
# detaches it; a bad mode is refused before anything is touched.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client web; do make_ns $n; done
UPLINK_MODE=auto add_uplink up0 10.97.0.1 client 10.97.0.2
# The peer as a user has it: nothing turned off.
in_ns client ethtool -k eth0 | grep -q '^tx-checksumming: on' || fail "client tx checksumming is not on"
in_ns client ethtool -k eth0 | grep -q '^generic-segmentation-offload: on' || fail "client GSO is not on"

xdp_attached() { ip -n "$H" -d link show up0 | grep -q 'prog/xdp'; }

start_daemon --uplink up0
ctl network create front --subnet 10.96.0.0/24 >/dev/null
ctl network connect front web --netns "$(ns web)"      # 10.96.0.2
bg_in_ns web python3 "$ROOT/scripts/httpd.py" --port 80 --name web
bg_in_ns web python3 -c "$UDP_ECHO" 53
bg_in_ns web iperf3 -s -p 5201
ctl port-map add web 8080:80 5353:53/udp 5201:5201 >/dev/null

log "uplink ls: a veth gets tc, and the reason"
out=$(ctl uplink ls)
log "$out"
grep -Eq '^up0 +tc +veth +10\.97\.0\.1 +veth: partial checksums from the peer$' <<<"$out" \
  || fail "uplink ls: $out"
[ "$(ctl uplink ls -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mode"])')" = tc ] \
  || fail "uplink ls -o json"
xdp_attached && fail "XDP attached to a veth uplink in auto mode"

check_traffic() {  # the published ports, from the untouched peer
  wait_http client http://10.97.0.1:8080/
  [ "$(in_ns client curl -sf --max-time 5 http://10.97.0.1:8080/ | cut -d: -f1)" = "web 10.97.0.2" ] \
    || fail "TCP through 8080 ($1)"
  reply=$(in_ns client python3 -c "$UDP_ASK" 10.97.0.1 5353 ping) || fail "no UDP echo ($1)"
  [[ "$reply" == "ping from 10.97.0.2:"* ]] || fail "UDP echo answered: $reply ($1)"
  in_ns client iperf3 -c 10.97.0.1 -p 5201 -t 1 -J >"$T/iperf.json" || fail "iperf3 through 5201 ($1)"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); b=r["end"]["sum_received"]["bytes"]; print("iperf3 %s: %.2f Gbit/s" % (sys.argv[2], r["end"]["sum_received"]["bits_per_second"]/1e9)); sys.exit(0 if b > 1e6 else 1)' \
    "$T/iperf.json" "$1" >&2 || fail "iperf3 moved almost nothing ($1)"
}
log "default flags, untouched peer: TCP, UDP, iperf3"
check_traffic auto

log "forced XDP: attached, and uplink ls says who forced it"
stop_daemon
start_daemon --uplink up0:xdp
xdp_attached || fail "--uplink up0:xdp attached no XDP program"
grep -Eq '^up0 +xdp +veth .*set by up0:xdp$' <<<"$(ctl uplink ls)" || fail "uplink ls: $(ctl uplink ls)"

log "back to auto: XDP detached, traffic flows again"
stop_daemon
start_daemon --uplink up0
xdp_attached && fail "XDP still attached after going back to auto"
check_traffic "auto after xdp"

log "--no-xdp and a bad mode"
stop_daemon
start_daemon --uplink up0 --no-xdp
grep -Eq '^up0 +tc .*set by --no-xdp$' <<<"$(ctl uplink ls)" || fail "uplink ls: $(ctl uplink ls)"
stop_daemon
before=$(snapshot)
err=$(ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" \
  --cgroup none --uplink up0:fast 2>&1) && fail "bpfnetd accepted --uplink up0:fast"
grep -q 'invalid uplink "up0:fast": expected NAME\[:auto|xdp|tc\]' <<<"$err" || fail "error: $err"
[ "$before" = "$(snapshot)" ] || fail "a refused start changed something"
