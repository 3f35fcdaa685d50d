#!/usr/bin/env bash
# A 3-member etcd cluster for tests and the demo, in network namespaces of its
# own: members PREFIX-e1..e3 and a client namespace PREFIX-cl, each joined by
# a veth to a bridge in a "switch" namespace PREFIX-sw (10.213.13.0/24). Data
# dirs, logs and pids live in DIR (the caller's temp dir). Nothing here
# touches the root namespace's interfaces.
#
#   etcd_cluster.sh DIR up [PREFIX]   create the namespaces, start all, wait healthy
#   etcd_cluster.sh DIR endpoints     print etcd://10.213.13.11:2379,...
#   etcd_cluster.sh DIR kill N        SIGKILL member N (1..3)
#   etcd_cluster.sh DIR start N       start member N again (same data dir)
#   etcd_cluster.sh DIR stop-all      SIGKILL every member
#   etcd_cluster.sh DIR start-all     start every stopped member, wait healthy
#   etcd_cluster.sh DIR wait-healthy  until every member answers (20 s at most)
#   etcd_cluster.sh DIR wipe          delete every key
#   etcd_cluster.sh DIR exec CMD...   run CMD in the client namespace
#   etcd_cluster.sh DIR down          kill everything, delete the namespaces
set -euo pipefail

DIR=${1:?usage: etcd_cluster.sh DIR COMMAND [ARGS]}
CMD=${2:?usage: etcd_cluster.sh DIR COMMAND [ARGS]}
shift 2

NET=10.213.13
MEMBERS=(1 2 3)
member_ip() { echo "$NET.$((10 + $1))"; }
client_urls() {
  local i out=""
  for i in "${MEMBERS[@]}"; do out+="${out:+,}http://$(member_ip "$i"):2379"; done
  echo "$out"
}
prefix() { cat "$DIR/etcd-prefix"; }
log() { printf '[etcd_cluster] %s\n' "$*" >&2; }

# A namespace joined to the switch's bridge, with ADDR on its eth0.
attach() {
  local ns=$1 port=$2 addr=$3 p
  p=$(prefix)
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$port" netns "$p-sw" type veth peer name eth0 netns "$ns"
  ip -n "$p-sw" link set "$port" master br0 up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
}

start_member() {
  local i=$1 p ip cluster="" j
  p=$(prefix)
  ip=$(member_ip "$i")
  for j in "${MEMBERS[@]}"; do cluster+="${cluster:+,}m$j=http://$(member_ip "$j"):2380"; done
  if [ -f "$DIR/m$i.pid" ] && kill -0 "$(cat "$DIR/m$i.pid")" 2>/dev/null; then return 0; fi
  # A restart with an existing data dir ignores the --initial-* flags.
  ip netns exec "$p-e$i" etcd --name "m$i" --data-dir "$DIR/m$i" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$cluster" --initial-cluster-token "$p" --initial-cluster-state new \
    --logger zap --log-outputs "$DIR/m$i.log" </dev/null >>"$DIR/m$i.out" 2>&1 &
  echo $! >"$DIR/m$i.pid"
}

kill_member() {
  local i=$1 pid
  [ -f "$DIR/m$i.pid" ] || return 0
  pid=$(cat "$DIR/m$i.pid")
  kill -KILL "$pid" 2>/dev/null || true
  # Not our child when called from another process: poll until it is gone.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$DIR/m$i.pid"
}

in_client() { ip netns exec "$(prefix)-cl" "$@"; }

wait_healthy() {
  local deadline=$((SECONDS + 20))
  until in_client env ETCDCTL_API=3 etcdctl --endpoints "$(client_urls)" --dial-timeout 1s \
    --command-timeout 2s endpoint health >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "cluster not healthy after 20 s"
      tail -n 5 "$DIR"/m*.log >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

case "$CMD" in
  up)
    p=${1:-ec$$}
    mkdir -p "$DIR"
    echo "$p" >"$DIR/etcd-prefix"
    ip netns add "$p-sw"
    ip -n "$p-sw" link add br0 type bridge
    ip -n "$p-sw" link set br0 up
    for i in "${MEMBERS[@]}"; do attach "$p-e$i" "m$i" "$(member_ip "$i")"; done
    attach "$p-cl" cl "$NET.100"
    for i in "${MEMBERS[@]}"; do start_member "$i"; done
    wait_healthy
    ;;
  endpoints)
    out=""
    for i in "${MEMBERS[@]}"; do out+="${out:+,}$(member_ip "$i"):2379"; done
    echo "etcd://$out"
    ;;
  kill) kill_member "${1:?member number}" ;;
  start) start_member "${1:?member number}" ;;
  stop-all) for i in "${MEMBERS[@]}"; do kill_member "$i"; done ;;
  start-all)
    for i in "${MEMBERS[@]}"; do start_member "$i"; done
    wait_healthy
    ;;
  wait-healthy) wait_healthy ;;
  wipe) in_client env ETCDCTL_API=3 etcdctl --endpoints "$(client_urls)" del --prefix "" >/dev/null ;;
  exec) in_client "$@" ;;
  down)
    [ -f "$DIR/etcd-prefix" ] || exit 0
    p=$(prefix)
    for i in "${MEMBERS[@]}"; do kill_member "$i"; done
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$p-(sw|cl|e[0-9]+)$" || true); do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns del "$ns"
    done
    rm -f "$DIR/etcd-prefix"
    ;;
  *)
    echo "etcd_cluster.sh: unknown command $CMD" >&2
    exit 2
    ;;
esac
