# shellcheck shell=bash
# (1) the raw limit (one and two veth hops) and (6) TCP straight over a veth
# pair: the references the other rows are read against. Sourced by
# scripts/bench.sh (functions of bench/lib.sh).

run_raw_and_veth() {
  log "(1) raw limit and (6) iperf3 over a veth pair"
  make_ns gen; make_ns rx
  veth_between gen veth0 rx veth1
  ip -n "$(ns gen)" addr add 10.210.0.1/24 dev veth0
  ip -n "$(ns rx)" addr add 10.210.0.2/24 dev veth1
  ip -n "$(ns gen)" link set veth0 up
  ip -n "$(ns rx)" link set veth1 up
  local dmac
  dmac=$(mac_of rx veth1)
  measure raw "(1)" "raw limit: pktgen -> veth -> XDP drop" pps \
    pps_runs gen veth0 "$dmac" 10.210.0.2 9 rx:veth1 native
  measure veth_tcp "(6)" "TCP iperf3 over a veth pair (reference)" bps \
    iperf_runs gen rx 10.210.0.2
  # The same with the sender's checksum offload (and so TSO) off, as bpfnet's
  # XDP uplink path needs on a veth client (see (6) below): the sender then
  # segments and checksums in software, a cost of the veth topology.
  in_ns gen ethtool -K veth0 tx off >/dev/null
  measure veth_tcp_txoff "(6)" "TCP iperf3 over a veth pair, sender tx off (reference for the XDP path)" bps \
    iperf_runs gen rx 10.210.0.2
  del_ns gen rx

  measure_raw2 raw2 ""
}

# The same through two veth hops, a namespace between them forwarding at
# XDP (count, bpf_redirect), as the frames of a published port cross the
# uplink and then the container's veth; then with the receivers a container
# has (skb_receiver_rows; GRO on at the receiving end, which XDP frames need
# there without an XDP program, as bpfnetd sets it on a container's eth0).
# HOP tc: the hop is a tc ingress program instead (count, bpf_redirect_peer
# into the far end), with GRO on at the first veth's end so that pktgen's
# frames become skbs there: bpfnet's tc uplink path doing nothing else, the
# limit of any tc path (the far end's native XDP never sees redirect_peer's
# packets, so the first row counts in generic mode, as the bpfnet tc rows do).
# The frames carry the receiving end's MAC and address, for its socket.
measure_raw2() {  # measure_raw2 KEY CASE_SUFFIX [xdp|tc]
  local hop_mode=${3:-xdp}
  make_ns gen; make_ns mid; make_ns rx
  veth_between gen veth0 mid veth1
  veth_between mid veth2 rx veth3
  local l
  for l in gen:veth0 mid:veth1 mid:veth2 rx:veth3; do ip -n "$(ns "${l%%:*}")" link set "${l#*:}" up; done
  ip -n "$(ns gen)" addr add 10.210.1.1/24 dev veth0
  ip -n "$(ns rx)" addr add 10.210.1.2/24 dev veth3
  local hop_args=() rx_mode=native rx_label="XDP drop" case="raw limit, two veth hops: pktgen -> veth -> XDP redirect -> veth"
  if [ "$hop_mode" = tc ]; then
    "$XDPCOUNT" --netns "$(ns mid)" --iface veth1 --set-gro on
    hop_args=(--mode tc)
    rx_mode=generic
    rx_label="generic XDP drop"
    case="raw limit, two veth hops, the skb built at the first: pktgen -> veth -> tc redirect_peer -> veth"
  fi
  "$XDPCOUNT" --netns "$(ns mid)" --iface veth1 "${hop_args[@]}" --action redirect --redirect-to veth2 \
    --quiet --interval 0 --ready-file "$T/hop.ready" >/dev/null 2>"$T/hop.err" &
  local hop=$! dmac
  BG_PIDS+=("$hop")
  wait_ready "$T/hop.ready" "$hop" || { cat "$T/hop.err" >&2; die "forwarding xdpcount did not attach"; }
  dmac=$(mac_of rx veth3)
  measure "$1" "(1)" "$case -> $rx_label$2" pps \
    pps_runs gen veth0 "$dmac" 10.210.1.2 9 rx:veth3 "$rx_mode"
  "$XDPCOUNT" --netns "$(ns rx)" --iface veth3 --set-gro on
  skb_receiver_rows "$1" "(1)" "$case -> receiver$2" rx veth3 9 gen veth0 "$dmac" 10.210.1.2 9
  kill -INT $hop; wait $hop || true
  rm -f "$T/hop.ready"
  del_ns gen mid rx
}
