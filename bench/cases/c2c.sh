# shellcheck shell=bash
# (5) container -> container on one network: a Linux bridge, then bpfnet.
# Sourced by scripts/bench.sh (functions of bench/lib.sh).

run_bridge_c2c() {
  log "(5) container to container over a Linux bridge"
  make_ns brh; make_ns bra; make_ns brb
  ip -n "$(ns brh)" link add br0 type bridge
  ip -n "$(ns brh)" addr add 10.211.0.1/24 dev br0
  ip -n "$(ns brh)" link set br0 up
  local c ip
  for c in a:10.211.0.2 b:10.211.0.3; do
    ip=${c#*:} c=${c%%:*}
    veth_between "br$c" eth0 brh "vh$c"
    ip -n "$(ns brh)" link set "vh$c" master br0 up
    ip -n "$(ns "br$c")" addr add "$ip/24" dev eth0
    ip -n "$(ns "br$c")" link set eth0 up
    ip -n "$(ns "br$c")" route add default via 10.211.0.1
  done
  measure bridge_tcp "(5)" "container -> container TCP iperf3, Linux bridge" bps \
    iperf_runs bra brb 10.211.0.3
  local dmac
  dmac=$(resolve_mac bra 10.211.0.3)
  # XDP frames out of A's eth0 are delivered to its peer only with GRO on there.
  "$XDPCOUNT" --netns "$(ns brh)" --iface vha --set-gro on
  measure bridge_pps "(5)" "container -> container UDP, Linux bridge" pps \
    pps_runs bra eth0 "$dmac" 10.211.0.3 9 brb:eth0 generic
  del_ns bra brb brh
}

run_bpfnet_c2c() {
  log "(5) container to container on a bpfnet network"
  bpfnet_host
  bpfnet_daemon
  make_ns c1; make_ns c2
  ctl network create bench --subnet 10.212.0.0/24 >/dev/null
  ctl network connect bench c1 --netns "$(ns c1)" >/dev/null
  ctl network connect bench c2 --netns "$(ns c2)" >/dev/null
  local ip2
  ip2=$(in_ns c2 ip -4 -o addr show dev eth0 | awk '{split($4,a,"/"); print a[1]}')
  measure bpfnet_tcp "(5)" "container -> container TCP iperf3, bpfnet" bps \
    iperf_runs c1 c2 "$ip2"
  local dmac hostveth
  dmac=$(resolve_mac c1 "$ip2")
  hostveth=$(peer_ifname c1 eth0 host)
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro on
  measure bpfnet_pps "(5)" "container -> container UDP, bpfnet" pps \
    pps_runs c1 eth0 "$dmac" "$ip2" 9 c2:eth0 generic
  "$XDPCOUNT" --netns "$(ns host)" --iface "$hostveth" --set-gro off
  ctl network disconnect bench c1 >/dev/null || true
  ctl network disconnect bench c2 >/dev/null || true
  stop_bpfnet
  del_ns c1 c2
}
