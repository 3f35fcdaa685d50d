#!/usr/bin/env bash
# The UDP runs of bench/pktgen through the kernel's own packet generator
# (/proc/net/pktgen), for machines that have the pktgen module.
#
#   scripts/pktgen.sh --iface DEV --dst-mac MAC --dst-ip IP [--netns NAME]
#                     [--size 60] [--flows 1] [--flow-field sport|saddr|addr-port]
#                     [--sport 10000] [--dport 9] [--src-ip IP]
#                     [--duration 1 | --count N] [--json]
#
# Same flags and meaning as bench/pktgen (UDP only; --size is the frame
# length without FCS, flows vary the source port or address). addr-port
# (source addresses x source ports, for new-flow floods) cannot be walked in
# order by the kernel's pktgen: it draws both at random in the same ranges
# (--flows / 65536 addresses x 65536 ports), so a few tuples repeat.
# --first-flow is accepted and ignored. Prints the offered rate the kernel
# reports.
#
# Where the kernel has no pktgen (CONFIG_NET_PKTGEN unset or the module
# missing, as on the machine bench/RESULTS.md was measured on) it says so,
# points to bench/pktgen, and exits 0: that is not an error of the caller.
set -euo pipefail

IFACE="" DST_MAC="" DST_IP="" NETNS="" SRC_IP=""
SIZE=60 FLOWS=1 FIELD=sport SPORT=10000 DPORT=9 DURATION=1 COUNT=0 JSON=0
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --iface) IFACE=$2; shift ;;
    --dst-mac) DST_MAC=$2; shift ;;
    --dst-ip) DST_IP=$2; shift ;;
    --src-ip) SRC_IP=$2; shift ;;
    --netns) NETNS=$2; shift ;;
    --size) SIZE=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --flow-field) FIELD=$2; shift ;;
    --first-flow) shift ;;  # bench/pktgen only (the kernel's pktgen has no such start)
    --sport) SPORT=$2; shift ;;
    --dport) DPORT=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --count) COUNT=$2; shift ;;
    --json) JSON=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "pktgen.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Re-run inside the namespace: /proc/net/pktgen is per network namespace.
if [ -n "$NETNS" ] && [ -z "${PKTGEN_SH_IN_NS:-}" ]; then
  exec ip netns exec "$NETNS" env PKTGEN_SH_IN_NS=1 bash "$0" --iface "$IFACE" --dst-mac "$DST_MAC" \
    --dst-ip "$DST_IP" ${SRC_IP:+--src-ip "$SRC_IP"} --size "$SIZE" --flows "$FLOWS" \
    --flow-field "$FIELD" --sport "$SPORT" --dport "$DPORT" --duration "$DURATION" \
    --count "$COUNT" $( ((JSON)) && echo --json)
fi

if [ ! -d /proc/net/pktgen ]; then
  modprobe pktgen 2>/dev/null || true
fi
if [ ! -d /proc/net/pktgen ]; then
  echo "pktgen.sh: this kernel ($(uname -r)) has no pktgen module (/proc/net/pktgen is missing);"
  echo "pktgen.sh: use bench/pktgen (XDP live frames) instead, e.g."
  echo "  ${ROOT}/build/bench/pktgen --iface ${IFACE:-DEV} --dst-mac ${DST_MAC:-MAC} --dst-ip ${DST_IP:-IP} --size $SIZE --flows $FLOWS --flow-field $FIELD --duration $DURATION"
  exit 0
fi

[ -n "$IFACE" ] && [ -n "$DST_MAC" ] && [ -n "$DST_IP" ] || { usage >&2; exit 2; }
case $FIELD in
  sport|saddr|addr-port) ;;
  *) echo "pktgen.sh: --flow-field is sport, saddr or addr-port" >&2; exit 2 ;;
esac

pgset() {  # pgset FILE COMMAND
  echo "$2" >"$1"
  if ! grep -q "^Result: OK" "$1" 2>/dev/null && [ "$(basename "$1")" != pgctrl ]; then
    echo "pktgen.sh: '$2' refused: $(grep '^Result' "$1" || true)" >&2
    exit 1
  fi
}

THREAD=/proc/net/pktgen/kpktgend_0
DEV=/proc/net/pktgen/$IFACE
cleanup() { echo "rem_device_all" >"$THREAD" 2>/dev/null || true; }
trap cleanup EXIT

pgset "$THREAD" "rem_device_all"
pgset "$THREAD" "add_device $IFACE"
pgset "$DEV" "count $COUNT"
pgset "$DEV" "clone_skb 0"
pgset "$DEV" "pkt_size $SIZE"
pgset "$DEV" "delay 0"
pgset "$DEV" "dst_mac $DST_MAC"
pgset "$DEV" "dst_min $DST_IP"
pgset "$DEV" "dst_max $DST_IP"
src=${SRC_IP:-$(ip -4 -o addr show dev "$IFACE" | awk '{split($4,a,"/"); print a[1]; exit}')}
if [ "$FIELD" = addr-port ]; then
  naddr=$(( (FLOWS + 65535) / 65536 ))
  last=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]) + int(sys.argv[2]) - 1)" "$src" "$naddr")
  pgset "$DEV" "src_min $src"
  pgset "$DEV" "src_max $last"
  pgset "$DEV" "udp_src_min 0"
  pgset "$DEV" "udp_src_max 65535"
  pgset "$DEV" "flag IPSRC_RND"
  pgset "$DEV" "flag UDPSRC_RND"
elif [ "$FIELD" = saddr ]; then
  last=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]) + int(sys.argv[2]) - 1)" "$src" "$FLOWS")
  pgset "$DEV" "src_min $src"
  pgset "$DEV" "src_max $last"
  pgset "$DEV" "udp_src_min $SPORT"
  pgset "$DEV" "udp_src_max $SPORT"
else
  pgset "$DEV" "src_min $src"
  pgset "$DEV" "src_max $src"
  pgset "$DEV" "udp_src_min $SPORT"
  pgset "$DEV" "udp_src_max $((SPORT + FLOWS - 1))"
fi
pgset "$DEV" "udp_dst_min $DPORT"
pgset "$DEV" "udp_dst_max $DPORT"

# "start" blocks until count is reached (or "stop" arrives).
if [ "$COUNT" -eq 0 ]; then
  (sleep "$DURATION"; echo stop >/proc/net/pktgen/pgctrl) &
fi
echo start >/proc/net/pktgen/pgctrl
wait || true

result=$(grep -A2 '^Result' "$DEV")
sent=$(sed -n 's/.*OK: [0-9]*(c[0-9]*+d[0-9]*) usec, \([0-9]*\) (.*/\1/p' <<<"$result")
usec=$(sed -n 's/.*OK: \([0-9]*\)(.*/\1/p' <<<"$result")
pps=$(sed -n 's/^ *\([0-9]*\)pps.*/\1/p' <<<"$result")
if ((JSON)); then
  printf '{"packets": %s, "seconds": %s, "pps": %s, "size": %s, "flows": %s, "iface": "%s", "generator": "kernel pktgen"}\n' \
    "${sent:-0}" "$(awk -v u="${usec:-0}" 'BEGIN{print u/1e6}')" "${pps:-0}" "$SIZE" "$FLOWS" "$IFACE"
else
  echo "kernel pktgen: $result"
fi
