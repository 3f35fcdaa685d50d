#!/usr/bin/env bash
# Issue 14, metrics: `bpfnetd --metrics` serves Prometheus's text format.
# promtool (Debian `prometheus`) checks it; a real Prometheus server started
# here scrapes bpfnetd, and its query API sees bpfnet_drops_total{reason=
# "isolation"} rise after a blocked cross-network ping.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
  fail "promtool and prometheus are needed (scripts/setup.sh installs Debian's prometheus)"

setup_host
make_ns a; make_ns b; make_ns out
add_uplink up0 10.92.0.1 out 10.92.0.2  # masquerade's way out
PORT=9775
metrics() { ip netns exec "$H" curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics"; }
sample() {  # sample 'NAME{LABELS}': its value in one scrape (0 when absent)
  metrics | awk -v k="$1" '$1 == k {print $2; found=1} END {if (!found) print 0}'
}

log "bad --metrics values are refused before anything starts"
for bad in "127.0.0.1:70000" "localhost:9775" "::1:9775" "abc"; do
  out=$(ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" \
    --cgroup none --metrics "$bad" 2>&1) && fail "--metrics $bad accepted"
  grep -q "^bpfnetd: --metrics: invalid address \"$bad\": expected \[IPv4:\]PORT" <<<"$out" ||
    fail "--metrics $bad wording: $out"
done
[ -z "$(ls -A "$STATE" 2>/dev/null)" ] || fail "a refused start wrote state: $(ls "$STATE")"

log "off by default"
start_daemon
ip netns exec "$H" curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" >/dev/null &&
  fail "something answers on :$PORT without --metrics"
stop_daemon TERM

log "a port in use is a clear error"
ip netns exec "$H" python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 9775)); s.listen(); time.sleep(30)' &
busy=$!
sleep 0.5
out=$(ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" \
  --cgroup none --metrics "$PORT" 2>&1) && fail "--metrics on a busy port accepted"
grep -q -- "--metrics 127.0.0.1:$PORT: Address already in use" <<<"$out" || fail "busy port wording: $out"
kill $busy; wait $busy 2>/dev/null || true

start_daemon --metrics "$PORT" --uplink up0
ctl network create n1 --subnet 10.91.1.0/24 >/dev/null
ctl network create n2 --subnet 10.91.2.0/24 >/dev/null
ctl network connect n1 a --netns "$(ns a)" >/dev/null  # 10.91.1.2
ctl network connect n2 b --netns "$(ns b)" >/dev/null  # 10.91.2.2
in_ns a ping -c 2 -W 1 -q 10.91.1.1 >/dev/null || fail "a -> its gateway"

log "promtool check metrics"
metrics >"$T/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.txt" 2>&1 || fail "promtool: $(cat "$T/promtool.txt")"
log "promtool: $(wc -l <"$T/metrics.txt") lines, $(grep -c '^# TYPE' "$T/metrics.txt") families, no complaint"
for want in 'bpfnet_requests_total{verb="network.create",result="ok"} 2' \
  'bpfnet_endpoints 2' 'bpfnet_drops_total{reason="isolation"} 0' \
  'bpfnet_endpoint_packets_total{container="a",network="n1",direction="tx"}' \
  'bpfnet_conntrack_capacity 262144' 'bpfnet_reconciles_total'; do
  grep -qF "$want" "$T/metrics.txt" || fail "missing: $want"
done

log "masquerade ports in use: 0 on the uplink's address, then 1 with a TCP connection out"
in_use='bpfnet_masquerade_ports_in_use{address="10.92.0.1"}'
grep -qF "$in_use 0" "$T/metrics.txt" || fail "missing: $in_use 0 ($(grep masquerade "$T/metrics.txt"))"
bg_in_ns out python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.92.0.2", 8080)); s.listen()
c, a = s.accept(); print("from", a, flush=True); time.sleep(60)'
sleep 0.3
bg_in_ns a python3 -c 'import socket, time
s = socket.create_connection(("10.92.0.2", 8080), timeout=5); print("connected", flush=True); time.sleep(60)'
for _ in $(seq 1 50); do grep -q "from" "$T/bg-out.log" 2>/dev/null && break; sleep 0.1; done
grep -q "from ('10.92.0.1'" "$T/bg-out.log" || fail "no masqueraded connection: $(cat "$T/bg-out.log" "$T/bg-a.log")"
metrics >"$T/metrics2.txt" || fail "GET /metrics failed"
promtool check metrics <"$T/metrics2.txt" >"$T/promtool.txt" 2>&1 || fail "promtool: $(cat "$T/promtool.txt")"
n=$(awk -v k="$in_use" '$1 == k {print $2}' "$T/metrics2.txt")
[ -n "$n" ] && [ "$n" -ge 1 ] || fail "$in_use is '$n' with a connection out ($(grep masquerade "$T/metrics2.txt"))"
grep -q '^bpfnet_masquerade_ports [1-9]' "$T/metrics2.txt" || fail "no masquerade capacity"
log "$in_use $n of $(awk '$1 == "bpfnet_masquerade_ports" {print $2}' "$T/metrics2.txt")"

code=$(ip netns exec "$H" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
[ "$code" = 404 ] || fail "/nope answered $code"

log "a real Prometheus scrapes bpfnetd"
cat >"$T/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: bpfnet
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
YML
promtool check config "$T/prometheus.yml" >/dev/null || fail "prometheus.yml"
ip netns exec "$H" prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address=127.0.0.1:9090 >"$T/bg-prometheus.log" 2>&1 &
BG_PIDS+=($!)
query() {  # the value Prometheus has for an instant query, or nothing
  ip netns exec "$H" curl -sf --max-time 2 -G "http://127.0.0.1:9090/api/v1/query" \
    --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}
wait_value() {  # wait_value QUERY PYTHON-CONDITION-ON-v: up to 30 s
  local i v
  for i in $(seq 1 300); do
    v=$(query "$1" 2>/dev/null)
    if [ -n "$v" ] && python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if $2 else 1)" "$v"; then
      echo "$v"; return 0
    fi
    sleep 0.1
  done
  return 1
}
before=$(wait_value 'bpfnet_drops_total{reason="isolation"}' 'v >= 0') ||
  fail "Prometheus never scraped bpfnet_drops_total: $(tail -5 "$T/bg-prometheus.log")"
[ "$(query 'up{job="bpfnet"}')" = 1 ] || fail "target not up"
log "Prometheus sees isolation drops = $before; a ping from n1 to n2 is blocked"
in_ns a ping -c 3 -i 0.2 -W 1 -q 10.91.2.2 >/dev/null && fail "n1 reached n2"
after=$(wait_value 'bpfnet_drops_total{reason="isolation"}' "v >= $before + 3") ||
  fail "bpfnet_drops_total{reason=\"isolation\"} did not rise in Prometheus (was $before, bpfnetd says $(sample 'bpfnet_drops_total{reason="isolation"}'))"
log "Prometheus: bpfnet_drops_total{reason=\"isolation\"} $before -> $after"
