#!/usr/bin/env bash
# Load-balanced services end to end: three replicas behind a VIP and a
# published port; requests from an uplink client and from a container spread
# evenly; a long connection survives backend changes; a replica whose server
# stops is failed over within interval x fall; drain lets a running download
# finish while new requests go elsewhere; services survive a restart.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client r1 r2 r3 cc; do make_ns $n; done
add_uplink up0 10.95.0.1 client 10.95.0.2
start_daemon --uplink up0
ctl network create svcnet --subnet 10.85.0.0/24 >/dev/null
for n in r1 r2 r3 cc; do ctl network connect svcnet $n --netns "$(ns $n)"; done
for n in r1 r2 r3; do bg_in_ns $n python3 "$ROOT/scripts/httpd.py" --port 80 --name $n; done
ctl service create web --network svcnet --vip 10.85.0.100 --port 80/tcp --publish 8080:80 \
  --health http --health-interval 500ms --health-timeout 300ms --health-rise 2 --health-fall 3 >/dev/null
for n in r1 r2 r3; do ctl service add-backend web $n; done
for n in r1 r2 r3; do wait_http cc "http://10.85.0.$(( ${n#r} + 1 ))/"; done
wait_http client http://10.95.0.1:8080/
# The replicas' servers may have started after their first health probes:
# measure the spread only once every backend is in the table.
for _ in $(seq 1 50); do
  ctl service inspect web | python3 -c '
import json, sys
sys.exit(any(b["State"] != "healthy" for b in json.load(sys.stdin)[0]["Backends"]))' && break
  sleep 0.2
done
ctl service ls >&2

# spread_ok JSON N: every replica within +-10% of N/3, no errors, and at most
# one connection that timed out and was tried again (http_load.py
# --retry-connect-timeout; a rare timeout, cause not found yet: the drop
# counters are logged when one happens).
spread_ok() {
  python3 - "$1" "$2" <<'PY'
import json, sys
c = json.loads(sys.argv[1]); n = int(sys.argv[2])
print("spread:", c, file=sys.stderr)
assert c.get("errors", 0) == 0, c
assert c.get("retried", 0) <= 1, c
for r in ("r1", "r2", "r3"):
    assert abs(c.get(r, 0) - n / 3) <= 0.1 * n / 3, (r, c)
PY
  local rc=$?
  if [[ $1 != *'"retried": 0'* ]]; then log "a connection was tried again; drop counters:"; ctl stats >&2 || true; fi
  return $rc
}

log "3000 requests from the uplink client to the published port"
spread_ok "$(in_ns client python3 "$E2E_DIR/http_load.py" 10.95.0.1 8080 3000 --retry-connect-timeout)" 3000 ||
  fail "uplink spread"
log "3000 requests from a container to the VIP"
spread_ok "$(in_ns cc python3 "$E2E_DIR/http_load.py" 10.85.0.100 80 3000 --retry-connect-timeout)" 3000 ||
  fail "VIP spread"

log "a long connection survives removing and adding other backends"
in_ns cc curl -sf --max-time 30 --limit-rate 1M -D "$T/long.hdr" -o "$T/long.bin" \
  http://10.85.0.100/bytes/4000000 &
LONG=$!
sleep 0.7
owner=$(grep -i '^X-Backend:' "$T/long.hdr" | awk '{print $2}' | tr -d '\r')
[ -n "$owner" ] || fail "no backend header"
for n in r1 r2 r3; do
  [ "$n" = "$owner" ] && continue
  ctl service rm-backend web $n
  ctl service add-backend web $n
done
wait "$LONG" || fail "long connection broke when other backends changed"
[ "$(stat -c %s "$T/long.bin")" = 4000000 ] || fail "long download truncated"

log "failover: r2's server stops"
pkill -f -- "--name r2" || fail "could not stop r2's server"
sleep 2.5  # interval 0.5 s x fall 3, plus a probe's timeout
ctl service inspect web | python3 -c '
import json, sys
b = {x["Container"]: x for x in json.load(sys.stdin)[0]["Backends"]}
assert b["r2"]["State"] == "unhealthy", b["r2"]
assert b["r2"]["LastError"], b["r2"]
assert b["r1"]["State"] == "healthy", b["r1"]
' || fail "r2 not marked unhealthy: $(ctl service inspect web)"
res=$(in_ns client python3 "$E2E_DIR/http_load.py" 10.95.0.1 8080 300)
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); assert c["errors"]==0 and "r2" not in c, c' "$res" \
  || fail "requests failed or reached r2 after failover: $res"
bg_in_ns r2 python3 "$ROOT/scripts/httpd.py" --port 80 --name r2
sleep 2.5  # rise 2 x 0.5 s, plus start-up
res=$(in_ns client python3 "$E2E_DIR/http_load.py" 10.95.0.1 8080 300)
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); assert c["errors"]==0 and c.get("r2",0)>0, c' "$res" \
  || fail "r2 not back after recovery: $res"

log "drain: the running download finishes, new requests go elsewhere"
ctl service rm-backend web r2
ctl service rm-backend web r3
in_ns cc curl -sf --max-time 30 --limit-rate 1M -o "$T/drain.bin" http://10.85.0.100/bytes/3000000 &
DL=$!
sleep 0.7
ctl service add-backend web r3
ctl service drain web r1
res=$(in_ns client python3 "$E2E_DIR/http_load.py" 10.95.0.1 8080 100)
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); assert c=={"errors":0,"r3":100}, c' "$res" \
  || fail "drained backend got new requests: $res"
wait "$DL" || fail "download from the drained backend broke"
[ "$(stat -c %s "$T/drain.bin")" = 3000000 ] || fail "drained download truncated"
ctl service inspect web | grep -c '"draining"' >/dev/null || fail "inspect does not show draining"

log "services survive a restart"
stop_daemon TERM
start_daemon --uplink up0
ctl service inspect web | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["VIP"] == "10.85.0.100" and len(s["Backends"]) == 2, s' || fail "service lost across restart"
[ "$(in_ns client curl -sf --max-time 5 http://10.95.0.1:8080/ | cut -d' ' -f1)" = r3 ] || fail "after restart"
