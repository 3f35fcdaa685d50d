#!/usr/bin/env bash
# The datapath outlives the daemon (issue 12, "daemon lifecycle"): twelve
# long TCP streams — container to container, through a published port from
# the uplink, to a service VIP — and a constant UDP stream through a
# published port cross SIGTERM + start, SIGKILL + start, an upgrade to a
# build whose BPF programs and one map's layout differ (bpfnetd_upgrade_test:
# bpfnet_uplinks grows a field), and the way back. No connection breaks; the
# map migration is logged both ways; UDP loss is reported.
source "$(dirname "$0")/lib.sh"
: "${BPFNETD_UPGRADE:?BPFNETD_UPGRADE must point at the bpfnetd_upgrade_test binary}"
STREAMS="$E2E_DIR/streams.py"

setup_host
for n in client s1 c1 r1 r2; do make_ns $n; done
add_uplink up0 10.94.0.1 client 10.94.0.2
start_daemon --uplink up0
ctl network create life --subnet 10.84.0.0/24 >/dev/null
for n in s1 c1 r1 r2; do ctl network connect life $n --netns "$(ns $n)" >/dev/null; done
# s1 10.84.0.2, c1 .3, r1 .4, r2 .5
bg_in_ns s1 python3 "$STREAMS" echo 5001
bg_in_ns s1 python3 "$STREAMS" echo 5002
bg_in_ns s1 python3 "$STREAMS" udp-count 5003 "$T/udp-received"
for n in r1 r2; do bg_in_ns $n python3 "$STREAMS" echo 7000; done
ctl port-map add s1 8080:5002 5353:5003/udp >/dev/null
ctl service create api --network life --vip 10.84.0.100 --port 7000/tcp >/dev/null
for n in r1 r2; do ctl service add-backend api $n >/dev/null; done
probe() {  # probe NS HOST PORT: a TCP connect succeeds within 5 s
  for _ in $(seq 1 50); do
    in_ns "$1" python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)' \
      "$2" "$3" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no TCP answer from $2:$3 in $1"
}
probe c1 10.84.0.2 5001; probe client 10.94.0.1 8080; probe c1 10.84.0.100 7000

STOP="$T/stop"
STREAM_PIDS=()
stream() {  # stream NAME NS HOST PORT
  ip netns exec "$(ns "$2")" python3 "$STREAMS" tcp "$3" "$4" "$STOP" >"$T/stream-$1" 2>&1 &
  STREAM_PIDS+=($!); BG_PIDS+=($!)
}
for i in 1 2 3 4; do
  stream "c2c-$i" c1 10.84.0.2 5001
  stream "published-$i" client 10.94.0.1 8080
  stream "vip-$i" c1 10.84.0.100 7000
done
ip netns exec "$(ns client)" python3 "$STREAMS" udp-send 10.94.0.1 5353 "$STOP" >"$T/udp-sent" &
UDP_PID=$!; BG_PIDS+=($UDP_PID)
sleep 1

log "SIGTERM + start"
stop_daemon TERM; sleep 1; start_daemon --uplink up0; sleep 1
log "SIGKILL + start"
stop_daemon KILL; sleep 1; start_daemon --uplink up0; sleep 1
log "upgrade: programs and bpfnet_uplinks' layout differ"
stop_daemon TERM
BPFNETD="$BPFNETD_UPGRADE" start_daemon --uplink up0
sleep 1
grep -q "pinned map bpfnet_uplinks has another build's layout (value 12 -> 16 bytes): recreated, refilled from the state" \
  "$T/bpfnetd.log" || fail "the upgrade did not log the migration"
[ "$(ctl uplink ls -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mode"])')" = tc ] \
  || fail "the upgraded daemon does not serve"
log "back to this build"
stop_daemon TERM; start_daemon --uplink up0; sleep 1
grep -q "pinned map bpfnet_uplinks has another build's layout (value 16 -> 12 bytes)" "$T/bpfnetd.log" \
  || fail "the way back did not log the migration"
ctl network inspect life | grep -q '"s1"' || fail "state lost"

touch "$STOP"
broken=0
for pid in "${STREAM_PIDS[@]}"; do wait "$pid" || broken=$((broken + 1)); done
for f in "$T"/stream-*; do log "$(basename "$f"): $(cat "$f")"; done
[ "$broken" = 0 ] || fail "$broken of ${#STREAM_PIDS[@]} TCP connections broke"
for f in "$T"/stream-*; do
  [ "$(awk '{print $2}' "$f")" -ge 100 ] || fail "$(basename "$f") carried too little: $(cat "$f")"
done
wait "$UDP_PID"
sleep 0.3
sent=$(cat "$T/udp-sent"); received=$(cat "$T/udp-received")
log "UDP through the published port: $received of $sent datagrams ($(python3 -c "print('%.2f%%' % (100 - 100 * $received / $sent))" ) lost) across 4 restarts"
[ "$received" -gt 0 ] || fail "no UDP datagram arrived"
if grep -F "Kernel error message" "$T/bpfnetd.log" >&2; then fail "restarts logged kernel errors"; fi
