# shellcheck shell=bash
# Issue 13, cross-host container -> container: bpfnet's overlay next to
# Docker's overlay datapath, two "hosts" each (namespaces joined by an
# underlay veth pair), the same generator and receivers. Sourced by
# scripts/bench_overlay.sh (functions of bench/lib.sh).
#
# bpfnet: hosts oa/ob (underlay 10.213.20.1/.2 on ul0), one etcd member in
# oa on 10.213.20.1:2379, a bpfnetd per host (--store, --underlay ul0), an
# overlay network and one container on each host (ca on oa, cb on ob).
# Docker (as libnetwork's overlay driver builds it): hosts da/db (underlay
# 10.213.21.1/.2), per host an overlay sandbox namespace (dsa/dsb) with a
# bridge br0 (the gateway address) and a VXLAN device created in the host
# namespace (its UDP socket stays there) and moved into the sandbox, learning
# off, proxy/l2miss/l3miss on, static FDB and neighbour entries for the other
# host's container; MTU 1450; containers dca/dcb on br0.

OV_SUBNET=10.70.0.0/24
DOV_A=10.71.0.2
DOV_B=10.71.0.3
OV_MTU=1450

# The cluster's hosts (bpfnetd per host), cleaned by overlay_cleanup.
declare -A OV_PID=()
overlay_cleanup() {
  local n
  for n in "${!OV_PID[@]}"; do kill -KILL "${OV_PID[$n]}" 2>/dev/null; wait "${OV_PID[$n]}" 2>/dev/null; done
  OV_PID=()
  for n in "$T"/o?/bpffs; do mountpoint -q "$n" && umount "$n"; done
  [ -n "${SIM_ETCD_DATA:-}" ] && rm -rf "$SIM_ETCD_DATA"
  return 0
}

underlay_pair() {  # underlay_pair NS_A NS_B NET (NET.1 on A, NET.2 on B, ul0 each)
  make_ns "$1"; make_ns "$2"
  veth_between "$1" ul0 "$2" ul0
  ip -n "$(ns "$1")" addr add "$3.1/24" dev ul0
  ip -n "$(ns "$2")" addr add "$3.2/24" dev ul0
  ip -n "$(ns "$1")" link set ul0 up
  ip -n "$(ns "$2")" link set ul0 up
}

ovctl() { local h=$1; shift; "$BPFNETCTL" --socket "$T/$h/sock" "$@"; }

overlay_host_daemon() {  # overlay_host_daemon HOST (oa|ob)
  local h=$1 i
  mkdir -p "$T/$h/bpffs" "$T/$h/state"
  mount -t bpf bpf "$T/$h/bpffs"
  ip netns exec "$(ns "$h")" taskset -c "$(($(nproc) - 1))" "$BPFNETD" --state-dir "$T/$h/state" \
    --bpffs "$T/$h/bpffs/pins" --socket "$T/$h/sock" --cgroup none \
    --store etcd://10.213.20.1:2379 --host-name "$h" --underlay ul0 >>"$T/$h/bpfnetd.log" 2>&1 &
  OV_PID[$h]=$!
  for i in $(seq 1 100); do
    grep -q "joined the cluster" "$T/$h/bpfnetd.log" 2>/dev/null && return 0
    kill -0 "${OV_PID[$h]}" 2>/dev/null || { tail -20 "$T/$h/bpfnetd.log" >&2; die "bpfnetd of $h exited"; }
    sleep 0.1
  done
  tail -20 "$T/$h/bpfnetd.log" >&2
  die "bpfnetd of $h did not join the cluster"
}

ip_of() { in_ns "$1" ip -4 -o addr show dev eth0 | awk '{split($4,a,"/"); print a[1]}'; }

bpfnet_overlay_up() {
  underlay_pair oa ob 10.213.20
  mkdir -p "$T/etcd-ov"
  ip netns exec "$(ns oa)" etcd --name ov --data-dir "$T/etcd-ov/data" \
    --listen-client-urls http://10.213.20.1:2379 --advertise-client-urls http://10.213.20.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster ov=http://127.0.0.1:2380 --logger zap --log-outputs "$T/etcd-ov/etcd.log" \
    </dev/null >"$T/etcd-ov/etcd.out" 2>&1 &
  BG_PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    in_ns oa env ETCDCTL_API=3 etcdctl --endpoints http://10.213.20.1:2379 --dial-timeout 1s \
      endpoint health >/dev/null 2>&1 && break
    ((i < 100)) || die "etcd did not start: $(tail -3 "$T/etcd-ov/etcd.out")"
    sleep 0.1
  done
  overlay_host_daemon oa
  overlay_host_daemon ob
  ovctl oa network create -d overlay --subnet "$OV_SUBNET" ov >/dev/null
  make_ns ca; make_ns cb
  ovctl oa network connect ov ca --netns "$(ns ca)" >/dev/null
  for i in $(seq 1 50); do ovctl ob network ls | grep -q ' ov ' && break; sleep 0.1; done
  ovctl ob network connect ov cb --netns "$(ns cb)" >/dev/null
  # Until cb is in oa's tunnel map: ca reaches it.
  for i in $(seq 1 50); do in_ns ca ping -c 1 -W 1 -q "$(ip_of cb)" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "bpfnet overlay: ca does not reach cb"
}

# One Docker overlay host: sandbox dsX with br0 and the VXLAN device vxlan0
# (VNI 4097), container dcX on br0.
docker_overlay_host() {  # docker_overlay_host X LOCAL_UNDERLAY CTR_IP
  local x=$1 sb="ds$1" c="dc$1"
  make_ns "$sb"; make_ns "$c"
  ip -n "$(ns "d$x")" link add vxlan0 mtu "$OV_MTU" type vxlan id 4097 dstport 4789 local "$2" \
    nolearning proxy l2miss l3miss
  ip -n "$(ns "d$x")" link set vxlan0 netns "$(ns "$sb")"
  ip -n "$(ns "$sb")" link add br0 mtu "$OV_MTU" type bridge
  ip -n "$(ns "$sb")" addr add 10.71.0.1/24 dev br0
  ip -n "$(ns "$sb")" link set vxlan0 master br0 up
  ip -n "$(ns "$sb")" link set br0 up
  veth_between "$c" eth0 "$sb" "veth$x"
  ip -n "$(ns "$sb")" link set "veth$x" mtu "$OV_MTU" master br0 up
  ip -n "$(ns "$c")" link set eth0 mtu "$OV_MTU" up
  ip -n "$(ns "$c")" addr add "$3/24" dev eth0
}
docker_overlay_peer() {  # docker_overlay_peer X REMOTE_UNDERLAY PEER_IP PEER_MAC
  ip netns exec "$(ns "ds$1")" bridge fdb add "$4" dev vxlan0 dst "$2" self permanent
  ip -n "$(ns "ds$1")" neigh add "$3" lladdr "$4" dev vxlan0 nud permanent
}
docker_overlay_up() {
  underlay_pair da db 10.213.21
  docker_overlay_host a 10.213.21.1 "$DOV_A"
  docker_overlay_host b 10.213.21.2 "$DOV_B"
  docker_overlay_peer a 10.213.21.2 "$DOV_B" "$(mac_of dcb eth0)"
  docker_overlay_peer b 10.213.21.1 "$DOV_A" "$(mac_of dca eth0)"
  in_ns dca ping -c 1 -W 2 -q "$DOV_B" >/dev/null || die "Docker overlay: dca does not reach dcb"
}

# Both datapaths side by side, then in each pass: TCP, then UDP with a tc
# counter and a UDP socket in the receiving container.
run_overlay_datapath() {
  log "(13) cross-host container -> container: bpfnet overlay vs Docker's overlay datapath"
  if ((PASS == 1)); then bpfnet_overlay_up; docker_overlay_up; fi
  local ipb dmac hv
  ipb=$(ip_of cb)
  measure ov_bpfnet_tcp "(13)" "cross-host TCP iperf3, bpfnet overlay" bps iperf_runs ca cb "$ipb"
  measure ov_docker_tcp "(13)" "cross-host TCP iperf3, Docker overlay" bps iperf_runs dca dcb "$DOV_B"
  # XDP frames out of a container's eth0 reach its host-side peer with GRO on.
  dmac=$(resolve_mac ca "$ipb")
  hv=$(peer_ifname ca eth0 oa)
  "$XDPCOUNT" --netns "$(ns oa)" --iface "$hv" --set-gro on
  "$XDPCOUNT" --netns "$(ns dsa)" --iface vetha --set-gro on
  measure ov_bpfnet_tcrx "(13)" "cross-host UDP 64 B, bpfnet overlay, tc counter" pps \
    pps_runs ca eth0 "$dmac" "$ipb" 9 cb:eth0 tc
  measure ov_docker_tcrx "(13)" "cross-host UDP 64 B, Docker overlay, tc counter" pps \
    pps_runs dca eth0 "$(mac_of dcb eth0)" "$DOV_B" 9 dcb:eth0 tc
  measure ov_bpfnet_udprx "(13)" "cross-host UDP 64 B, bpfnet overlay, UDP socket" pps \
    pps_runs ca eth0 "$dmac" "$ipb" 9 cb:9 udp
  measure ov_docker_udprx "(13)" "cross-host UDP 64 B, Docker overlay, UDP socket" pps \
    pps_runs dca eth0 "$(mac_of dcb eth0)" "$DOV_B" 9 dcb:9 udp
  if ((PASS == 1)); then
    bpftool -j map show pinned "$T/oa/bpffs/pins/bpfnet_tunnels" >"$T/tunnels_map.json" 2>/dev/null || true
  fi
}
