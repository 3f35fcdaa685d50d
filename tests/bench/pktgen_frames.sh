#!/usr/bin/env bash
# The bytes bench/pktgen puts on the wire are the ones asked for: the counter
# on the far end keeps the first frames (bench/xdpcount --capture) and
# check_frames.py checks MACs, addresses, ports, lengths, flags, the IP and
# UDP/TCP checksums, and the flow of each frame.
source "$(dirname "$0")/lib.sh"
make_pair

check() {  # check FRAMES PROTO SIZE FLOWS FIELD SPORT DPORT [SRC_IP [FIRST_FLOW]]
  local frames=$1 proto=$2 size=$3 flows=$4 field=$5 sport=$6 dport=$7 src=${8:-10.98.0.1} first=${9:-0}
  start_counter --mode native --capture "$frames"
  pktgen_a --count "$frames" --proto "$proto" --size "$size" --flows "$flows" --flow-field "$field" \
    --sport "$sport" --dport "$dport" --src-ip "$src" --first-flow "$first"
  stop_counter
  "$PY" "$TEST_DIR/check_frames.py" --json "$T/counter.json" --frames "$frames" \
    --dst-mac "$MAC_B" --src-mac "$MAC_A" --src-ip "$src" --dst-ip 10.98.0.2 \
    --sport "$sport" --dport "$dport" --size "$size" --proto "$proto" --flows "$flows" \
    --flow-field "$field" --first-flow "$first" \
    || fail "$proto $size B, $flows flows by $field from flow $first: frames not as asked"
  log "$proto $size B, $flows flows by $field from flow $first: ok"
}

check 8 udp 60 3 sport 4000 5000
check 8 udp 200 4 saddr 1234 53 10.98.0.250       # source addresses cross a byte boundary
check 6 tcp 60 2 dport 40000 80
check 5 tcp 74 5 saddr 65535 443                  # SYN with payload, source port 65535
check 4 udp 1000 2 sport 65535 9                  # the flow's source port wraps to 0
check 3 udp 60 1 sport 0 0
# addr-port: ports 65534, 65535, then the next address from port 0 (flows
# 65536, 65537), then back to flow 0.
check 6 udp 60 65538 addr-port 0 9 10.98.0.255 65534
check 5 tcp 60 200000 addr-port 100 80 10.98.0.1 131070   # TCP, third address
