#!/usr/bin/env bash
# Crash consistency (issue 12): SIGKILL at random points while scripted
# changes run — networks, connects, published ports, services. After every
# restart `bpfnetctl doctor` finds the state, the interfaces and the maps in
# agreement (no address given twice, no leaked interface, every map entry as
# the state asks); at the end, every container namespace holds exactly the
# interfaces of its endpoints. CRASH_CHANGES (default 1000) changes, about one
# in CRASH_KILL_EVERY (default 8) interrupted by a kill.
source "$(dirname "$0")/lib.sh"
CHANGES=${CRASH_CHANGES:-1000}
KILL_EVERY=${CRASH_KILL_EVERY:-8}
RANDOM=4242  # the same script every run

setup_host
for i in $(seq 0 7); do make_ns "c$i"; done
make_ns client
add_uplink up0 10.93.0.1 client 10.93.0.2
start_daemon --uplink up0
ctl network create base --subnet 10.83.0.0/24 >/dev/null

# One change, chosen by RANDOM; refusals (already connected, no such port,
# the daemon killed under it) are part of the script, not failures.
change() {
  local c="c$((RANDOM % 8))" n="tmp$((RANDOM % 3))" p=$((9000 + RANDOM % 20))
  case $((RANDOM % 9)) in
    0) ctl network create "$n" --subnet "10.82.$((RANDOM % 3)).0/24" ;;
    1) ctl network rm "$n" ;;
    2|3) ctl network connect base "$c" --netns "$(ns "$c")" ;;
    4) ctl network connect "$n" "$c" --netns "$(ns "$c")" ;;
    5) ctl network disconnect base "$c" ;;
    6) ctl port-map add "$c" "$p:80" ;;
    7) ctl port-map rm "$c" "$p" ;;
    8) if ((RANDOM % 2)); then ctl service create "s$((RANDOM % 2))" --network base --port 80/tcp
       else ctl service add-backend "s$((RANDOM % 2))" "$c"; fi ;;
  esac
}

kills=0
for i in $(seq 1 "$CHANGES"); do
  if ((RANDOM % KILL_EVERY == 0)); then
    change >/dev/null 2>&1 &
    pid=$!
    sleep "0.00$((RANDOM % 10))"  # somewhere in the request: parse, converge, persist
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
    wait "$pid" || true
    kills=$((kills + 1))
    start_daemon --uplink up0
    if ! out=$(ctl doctor 2>&1); then fail "after kill $kills (change $i): $out"; fi
  else
    change >/dev/null 2>&1 || true
  fi
done
log "$CHANGES changes, $kills kills: doctor clean after every restart"

out=$(ctl doctor 2>&1) || fail "at the end: $out"
# Container ends: exactly one interface per endpoint, nothing left over.
ctl network ls -o json | python3 -c '
import json, sys, collections
count = collections.Counter()
for net in json.load(sys.stdin):
    for c in net.get("Containers", {}).values():
        count[c["Name"]] += 1
for i in range(8):
    print("c%d %d" % (i, count["c%d" % i]))' | while read -r c want; do
  have=$(ip -n "$(ns "$c")" -o link show | grep -vc ': lo:')
  [ "$have" = "$want" ] || fail "$c has $have interfaces for $want endpoints: $(ip -n "$(ns "$c")" -o link show)"
done
log "$(ctl network ls | wc -l) networks, $(ctl network ls -o json | python3 -c 'import json,sys; print(sum(len(n.get("Containers",{})) for n in json.load(sys.stdin)))') endpoints at the end"
