#!/usr/bin/env bash
# Published ports across daemon restarts: an iperf3 transfer through a
# published port keeps going over SIGTERM + start and SIGKILL + start;
# mappings from the config file and from the CLI survive; conntrack is kept.
source "$(dirname "$0")/lib.sh"

setup_host
make_ns client; make_ns web
add_uplink up0 10.97.0.1 client 10.97.0.2
printf '{"uplinks":["up0"],"networks":[{"name":"n","subnet":"10.89.0.0/24"}],"containers":[{"name":"web","netns":"%s","networks":["n"],"ports":["5201:5201","8080:80"]}]}' \
  "$(ns web)" >"$T/cfg.json"
start_daemon --config "$T/cfg.json"
ctl port-map add web 9090:80 >/dev/null
bg_in_ns web iperf3 -s -1 -p 5201
bg_in_ns web python3 "$ROOT/scripts/httpd.py" --port 80 --name web
wait_http client http://10.97.0.1:8080/

in_ns client iperf3 -c 10.97.0.1 -p 5201 -t 10 -i 1 -J >"$T/iperf.json" 2>&1 &
IPERF=$!
BG_PIDS+=($IPERF)
sleep 2
log "SIGTERM"
stop_daemon TERM
sleep 1
start_daemon --config "$T/cfg.json"
sleep 2
log "SIGKILL"
stop_daemon KILL
sleep 1
start_daemon --config "$T/cfg.json"
wait "$IPERF" || fail "iperf3 through the published port failed: $(tail -c 300 "$T/iperf.json")"
python3 - "$T/iperf.json" <<'PY' || fail "transfer stalled"
import json, sys
r = json.load(open(sys.argv[1]))
assert "error" not in r, r.get("error")
ivals = [i["sum"]["bits_per_second"] for i in r["intervals"]]
print("interval Gbit/s:", [round(b / 1e9, 2) for b in ivals], file=sys.stderr)
assert len(ivals) >= 9 and min(ivals) > 0, ivals
PY

log "mappings survive (config is idempotent, CLI ones kept)"
ls_out=$(ctl port-map ls web)
for want in "80/tcp -> 0.0.0.0:8080" "80/tcp -> 0.0.0.0:9090" "5201/tcp -> 0.0.0.0:5201"; do
  grep -cF -- "$want" <<<"$ls_out" >/dev/null || fail "missing after restart: $want (have: $ls_out)"
done
[ "$(wc -l <<<"$ls_out")" -eq 3 ] || fail "config re-applied twice: $ls_out"
[ "$(in_ns client curl -sf --max-time 5 http://10.97.0.1:9090/ | cut -d: -f1)" = "web 10.97.0.2" ] || fail "9090 after restart"
