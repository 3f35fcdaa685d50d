#!/usr/bin/env bash
# Issue 14: `bpfnetctl monitor`. A monitor of drops with --pcap sees a
# container's spoofed packet (wrong source IP) as an invalid-source-ip line,
# Ctrl-C prints the summary, and tcpdump -r reads the spoofed packet's
# addresses from the pcap file; a monitor filtered on another container sees
# nothing of it. Unknown filter values are refused, naming them. While no
# monitor is connected the datapath writes nothing (bpfnet_monitor is 0).
source "$(dirname "$0")/lib.sh"

setup_host
for n in c1 c2 c3; do make_ns $n; done
start_daemon

ctl network create mnet --subnet 10.79.0.0/24 >/dev/null
for n in c1 c2 c3; do ctl network connect mnet $n --netns "$(ns $n)" >/dev/null; done # .2 .3 .4
in_ns c1 ping -c 1 -W 2 -q 10.79.0.3 >/dev/null || fail "c1 -> c2 before the test"

log "unknown filters are refused, naming them"
must_fail ctl monitor --reason bogus | grep -q 'no such drop reason' || fail "--reason bogus"
must_fail ctl monitor --container nope | grep -q 'no such container' || fail "--container nope"
must_fail ctl monitor --network nope | grep -q 'no such network' || fail "--network nope"
must_fail ctl monitor --type drop,bogus | grep -q 'no such event type' || fail "--type bogus"

start_monitor drops --type drop --pcap "$T/drops.pcap"
start_monitor other --type drop --container c3
start_monitor json --type drop --reason invalid-source-ip -o json

log "a spoofed packet from c1 (10.79.0.99 -> c2)"
in_ns c1 ip addr add 10.79.0.99/24 dev eth0
sent=$(date +%s%N)
in_ns c1 ping -c 1 -W 1 -q -I 10.79.0.99 10.79.0.3 >/dev/null 2>&1 &
ping_pid=$!
line=""
for _ in $(seq 1 100); do # a generous bound: the issue asks for 1 s
  line=$(grep -m1 'invalid-source-ip' "$T/drops.out" || true)
  [ -n "$line" ] && break
  sleep 0.05
done
[ -n "$line" ] || fail "no invalid-source-ip line: $(cat "$T/drops.out" "$T/drops.err")"
log "after $(( ($(date +%s%N) - sent) / 1000000 )) ms: $line"
[[ "$line" == *"drop invalid-source-ip c1 (mnet)"*"from-container: IP 10.79.0.99 > 10.79.0.3: icmp echo request"* ]] \
  || fail "unexpected line: $line"

log "Ctrl-C prints the summary"
kill -INT "$drops_pid"
wait "$drops_pid" || fail "monitor exited $? after SIGINT"
cat "$T/drops.out" >&2
grep -q '^[0-9]* events$' "$T/drops.out" || fail "no summary"
grep -Eq '^  drop invalid-source-ip: [1-9]' "$T/drops.out" || fail "summary without the drop"
grep -Eq '^0 events lost' "$T/drops.out" || fail "summary without the lost count"

log "tcpdump -r reads the pcap"
tcpdump -r "$T/drops.pcap" -n 2>&1 | tee "$T/tcpdump.txt" >&2
grep -q '10.79.0.99 > 10.79.0.3: ICMP echo request' "$T/tcpdump.txt" || fail "tcpdump does not show it"

log "-o json: one object per line"
for _ in $(seq 1 50); do [ -s "$T/json.out" ] && break; sleep 0.05; done
head -1 "$T/json.out" | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
assert e["type"] == "drop" and e["reason"] == "invalid-source-ip", e
assert e["at"]["container"] == "c1" and e["at"]["network"] == "mnet", e
assert e["summary"].startswith("IP 10.79.0.99 > 10.79.0.3: icmp"), e' || fail "json: $(cat "$T/json.out")"

log "a filter on c3 shows nothing of it"
kill -INT "$other_pid"
wait "$other_pid" || fail "monitor --container c3 exited $?"
if grep -q 'invalid-source-ip c1' "$T/other.out"; then fail "c3's monitor saw c1's drop"; fi
grep -q '^0 events$' "$T/other.out" || fail "c3's monitor: $(cat "$T/other.out")"

log "with every monitor gone, the datapath writes nothing"
kill -INT "$json_pid"
wait "$json_pid" || true
wait "$ping_pid" && fail "the spoofed ping was answered"
for _ in $(seq 1 50); do
  # The first 4 bytes of the value: subscribers (struct bpfnet_monitor).
  v=$(in_ns host bpftool map dump pinned "$PINS/bpfnet_monitor" -j | python3 -c '
import json, sys; print(sum(int(b, 16) for b in json.load(sys.stdin)[0]["value"][:4]))')
  [ "$v" = 0 ] && break
  sleep 0.1
done
[ "$v" = 0 ] || fail "bpfnet_monitor.subscribers is $v with no monitor"
