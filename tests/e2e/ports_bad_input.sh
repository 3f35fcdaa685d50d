#!/usr/bin/env bash
# Malformed or impossible port specs give a clear error and change nothing:
# state file, maps (the port map included), interfaces.
source "$(dirname "$0")/lib.sh"

setup_host
make_ns client; make_ns web; make_ns int
add_uplink up0 10.96.0.1 client 10.96.0.2
start_daemon --uplink up0
ctl network create n --subnet 10.88.0.0/24 >/dev/null
ctl network create other --subnet 10.87.0.0/24 >/dev/null
ctl network create sealed --subnet 10.86.0.0/24 --internal >/dev/null
ctl network connect n web --netns "$(ns web)"
ctl network connect sealed int --netns "$(ns int)"
ctl port-map add web 8080:80 >/dev/null

snap() { snapshot; echo "== portmap"; bpftool -j map dump pinned "$PINS/bpfnet_portmap"; }
snap >"$T/before"
refused() {  # refused PATTERN SPEC... (extra args passed to port-map add)
  local pattern=$1; shift
  local out
  out=$(must_fail ctl port-map add "$@")
  grep -cF -- "$pattern" <<<"$out" >/dev/null || fail "port-map add $*: '$out' (wanted: $pattern)"
  snap >"$T/after"
  diff -u "$T/before" "$T/after" >&2 || fail "port-map add $* changed state"
  log "refused: $* -> $out"
}
refused "80:" web 80:
refused ":80" web :80
refused "70000" web 70000:80
refused "8000-7999" web 8000-7999:80
refused "icmp" web 80/icmp
refused "No such container: ghost" ghost 8080:80
refused "is not connected to network other" web 8081:80 --network other
refused "port is already allocated" web 8080:81
refused "internal" int 8082:80
refused "IPv6" web "[::1]:8083:80"
# Several specs: all or nothing.
refused "port is already allocated" web 8084:80 8080:80
out=$(must_fail ctl port-map rm web 9999)
grep -cF "no public port '9999/tcp' published for web" <<<"$out" >/dev/null || fail "rm wording: $out"
