#!/usr/bin/env bash
# Refused requests give a clear error and change nothing: state file, maps,
# interfaces, addresses and routes are byte-for-byte what they were.
source "$(dirname "$0")/lib.sh"

setup_host
start_daemon
make_ns c1; make_ns c2
ctl network create net1 --subnet 10.82.0.0/24 >/dev/null
ctl network connect net1 c1 --netns "$(ns c1)"
snapshot >"$T/before"

expect_refused() {  # expect_refused PATTERN CMD...
  local pattern=$1; shift
  local out
  out=$(must_fail "$@")
  printf '%s\n' "$out" | grep -cF -- "$pattern" >/dev/null || fail "error for '$*' was: $out (wanted: $pattern)"
  snapshot >"$T/after"
  diff -u "$T/before" "$T/after" >&2 || fail "'$*' changed state"
  log "refused as expected: $out"
}

expect_refused "Pool overlaps with other one on this address space" ctl network create other --subnet 10.82.0.128/25
expect_refused "network with name net1 already exists" ctl network create net1
expect_refused "invalid subnet" ctl network create bad --subnet 10.83.0.1/24
expect_refused "10.83.0.0/33" ctl network create bad --subnet 10.83.0.0/33
expect_refused "com.docker.network.bridge.enable_icc" ctl network create bad -o com.docker.network.bridge.enable_icc=maybe
expect_refused "It does not belong to any of this network's subnets" ctl network connect net1 c2 --netns "$(ns c2)" --ip 10.99.0.5
expect_refused "Address already in use" ctl network connect net1 c2 --netns "$(ns c2)" --ip 10.82.0.2
expect_refused "not found" ctl network connect net1 c2 --netns "${P}-missing"
expect_refused "network nope not found" ctl network connect nope c2 --netns "$(ns c2)"
expect_refused "endpoint with name c1 already exists in network net1" ctl network connect net1 c1 --netns "$(ns c1)"
expect_refused "has active endpoints" ctl network rm net1
expect_refused "is not connected to network net1" ctl network disconnect net1 c2
in_ns c2 ip link show eth0 >/dev/null 2>&1 && fail "a refused connect left eth0 in c2"

log "malformed config: the daemon refuses to start and changes nothing"
stop_daemon TERM
snapshot >"$T/before"
printf '{"networks": [{"name": "x", "subnet": "10.84.0.0/24"}, ' >"$T/broken.json"
out=$(must_fail ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" --config "$T/broken.json")
printf '%s\n' "$out" | grep -c "broken.json" >/dev/null || fail "config error does not name the file: $out"
printf '{"networks": [{"name": "x", "subnet": "10.84.0.0/24"}], "containers": [{"name": "k", "netns": "%s", "networks": [{"name": "x", "ip": "10.85.0.9"}]}]}' "$(ns c2)" >"$T/invalid.json"
out=$(must_fail ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" --config "$T/invalid.json")
printf '%s\n' "$out" | grep -c "10.85.0.9" >/dev/null || fail "config error does not name the bad address: $out"
# A Docker plugin socket another process serves: refused before the (valid)
# config is applied to anything.
printf '{"networks": [{"name": "y", "subnet": "10.86.0.0/24"}]}' >"$T/valid.json"
socat UNIX-LISTEN:"$T/taken.sock",fork /dev/null &
BG_PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$T/taken.sock" ] && break; sleep 0.1; done
out=$(must_fail ip netns exec "$H" "$BPFNETD" --state-dir "$STATE" --bpffs "$PINS" --socket "$SOCK" \
  --cgroup none --config "$T/valid.json" --docker-plugin-socket "$T/taken.sock")
printf '%s\n' "$out" | grep -c "another process is serving it" >/dev/null ||
  fail "a taken plugin socket is not named: $out"
snapshot >"$T/after"
diff -u "$T/before" "$T/after" >&2 || fail "a refused config changed state"
start_daemon
in_ns c1 ping -c 1 -W 2 -q 10.82.0.1 >/dev/null || fail "datapath broken after refused config"
