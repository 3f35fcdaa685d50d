#!/usr/bin/env bash
# bench/pktgen -> veth pair -> bench/xdpcount: a run of N frames out of one
# end is delivered exactly N times to the counter on the other end, with an
# XDP program there (native mode) or with GRO on there (generic mode); the
# generator offers exactly --count; the counter counts bytes too.
source "$(dirname "$0")/lib.sh"
make_pair

expect_delivered() {  # expect_delivered N BYTES WHAT
  local got bytes
  got=$(json_get "$T/counter.json" packets)
  bytes=$(json_get "$T/counter.json" bytes)
  [ "$got" -eq "$1" ] || fail "$3: delivered $got, expected $1"
  [ "$bytes" -eq "$2" ] || fail "$3: counted $bytes bytes, expected $2"
  log "$3: $got delivered"
}
expect_offered() {
  local sent
  sent=$(json_get "$T/gen.json" packets)
  [ "$sent" -eq "$1" ] || fail "pktgen offered $sent, expected $1"
}

log "native XDP counter on the far end"
start_counter --mode native
pktgen_a --count 100000 --flows 8
expect_offered 100000
stop_counter
expect_delivered 100000 $((100000 * 60)) "UDP 60 B, 8 flows, native"

start_counter --mode native
pktgen_a --count 50000 --proto tcp --size 128 --flows 3 --flow-field saddr
expect_offered 50000
stop_counter
expect_delivered 50000 $((50000 * 128)) "TCP SYN 128 B, 3 source addresses, native"

start_counter --mode native
pktgen_a --count 30000 --size 1514 --flows 1000 --flow-field dport
expect_offered 30000
stop_counter
expect_delivered 30000 $((30000 * 1514)) "UDP 1514 B, 1000 destination ports, native"

log "XDP_TX out of the test-run's ingress device instead of bpf_redirect"
start_counter --mode native
pktgen_a --count 20000 --xdp-tx
expect_offered 20000
stop_counter
expect_delivered 20000 $((20000 * 60)) "XDP_TX"

log "many small calls add up to the count"
start_counter --mode native
pktgen_a --count 2500 --chunk 100 --batch 16
expect_offered 2500
stop_counter
expect_delivered 2500 $((2500 * 60)) "--chunk 100 --batch 16"

log "duration mode: whatever was offered arrives"
start_counter --mode native
pktgen_a --duration 0.2
stop_counter
sent=$(json_get "$T/gen.json" packets)
[ "$sent" -gt 0 ] || fail "duration run offered nothing"
expect_delivered "$sent" $((sent * 60)) "0.2 s run"

log "no XDP program on the far end, GRO on, counter in generic mode"
"$XDPCOUNT" --netns "$(ns b)" --iface vb --set-gro on
start_counter --mode generic
pktgen_a --count 100000 --flows 64 --size 100
expect_offered 100000
stop_counter
expect_delivered 100000 $((100000 * 100)) "UDP 100 B, GRO on, generic"

if [ "$(nproc)" -ge 2 ]; then
  log "two sending threads: the count is split exactly"
  start_counter --mode native
  pktgen_a --count 100001 --threads 2
  expect_offered 100001
  stop_counter
  got=$(json_get "$T/counter.json" packets)
  # Two CPUs feeding one veth queue may overflow its ring: no exactness here.
  [ "$got" -gt 0 ] && [ "$got" -le 100001 ] || fail "2 threads: delivered $got of 100001"
  log "2 threads: $got of 100001 delivered"
fi

log "a forwarding hop: xdpcount --action redirect in b passes every frame on to c"
ip netns add "${P}-c"
ip netns exec "${P}-c" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip link add vb2 netns "$(ns b)" type veth peer vc netns "$(ns c)"
ip -n "$(ns b)" link set vb2 up
ip -n "$(ns c)" link set vc up
# 40000 frames through a hop in b (xdpcount HOP_ARGS, redirecting to vb2)
# must all be counted there and at vc (xdpcount FAR_MODE).
hop_delivers() {  # hop_delivers NAME FAR_MODE HOP_ARGS...
  local name=$1 far_mode=$2
  shift 2
  "$XDPCOUNT" --netns "$(ns b)" --iface vb "$@" --json --quiet --interval 0 --action redirect \
    --redirect-to vb2 --ready-file "$T/$name.ready" >"$T/$name.json" 2>"$T/$name.err" &
  HOP=$!
  BG_PIDS+=("$HOP")
  for _ in $(seq 1 100); do [ -f "$T/$name.ready" ] && break; sleep 0.05; done
  [ -f "$T/$name.ready" ] || { cat "$T/$name.err" >&2; fail "$name: the hop did not attach"; }
  "$XDPCOUNT" --netns "$(ns c)" --iface vc --mode "$far_mode" --json --quiet --interval 0 \
    --ready-file "$T/$name.far.ready" >"$T/$name.far.json" 2>"$T/$name.far.err" &
  FAR=$!
  BG_PIDS+=("$FAR")
  for _ in $(seq 1 100); do [ -f "$T/$name.far.ready" ] && break; sleep 0.05; done
  [ -f "$T/$name.far.ready" ] || { cat "$T/$name.far.err" >&2; fail "$name: far counter did not attach"; }
  pktgen_a --count 40000 --flows 4
  expect_offered 40000
  sleep 0.2
  kill -INT "$HOP" "$FAR"
  wait "$HOP" || fail "$name: the hop failed"
  wait "$FAR" || fail "$name: far counter failed"
  [ "$(json_get "$T/$name.json" packets)" -eq 40000 ] || fail "$name: hop counted $(json_get "$T/$name.json" packets)"
  [ "$(json_get "$T/$name.far.json" packets)" -eq 40000 ] ||
    fail "$name: far end got $(json_get "$T/$name.far.json" packets)"
}
hop_delivers xdphop native
log "forwarding hop: 40000 counted and passed on, 40000 at the far end"
if "$XDPCOUNT" --netns "$(ns b)" --iface vb --action redirect --duration 0.1 >/dev/null 2>&1; then
  fail "xdpcount accepted --action redirect without --redirect-to"
fi

log "a tc hop: xdpcount --mode tc --action redirect hands every skb to vb2's peer (bpf_redirect_peer)"
"$XDPCOUNT" --netns "$(ns b)" --iface vb --set-gro on  # pktgen's frames become skbs at vb
# redirect_peer skips vc's native XDP: the far counter runs in generic mode.
hop_delivers tchop generic --mode tc
log "tc hop: 40000 counted and handed on, 40000 at the far end"

log "refused inputs"
for bad in "--size 59" "--flows 0" "--proto icmp" "--flow-field ttl" "--chunk 0" \
    "--flows 65537" "--flows 4 --first-flow 4"; do
  # shellcheck disable=SC2086
  if "$PKTGEN" --netns "$(ns a)" --iface va --dst-mac "$MAC_B" --dst-ip 10.98.0.2 --count 1 $bad \
      >/dev/null 2>&1; then
    fail "pktgen accepted $bad"
  fi
done
if "$PKTGEN" --netns "$(ns a)" --iface nosuchif --dst-mac "$MAC_B" --dst-ip 10.98.0.2 --count 1 >/dev/null 2>&1; then
  fail "pktgen accepted a missing interface"
fi
# The idle veth it attaches to while sending is gone afterwards.
if ip -n "$(ns a)" -o link show | grep -q pgi; then fail "pktgen left its idle veth behind"; fi
