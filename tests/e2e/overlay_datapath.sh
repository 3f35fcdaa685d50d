#!/usr/bin/env bash
# The overlay datapath between two "hosts", without the control plane: each
# host is a namespace with the real BPF programs and a collect-metadata VXLAN
# device, programmed by overlay_host (Datapath + MapContents) with one overlay
# network (VNI 4097, 10.50.0.0/24), one local container and the other host's
# container as a remote endpoint. The underlay is a bridge in a third
# namespace, which also holds a third address (192.168.77.3) that forges
# VXLAN frames.
#
#   container ca 10.50.0.2 -- host a 192.168.77.1 ==\
#                                                    br0 (sw, 192.168.77.3)
#   container cb 10.50.0.3 -- host b 192.168.77.2 ==/
#
# Checks: ARP for the remote peer answered locally with its MAC, ping, TCP
# (iperf3), UDP (socat), a 1422-byte DF ping at endpoint MTU 1450 (underlay
# 1500 - 50), and a forged VXLAN frame (inner source = ca, outer source =
# 192.168.77.3) dropped and counted as tunnel-spoof while the same frame
# from host a is delivered. All of it twice: with VXLAN in BPF (the default:
# UDP and ICMP encapsulated by the container's program and sent out of the
# underlay, decapsulated at the underlay's ingress, not through the VXLAN
# device; TCP through the device) and through the VXLAN device only
# (overlay_host --encap device).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${OVERLAY_HOST:?OVERLAY_HOST must point at the overlay_host binary}"

MAC_CA=02:42:0a:32:00:02
MAC_CB=02:42:0a:32:00:03
mkdir -p "$T/bpffs"
mount -t bpf bpf "$T/bpffs"

make_ns sw
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" addr add 192.168.77.3/24 dev br0
ip -n "$(ns sw)" link set br0 up

# host NAME UNDERLAY_IP CONTAINER_IP CONTAINER_MAC
host() {
  local h=$1 uip=$2 cip=$3 cmac=$4
  make_ns "$h"
  make_ns "c$h"
  ip -n "$(ns sw)" link add "p$h" type veth peer name "u$h" netns "$(ns "$h")"
  ip -n "$(ns sw)" link set "p$h" master br0 up
  ip -n "$(ns "$h")" addr add "$uip/24" dev "u$h"
  ip -n "$(ns "$h")" link set "u$h" up
  # The container's veth at the overlay's endpoint MTU, as the daemon sets it.
  ip -n "$(ns "$h")" link add "v$h" mtu 1450 type veth peer name eth0 netns "$(ns "c$h")" mtu 1450
  ip -n "$(ns "c$h")" link set eth0 address "$cmac" up
  ip -n "$(ns "c$h")" addr add "$cip/24" dev eth0
  ip -n "$(ns "c$h")" route add default via 10.50.0.1
  ip -n "$(ns "$h")" link set "v$h" up
}
host a 192.168.77.1 10.50.0.2 "$MAC_CA"
host b 192.168.77.2 10.50.0.3 "$MAC_CB"

# program HOST UNDERLAY_IP LOCAL_SPEC REMOTE_SPEC
ENCAP=bpf
program() {
  ip netns exec "$(ns "$1")" "$OVERLAY_HOST" program --pin "$T/bpffs/$1" --underlay "u$1" \
    --underlay-ip "$2" --vni 4097 --subnet 10.50.0.0/24 --gateway 10.50.0.1 \
    --local "$3" --remote "$4" --encap "$ENCAP" >&2 || fail "programming host $1"
}
program a 192.168.77.1 "va,10.50.0.2,$MAC_CA" "10.50.0.3,$MAC_CB,192.168.77.2"
program b 192.168.77.2 "vb,10.50.0.3,$MAC_CB" "10.50.0.2,$MAC_CA,192.168.77.1"
# Twice: idempotent (the device, the attach, the maps).
program a 192.168.77.1 "va,10.50.0.2,$MAC_CA" "10.50.0.3,$MAC_CB,192.168.77.2"

ip -n "$(ns a)" -d link show bpfnet_vxlan | grep -q "vxlan external.*dstport 4789" ||
  fail "bpfnet_vxlan is not an external VXLAN device on 4789"
ip -n "$(ns a)" link show bpfnet_vxlan | grep -q "mtu 1500 .*state UNKNOWN\|mtu 1500 .*UP" ||
  fail "bpfnet_vxlan not up at the underlay MTU: $(ip -n "$(ns a)" link show bpfnet_vxlan)"

# counter HOST IFNAME REASON: packets (0 if no row).
counter() {
  ip netns exec "$(ns "$1")" "$OVERLAY_HOST" counters --pin "$T/bpffs/$1" |
    awk -v i="$2" -v r="$3" '$1 == i && $2 == r { n += $4 } END { print n + 0 }'
}

# checks TUNNEL_IF UDP_PORT FORGED_PORT: everything below, with what host b
# receives through the tunnel counted on TUNNEL_IF.
checks() {
  local tunnel_if=$1 udp_port=$2 forged_port=$3
  log "ping across hosts"
  ip netns exec "$(ns ca)" ping -c 3 -W 2 10.50.0.3 >&2 || fail "ping ca -> cb"
  ip netns exec "$(ns cb)" ping -c 3 -W 2 10.50.0.2 >&2 || fail "ping cb -> ca"
  neigh=$(ip -n "$(ns ca)" neigh show 10.50.0.3)
  [[ "$neigh" == *"lladdr $MAC_CB"* ]] || fail "ARP for cb not answered with cb's MAC: $neigh"

  log "MTU: 1422-byte payload with DF at endpoint MTU 1450"
  ip netns exec "$(ns ca)" ping -c 2 -W 2 -M do -s 1422 10.50.0.3 >&2 || fail "1422-byte DF ping"
  if ip netns exec "$(ns ca)" ping -c 1 -W 2 -M do -s 1423 10.50.0.3 >/dev/null 2>&1; then
    fail "a 1423-byte DF ping went through an MTU of 1450"
  fi

  log "TCP (iperf3)"
  ip netns exec "$(ns cb)" iperf3 -s -1 -B 10.50.0.3 >"$T/bg-iperf3-server-$ENCAP.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$(ns cb)" ss -ltn | grep -q 10.50.0.3:5201 && break
    sleep 0.1
  done
  ip netns exec "$(ns ca)" iperf3 -c 10.50.0.3 -t 3 -f g >"$T/iperf3-$ENCAP.log" 2>&1 ||
    { cat "$T/iperf3-$ENCAP.log" >&2; fail "iperf3 ca -> cb"; }
  log "iperf3: $(grep receiver "$T/iperf3-$ENCAP.log" | tail -1)"

  log "UDP (socat)"
  ip netns exec "$(ns cb)" socat -u UDP4-RECV:"$udp_port",bind=10.50.0.3 OPEN:"$T/udp-$ENCAP.out",creat,append \
    >"$T/bg-socat-$ENCAP.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$(ns cb)" ss -lun | grep -q 10.50.0.3:$udp_port && break
    sleep 0.1
  done
  for _ in $(seq 50); do
    echo "udp-across-hosts" | ip netns exec "$(ns ca)" socat -u - UDP4-SENDTO:10.50.0.3:$udp_port
    grep -q udp-across-hosts "$T/udp-$ENCAP.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q udp-across-hosts "$T/udp-$ENCAP.out" || fail "UDP ca -> cb not received"

  log "forged VXLAN frames"
  ip netns exec "$(ns cb)" socat -u UDP4-RECV:"$forged_port",bind=10.50.0.3 OPEN:"$T/forged-$ENCAP.out",creat,append \
    >"$T/bg-socat-forged-$ENCAP.log" 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$(ns cb)" ss -lun | grep -q 10.50.0.3:$forged_port && break
    sleep 0.1
  done
  # send_vxlan NS SOURCE_IP PAYLOAD COUNT: VXLAN (VNI 4097) to host b carrying
  # ca -> cb UDP to FORGED_PORT.
  send_vxlan() {
    ip netns exec "$(ns "$1")" python3 - "$2" "$3" "$4" "$MAC_CA" "$MAC_CB" "$forged_port" <<'EOF'
import socket, struct, sys
src, payload, count, mac_ca, mac_cb, port = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
saddr, daddr = socket.inet_aton("10.50.0.2"), socket.inet_aton("10.50.0.3")
udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, saddr, daddr)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
inner = mac(mac_cb) + mac(mac_ca) + b"\x08\x00" + ip + udp
vxlan = struct.pack("!II", 0x08000000, 4097 << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK: a zero UDP checksum, as VXLAN senders use
s.bind((src, 0))
for _ in range(count):
    s.sendto(vxlan + inner, ("192.168.77.2", 4789))
EOF
  }
  spoof_before=$(counter b "$tunnel_if" tunnel-spoof)
  send_vxlan sw 192.168.77.3 forged-from-a-third-address 5
  for _ in $(seq 50); do
    [ "$(counter b "$tunnel_if" tunnel-spoof)" -ge $((spoof_before + 5)) ] && break
    sleep 0.1
  done
  spoof_after=$(counter b "$tunnel_if" tunnel-spoof)
  [ "$spoof_after" -eq $((spoof_before + 5)) ] ||
    fail "forged frames: tunnel-spoof went $spoof_before -> $spoof_after, want +5"
  # The same frame from host a, whose container ca is: delivered. So the
  # forged ones were dropped for their outer source, nothing else.
  for _ in $(seq 50); do
    send_vxlan a 192.168.77.1 sent-by-host-a 1
    grep -q sent-by-host-a "$T/forged-$ENCAP.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q sent-by-host-a "$T/forged-$ENCAP.out" || fail "VXLAN frame from host a not delivered"
  ! grep -q forged-from-a-third-address "$T/forged-$ENCAP.out" || fail "a forged frame was delivered"
  log "tunnel-spoof on host b ($tunnel_if): $spoof_after; forwarded from $tunnel_if:" \
    "$(counter b "$tunnel_if" forwarded)"
  ip netns exec "$(ns b)" "$OVERLAY_HOST" counters --pin "$T/bpffs/b" >&2
}

checks ub 9000 9001
# A burst of UDP, what VXLAN in BPF carries (TCP keeps the device's GSO and
# GRO): none of it goes through host a's VXLAN device, all of it is
# delivered by host b's underlay program.
vx_tx() { ip netns exec "$(ns a)" cat /sys/class/net/bpfnet_vxlan/statistics/tx_packets; }
vx_before=$(vx_tx)
fwd_before=$(counter b ub forwarded)
ip netns exec "$(ns ca)" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300): s.sendto(b"burst %d" % i, ("10.50.0.3", 9000))'
for _ in $(seq 50); do
  [ "$(counter b ub forwarded)" -ge $((fwd_before + 300)) ] && break
  sleep 0.1
done
vx_after=$(vx_tx)
fwd_ub=$(counter b ub forwarded)
log "VXLAN in BPF: 300 datagrams; host a's bpfnet_vxlan sent $((vx_after - vx_before))," \
  "host b's underlay program delivered $((fwd_ub - fwd_before))"
[ $((vx_after - vx_before)) -lt 10 ] ||
  fail "VXLAN in BPF: host a's VXLAN device sent $((vx_after - vx_before)) of 300 datagrams"
[ $((fwd_ub - fwd_before)) -ge 300 ] ||
  fail "VXLAN in BPF: host b's underlay delivered $((fwd_ub - fwd_before)) of 300 datagrams"

log "again through the VXLAN device only (--encap device)"
ENCAP=device
program a 192.168.77.1 "va,10.50.0.2,$MAC_CA" "10.50.0.3,$MAC_CB,192.168.77.2"
program b 192.168.77.2 "vb,10.50.0.3,$MAC_CB" "10.50.0.2,$MAC_CA,192.168.77.1"
checks bpfnet_vxlan 9002 9003
[ "$(counter b ub forwarded)" -eq "$fwd_ub" ] || fail "--encap device: host b still decapsulated in BPF"

