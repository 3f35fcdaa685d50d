# shellcheck shell=bash
# engine: Docker itself, a container on a bpfnet network vs Docker's bridge
# driver. Sourced by scripts/bench.sh (functions of bench/lib.sh).
#
# The real engine (Debian docker.io 20.10) in the bpfnetd "host" namespace
# H, run by tests/e2e/docker_lib.sh as tests/e2e/docker.sh runs it (a mount
# namespace of its own with a private /run, its cgroups under a parent of
# the run's own; all removed by the EXIT trap), next to `bpfnetd
# --docker-plugin bpfnet --uplink up0` with its socket hooks on a cgroup of
# the run's own. One image (busybox-static, imported), two containers that
# publish the same container ports: eb on a `docker network create -d
# bpfnet` network, ed on Docker's default bridge (iptables DNAT in H,
# docker-proxy for host-local connections). Their namespaces get names of
# the run's (`ip netns attach`), so that the pps and iperf3 helpers reach
# them as any other.
fail() { die "$@"; }  # docker_lib.sh's name for it
# shellcheck source=SCRIPTDIR/../tests/e2e/docker_lib.sh
source "$ROOT/tests/e2e/docker_lib.sh"
ENGINE_SUBNET=10.218.0.0/24
ENGINE_UDP_BPFNET=19009 ENGINE_TCP_BPFNET=15201  # host ports of eb (-> 9/udp, 5201/tcp)
ENGINE_UDP_BRIDGE=19010 ENGINE_TCP_BRIDGE=15202  # host ports of ed

# A container of the busybox image running `sleep`, its network namespace
# named $(ns NAME); prints its address on NETWORK.
engine_container() {  # engine_container NAME NETWORK [DOCKER RUN ARGS...]
  local name=$1 net=$2 pid
  shift 2
  dk run -d --name "$name" --network "$net" "$@" "$DOCKER_IMAGE" sleep 1000000 >/dev/null ||
    die "docker run $name"
  pid=$(dk inspect -f '{{.State.Pid}}' "$name")
  ip netns attach "$(ns "$name")" "$pid"
  in_ns "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # no ND/MLD frames in the counts
  docker_ip "$name" "$net"
}

run_engine() {
  if ! docker_tools_present; then
    log "engine: SKIPPED: Debian's docker.io (dockerd, containerd, runc) and busybox-static are not" \
      "installed (scripts/setup.sh installs them)"
    return 0
  fi
  log "engine: Docker $("$DOCKERD_BIN" --version | awk '{print $3}' | tr -d ,): a container on a bpfnet network vs Docker's bridge driver"
  docker_setup  # (the EXIT trap now stops dockerd first)
  pub_client
  in_ns pcl ethtool -K eth0 tx off >/dev/null  # bpfnet's XDP uplink path (see bpfnet_pub_session)
  bench_cgroup
  # dockerd first, as in tests/e2e/docker.sh (and on a host where Docker starts at boot).
  docker_start --userland-proxy=true
  bpfnet_daemon --uplink up0:xdp --docker-plugin bpfnet --docker-plugin-socket "$DOCKER_PLUGINS/bpfnet.sock"
  local i
  for i in $(seq 1 50); do [ -S "$DOCKER_PLUGINS/bpfnet.sock" ] && break; sleep 0.1; done
  [ -S "$DOCKER_PLUGINS/bpfnet.sock" ] || die "bpfnetd made no plugin socket"
  docker_import_busybox
  dk network create -d bpfnet --subnet "$ENGINE_SUBNET" -o bpfnet.name=engine engine >/dev/null ||
    die "docker network create -d bpfnet"
  local ipb ipd dmac
  ipb=$(engine_container eb engine -p "$ENGINE_UDP_BPFNET:9/udp" -p "$ENGINE_TCP_BPFNET:5201/tcp")
  ipd=$(engine_container ed bridge -p "$ENGINE_UDP_BRIDGE:9/udp" -p "$ENGINE_TCP_BRIDGE:5201/tcp")
  log "engine: eb $ipb (bpfnet), ed $ipd (bridge); dockerd $(dk version -f '{{.Server.Version}}')"
  # Host-local connections to the bridge container's port go to docker-proxy
  # (Docker's nat OUTPUT rule skips 127.0.0.0/8); bpfnet's port has none.
  pgrep -f "docker-proxy .*-host-port $ENGINE_TCP_BRIDGE " >/dev/null || die "no docker-proxy for $ENGINE_TCP_BRIDGE"
  ! pgrep -f "docker-proxy .*-host-port $ENGINE_TCP_BPFNET " >/dev/null || die "a docker-proxy for bpfnet's port"

  log "engine: TCP iperf3 through the published ports, from the client and from the host"
  measure engine_tcp_bpfnet engine "TCP iperf3 through a published port, Docker engine, bpfnet network" bps \
    iperf_runs pcl eb "$ipb" "$PUB_HOST" "$ENGINE_TCP_BPFNET" 5201
  measure engine_tcp_bridge engine "TCP iperf3 through a published port, Docker engine, bridge driver" bps \
    iperf_runs pcl ed "$ipd" "$PUB_HOST" "$ENGINE_TCP_BRIDGE" 5201
  IPERF_CLIENT_CGROUP=$CGROUP measure engine_local_bpfnet engine \
    "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bpfnet network (socket hooks)" bps \
    iperf_runs host eb "$ipb" 127.0.0.1 "$ENGINE_TCP_BPFNET" 5201
  IPERF_CLIENT_CGROUP=$CGROUP measure engine_local_bridge engine \
    "TCP iperf3 from the host to 127.0.0.1:port, Docker engine, bridge driver (docker-proxy)" bps \
    iperf_runs host ed "$ipd" 127.0.0.1 "$ENGINE_TCP_BRIDGE" 5201

  # UDP: established (each flow sent one packet and answered once), then new
  # tuples after filling the conntrack (bpfnet's: 2 x its flows; H's
  # nf_conntrack: a flood of PPS_SECS), as in the (2) and (3) rows.
  dmac=$(resolve_mac pcl "$PUB_HOST")
  log "engine: UDP pps through the published ports"
  prime_flows pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET"
  answer_flows eb "$ipb" 9 "$PUB_CLIENT"
  prime_flows pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE"
  answer_flows ed "$ipd" 9 "$PUB_CLIENT"
  measure engine_est_bpfnet engine "published port UDP, Docker engine, bpfnet network (XDP uplink), established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" eb:eth0 native
  measure engine_est_bridge engine "published port UDP, Docker engine, bridge driver, established" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" ed:eth0 generic
  new_flood pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" $((2 * CT_FLOWS))
  log_ct
  measure engine_new_bpfnet engine "published port UDP, Docker engine, bpfnet network (XDP uplink), new tuples" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BPFNET" eb:eth0 native "${NEW_FLOW_ARGS[@]}"
  new_flood pcl "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" "${PPS_SECS}s"
  log "nf_conntrack in H after the fill: $(in_ns host cat /proc/sys/net/netfilter/nf_conntrack_count)"
  measure engine_new_bridge engine "published port UDP, Docker engine, bridge driver, new tuples" pps \
    pps_runs pcl eth0 "$dmac" "$PUB_HOST" "$ENGINE_UDP_BRIDGE" ed:eth0 generic "${NEW_FLOW_ARGS[@]}"

  del_ns eb ed
  dk rm -f eb ed >/dev/null || die "docker rm"
  dk network rm engine >/dev/null || die "docker network rm"
  docker_stop
  (docker_cleanup)  # its cgroups (in a subshell: it turns errexit off)
  stop_bpfnet
  drop_cgroup
  del_ns pcl
}
