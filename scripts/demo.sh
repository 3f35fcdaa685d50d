#!/usr/bin/env bash
# The bpfnet demo: bpfnetd on an embedded default config inside a demo
# "host" namespace, one bridge network, two containers (one serving HTTP,
# published as 8080:80 on the host's uplink), then `network ls`, `network
# inspect`, a curl between the containers, a curl from an "outside" client to
# the published port (the server sees the client's own address), that
# connection in `bpfnetctl flows`, a forged packet's drop live in `bpfnetctl
# monitor`, and `bpfnetctl stats`. Everything lives in namespaces of its own and is removed
# at the end. Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }
[ "${BPFNET_DEMO_NO_BUILD:-}" = 1 ] || bash "$ROOT/scripts/build.sh" >/dev/null
BPFNETD=${BPFNETD:-$ROOT/build/userspace/daemon/bpfnetd}
BPFNETCTL=${BPFNETCTL:-$ROOT/build/userspace/ctl/bpfnetctl}

P="bndemo$$"
T=$(mktemp -d /tmp/bpfnet-demo.XXXXXX)
SOCK=$T/bpfnetd.sock
DAEMON=""
SERVER=""
MONITOR=""
cleanup() {
  set +e
  [ -n "$MONITOR" ] && kill "$MONITOR" 2>/dev/null
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for ns in host web client outside; do ip netns del "$P-$ns" 2>/dev/null; done
  mountpoint -q "$T/bpffs" && umount "$T/bpffs"
  rm -rf "$T"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
ctl() { "$BPFNETCTL" --socket "$SOCK" "$@"; }

for ns in host web client outside; do
  ip netns add "$P-$ns"
  ip -n "$P-$ns" link set lo up
done
# The host's uplink: up0 (10.201.0.1) in the host namespace, its peer eth0
# (10.201.0.2) in an "outside" namespace standing for a remote client.
ip link add "$P-up0" type veth peer name "$P-out"
ip link set "$P-up0" netns "$P-host"
ip -n "$P-host" link set "$P-up0" name up0
ip link set "$P-out" netns "$P-outside"
ip -n "$P-outside" link set "$P-out" name eth0
ip -n "$P-host" addr add 10.201.0.1/24 dev up0
ip -n "$P-host" link set up0 up
ip -n "$P-outside" addr add 10.201.0.2/24 dev eth0
ip -n "$P-outside" link set eth0 up
mkdir -p "$T/bpffs" "$T/state"
mount -t bpf bpf "$T/bpffs"

# The embedded default config: the declarative form of
#   bpfnetctl network create demo --subnet 10.200.0.0/24
#   bpfnetctl network connect demo web --netns ... ; ... client ...
cat >"$T/config.json" <<JSON
{
  "uplinks": ["up0"],
  "networks": [
    {"name": "demo", "subnet": "10.200.0.0/24"}
  ],
  "containers": [
    {"name": "web", "netns": "$P-web", "networks": ["demo"], "ports": ["8080:80"]},
    {"name": "client", "netns": "$P-client", "networks": ["demo"]}
  ]
}
JSON

step "ip netns exec $P-host bpfnetd --config config.json --state-dir ... --bpffs ... --socket ..."
ip netns exec "$P-host" "$BPFNETD" --config "$T/config.json" --state-dir "$T/state" \
  --bpffs "$T/bpffs/pins" --socket "$SOCK" 2>"$T/bpfnetd.log" &
DAEMON=$!
for _ in $(seq 1 100); do ctl version >/dev/null 2>&1 && break; sleep 0.1; done
ctl version

web_ip=$(ctl network inspect demo | python3 -c '
import json, sys
for c in json.load(sys.stdin)[0]["Containers"].values():
    if c["Name"] == "web": print(c["IPv4Address"].split("/")[0])')

ip netns exec "$P-web" python3 "$ROOT/scripts/httpd.py" --bind 0.0.0.0 --port 80 --name web \
  >"$T/web.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do
  ip netns exec "$P-client" curl -s -o /dev/null --max-time 1 "http://$web_ip/" && break
  sleep 0.1
done

step "bpfnetctl network ls"
ctl network ls
step "bpfnetctl network inspect demo"
ctl network inspect demo
step "ip netns exec $P-client curl http://$web_ip/      # client -> web, forwarded by BPF"
ip netns exec "$P-client" curl -sS --max-time 5 "http://$web_ip/"
step "bpfnetctl port-map ls web      # published as docker run -p 8080:80 would"
ctl port-map ls web
step "bpfnetctl uplink ls      # the uplink's hook, picked for its driver (a veth: tc)"
ctl uplink ls
step "ip netns exec $P-outside curl http://10.201.0.1:8080/      # remote client (untouched) -> host:8080 -> web, its address kept"
ip netns exec "$P-outside" curl -sS --max-time 5 "http://10.201.0.1:8080/"
step "bpfnetctl flows web      # the connection just made: the client's own address, NAT, counters"
ctl flows web
step "bpfnetctl monitor --type drop      # live drops, as the client forges its source address"
"$BPFNETCTL" --socket "$SOCK" monitor --type drop >"$T/monitor.out" 2>"$T/monitor.err" &
MONITOR=$!
for _ in $(seq 1 50); do grep -q monitoring "$T/monitor.err" && break; sleep 0.1; done
client_if=$(ip -n "$P-client" -o -4 addr show | awk '$4 ~ /^10\.200\./ {print $2; exit}')
ip -n "$P-client" addr add 10.200.0.99/32 dev "$client_if"
ip netns exec "$P-client" ping -c 1 -W 1 -q -I 10.200.0.99 "$web_ip" >/dev/null 2>&1 || true
for _ in $(seq 1 30); do grep -q invalid-source-ip "$T/monitor.out" && break; sleep 0.1; done
kill -INT "$MONITOR"
wait "$MONITOR" || true
MONITOR=""
cat "$T/monitor.err" "$T/monitor.out"
ip -n "$P-client" addr del 10.200.0.99/32 dev "$client_if"
step "ip netns exec $P-client ping -c 3 $web_ip"
ip netns exec "$P-client" ping -c 3 -q "$web_ip"
step "bpfnetctl stats"
ctl stats
step "kill -TERM bpfnetd      # the datapath stays up without the daemon"
kill -TERM "$DAEMON"
wait "$DAEMON" || true
DAEMON=""
ip netns exec "$P-client" curl -sS --max-time 5 "http://$web_ip/"
ip netns exec "$P-outside" curl -sS --max-time 5 "http://10.201.0.1:8080/"
printf '\ndemo done; cleaning up\n'
