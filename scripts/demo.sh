#!/usr/bin/env bash
# The bpfnet demo: bpfnetd on an embedded default config inside a demo
# "host" namespace, one bridge network, two containers (one serving HTTP),
# then `network ls`, `network inspect`, a curl between the containers and
# `bpfnetctl stats`. Everything lives in namespaces of its own and is removed
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
cleanup() {
  set +e
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for ns in host web client; do ip netns del "$P-$ns" 2>/dev/null; done
  mountpoint -q "$T/bpffs" && umount "$T/bpffs"
  rm -rf "$T"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
ctl() { "$BPFNETCTL" --socket "$SOCK" "$@"; }

for ns in host web client; do
  ip netns add "$P-$ns"
  ip -n "$P-$ns" link set lo up
done
mkdir -p "$T/bpffs" "$T/state"
mount -t bpf bpf "$T/bpffs"

# The embedded default config: the declarative form of
#   bpfnetctl network create demo --subnet 10.200.0.0/24
#   bpfnetctl network connect demo web --netns ... ; ... client ...
cat >"$T/config.json" <<JSON
{
  "networks": [
    {"name": "demo", "subnet": "10.200.0.0/24"}
  ],
  "containers": [
    {"name": "web", "netns": "$P-web", "networks": ["demo"]},
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
step "ip netns exec $P-client ping -c 3 $web_ip"
ip netns exec "$P-client" ping -c 3 -q "$web_ip"
step "bpfnetctl stats"
ctl stats
step "kill -TERM bpfnetd      # the datapath stays up without the daemon"
kill -TERM "$DAEMON"
wait "$DAEMON" || true
DAEMON=""
ip netns exec "$P-client" curl -sS --max-time 5 "http://$web_ip/"
printf '\ndemo done; cleaning up\n'
