# shellcheck shell=bash
# (2), (4), (6) bpfnet published ports, through the XDP and the tc uplink
# path, in one daemon session per path that also runs the LB rows
# (bench/cases/lb.sh) and, for XDP, (7) with a full conntrack. Sourced by
# scripts/bench.sh (functions of bench/lib.sh).
#
# client pcl ($PUB_CLIENT) --veth--> uplink up0 of the bpfnetd "host"
# ($PUB_HOST) --XDP or tc DNAT--> container pc on network pub
# (10.216.0.0/24). XDP path: the veth up0 stands in for a NIC, bpfnetd
# --uplink up0:xdp (forced: on a veth, auto picks tc) with checksum offload
# off on the client end, so that frames carry complete checksums as a
# wire's do. tc path: bpfnetd --uplink up0, the default (auto: tc on a
# veth), the client untouched; GRO on at up0 so that pktgen's XDP frames
# are accepted there.

# Publishes UDP ports 10000+FROM .. 10000+TO-1 -> 20000+i of container pc in one call.
publish_udp() {  # publish_udp FROM TO
  local i specs=()
  for ((i = $1; i < $2; i++)); do specs+=("$((10000 + i)):$((20000 + i))/udp"); done
  ((${#specs[@]})) || return 0
  ctl port-map add pc "${specs[@]}" >/dev/null
}

# The "new" row (every packet a new tuple: NEW_FLOW_ARGS) and then the
# "established" row (PPS_FLOWS flows, one packet of each sent first) of UDP
# from the client to host port DPORT, counted on RX (bench/lib.sh pps_once).
pub_new_est_rows() {  # pub_new_est_rows KEY_PREFIX KEY_SUFFIX ISSUE CASE DST_MAC DPORT RX COUNTER_MODE
  local pre=$1 suf=$2 issue=$3 case=$4 dmac=$5 dport=$6 rx=$7 cmode=$8
  measure "${pre}new$suf" "$issue" "$case, new" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$dport" "$rx" "$cmode" "${NEW_FLOW_ARGS[@]}"
  prime_flows pcl "$dmac" "$PUB_HOST" "$dport"
  measure "${pre}est$suf" "$issue" "$case, established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$dport" "$rx" "$cmode"
}

bpfnet_pub_session() {  # bpfnet_pub_session xdp|tc
  local mode=$1 label cmode
  if [ "$mode" = xdp ]; then label="XDP"; cmode=native; else label="tc (default on a veth)"; cmode=generic; fi
  log "bpfnet published ports, $label uplink path"
  # The two-hop limit once more, right before this session: on a shared
  # machine whose speed drifts, the session's figures are read against it.
  want raw && measure_raw2 "raw2_$mode" ", before the bpfnet $label rows"
  # The tc path builds the skb at the uplink: its own limit as well.
  if [ "$mode" = tc ] && want raw; then
    measure_raw2 "raw2tc_$mode" ", before the bpfnet $label rows" tc
  fi
  pub_client
  if [ "$mode" = xdp ]; then
    in_ns pcl ethtool -K eth0 tx off >/dev/null
    bpfnet_daemon --uplink up0:xdp
  else
    bpfnet_daemon --uplink up0
    "$XDPCOUNT" --netns "$(ns host)" --iface up0 --set-gro on
  fi
  log "uplink: $(ctl uplink ls | tr -s ' \n' ' ')"
  make_ns pc
  ctl network create pub --subnet 10.216.0.0/24 >/dev/null
  ctl network connect pub pc --netns "$(ns pc)" >/dev/null  # 10.216.0.2
  local dmac
  dmac=$(resolve_mac pcl "$PUB_HOST")

  # (6) TCP: host 15201 -> pc:5201 (unpublished again afterwards).
  ctl port-map add pc 15201:5201/tcp >/dev/null
  log "(6) TCP iperf3 through a bpfnet published port, $label"
  measure "pub_tcp_$mode" "(6)" "TCP iperf3 through a published port, bpfnet $label" bps \
    iperf_runs pcl pc 10.216.0.2 "$PUB_HOST" 15201 5201
  ctl port-map rm pc 15201/tcp >/dev/null

  lb_rows "$mode" "$label" "$dmac" "$cmode"

  # (2) N = 1 and (4) N = 100, 1000, 5000 UDP ports of pc (nothing else is
  # published now); flows to the last added.
  local have=0 n issue
  for n in $SCALING_N; do
    publish_udp "$have" "$n"
    if [ "$have" = 0 ]; then
      # Removing the LB service purged its flows (bpfnetd drops the flows of a
      # removed backend): after its floods that is most of the conntrack. Full
      # again first, or the first new-flow row would insert into free slots
      # where every later one evicts (the 15-20% "drift" of earlier results).
      log_ct
      log "filling the conntrack again: $((2 * CT_FLOWS)) new flows"
      new_flood pcl "$dmac" "$PUB_HOST" $((10000 + n - 1)) $((2 * CT_FLOWS))
      log_ct
    fi
    have=$n
    issue="(4)"; [ "$n" = 1 ] && issue="(2)"
    log "$issue bpfnet published port UDP, $label, N=$n"
    pub_new_est_rows "bpfnet_${mode}_" "_$n" "$issue" "published port UDP, bpfnet $label, N=$n" \
      "$dmac" $((10000 + n - 1)) pc:eth0 "$cmode"
    # The receivers a real container has (the first N only).
    if [ "$have" = "${SCALING_N%% *}" ]; then
      skb_receiver_rows "bpfnet_${mode}_est_$n" "$issue" "published port UDP, bpfnet $label, N=$n, established" \
        pc eth0 $((20000 + n - 1)) pcl eth0 "$dmac" "$PUB_HOST" $((10000 + n - 1))
    fi
  done
  # Control: N=1 once more, after the largest N (the container disconnected,
  # which drops its mappings, and connected again), so that a drift over
  # the session is not read as an effect of N.
  if [ "$have" != 1 ]; then
    log "(4) control: N=1 again after N=$have, $label"
    ctl network disconnect pub pc >/dev/null
    ctl network connect pub pc --netns "$(ns pc)" >/dev/null
    publish_udp 0 1
    pub_new_est_rows "bpfnet_${mode}_" "_1again" "(4)" "published port UDP, bpfnet $label, N=1 again after N=$have" \
      "$dmac" 10000 pc:eth0 "$cmode"
  fi

  # (7) once more, with this daemon's full conntrack and 5000 mappings.
  if [ "$mode" = xdp ] && want ctl; then
    run_bpfnet_control_plane pub _ctfull ", conntrack full (262144 entries)"
  fi
  stop_bpfnet
  del_ns pcl pc lbr1 lbr2 lbr3
}
