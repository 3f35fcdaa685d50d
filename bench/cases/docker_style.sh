# shellcheck shell=bash
# (3) Docker-style published ports (a bridge and the iptables rules Docker
# v28 writes, with iptables-nft and iptables-legacy) and (6) TCP through one.
# Sourced by scripts/bench.sh (functions of bench/lib.sh).

# The ruleset Docker v28 writes for one bridge network BR (SUBNET) with one
# container CIP publishing host ports 10000.. to container ports 20000..
# (PROTO, default udp; all host addresses), as iptables-restore input.
docker_rules() {  # docker_rules N BR SUBNET CIP [PROTO]
  local n=$1 br=$2 subnet=$3 cip=$4 proto=${5:-udp} i
  cat <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d $cip/32 ! -i $br -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-INTERNAL - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
EOF
  for ((i = 0; i < n; i++)); do
    echo "-A DOCKER -d $cip/32 ! -i $br -o $br -p $proto -m $proto --dport $((20000 + i)) -j ACCEPT"
  done
  cat <<EOF
-A DOCKER ! -i $br -o $br -j DROP
-A DOCKER-BRIDGE -o $br -j DOCKER
-A DOCKER-CT -o $br -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-INTERNAL
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i $br -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s $subnet ! -o $br -j MASQUERADE
-A DOCKER -i $br -j RETURN
EOF
  for ((i = 0; i < n; i++)); do
    echo "-A DOCKER ! -i $br -p $proto -m $proto --dport $((10000 + i)) -j DNAT --to-destination $cip:$((20000 + i))"
  done
  echo "COMMIT"
}

# client (10.213.0.2) --uplink veth--> host (10.213.0.1; bridge dbr0
# 10.214.0.1/24; ip_forward on; the rules above for N PROTO ports) -->
# container 10.214.0.2. Fresh namespaces per case, so no conntrack entry or
# table of one case leaks into the next.
docker_topology() {  # docker_topology BACKEND N PROTO
  local backend=$1 n=$2 proto=$3
  make_ns dcl; make_ns dh; make_ns dc
  veth_between dcl eth0 dh uplink
  ip -n "$(ns dcl)" addr add 10.213.0.2/24 dev eth0
  ip -n "$(ns dcl)" link set eth0 up
  ip -n "$(ns dh)" addr add 10.213.0.1/24 dev uplink
  ip -n "$(ns dh)" link set uplink up
  ip -n "$(ns dh)" link add dbr0 type bridge
  ip -n "$(ns dh)" addr add 10.214.0.1/24 dev dbr0
  ip -n "$(ns dh)" link set dbr0 up
  veth_between dc eth0 dh vethc
  ip -n "$(ns dh)" link set vethc master dbr0 up
  ip -n "$(ns dc)" addr add 10.214.0.2/24 dev eth0
  ip -n "$(ns dc)" link set eth0 up
  ip -n "$(ns dc)" route add default via 10.214.0.1
  in_ns dh sysctl -qw net.ipv4.ip_forward=1
  docker_rules "$n" dbr0 10.214.0.0/24 10.214.0.2 "$proto" >"$T/rules"
  in_ns dh "iptables-${backend}-restore" <"$T/rules" || die "iptables-${backend}-restore refused the rules"
  # The host must know the container's MAC before the flood (as after any reply).
  in_ns dh ping -c 1 -W 2 -q 10.214.0.2 >/dev/null || die "host cannot reach the container"
}

# Traffic goes to the last published port, the worst case of a linear chain.
# One-way UDP stays in conntrack state NEW, so every packet walks the filter
# DOCKER chain ("new" rows); after the container has answered each flow once
# the flows are ESTABLISHED and DOCKER-CT accepts them first ("established"
# rows).
docker_style_case() {  # docker_style_case BACKEND N
  local backend=$1 n=$2 hport=$((10000 + $2 - 1)) cport=$((20000 + $2 - 1))
  local what="published port UDP, Docker-style, iptables-$backend, N=$n"
  docker_topology "$backend" "$n" udp
  local dmac
  dmac=$(resolve_mac dcl 10.213.0.1)
  "$XDPCOUNT" --netns "$(ns dh)" --iface uplink --set-gro on
  measure "docker_${backend}_$n" "(3)" "$what, new" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic
  # One packet of every flow (conntrack entries), then one answer from the
  # container to each: from now on the flows are ESTABLISHED.
  prime_flows dcl "$dmac" 10.213.0.1 "$hport"
  answer_flows dc 10.214.0.2 "$cport" 10.213.0.2
  measure "docker_est_${backend}_$n" "(3)" "$what, established" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic
  # The receivers a real container has (the first N only).
  if [ "$n" = "${SCALING_N%% *}" ]; then
    skb_receiver_rows "docker_est_${backend}_$n" "(3)" "$what, established" \
      dc eth0 "$cport" dcl eth0 "$dmac" 10.213.0.1 "$hport"
  fi
  # The flood bpfnet's "new" rows get: every packet a tuple conntrack does not
  # hold (nf_conntrack_max entries; one-way UDP flows are not assured, so a
  # full table evicts them early). The table is filled for PPS_SECS first.
  new_flood dcl "$dmac" 10.213.0.1 "$hport" "${PPS_SECS}s"
  log "nf_conntrack after the fill: $(in_ns dh cat /proc/sys/net/netfilter/nf_conntrack_count) of $(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo '?')"
  measure "docker_nt_${backend}_$n" "(3)" "$what, new tuples" pps \
    pps_runs dcl eth0 "$dmac" 10.213.0.1 "$hport" dc:eth0 generic "${NEW_FLOW_ARGS[@]}"
  del_ns dcl dh dc
}

# (6) TCP through one published port (host 10000 -> container 20000).
docker_style_tcp() {  # docker_style_tcp BACKEND
  local backend=$1
  docker_topology "$backend" 1 tcp
  measure "pub_tcp_docker_$backend" "(6)" "TCP iperf3 through a published port, Docker-style, iptables-$backend" bps \
    iperf_runs dcl dc 10.214.0.2 10.213.0.1 10000 20000
  del_ns dcl dh dc
}

run_docker_style() {
  local backend n
  for backend in nft legacy; do
    for n in $SCALING_N; do
      log "(3) Docker-style published port, iptables-$backend, N=$n"
      docker_style_case "$backend" "$n"
    done
    log "(6) TCP through a Docker-style published port, iptables-$backend"
    docker_style_tcp "$backend"
  done
}
