#!/usr/bin/env bash
# --netns takes a name under /var/run/netns or a path that is a network
# namespace, nothing else (issue 12, "Control plane"): a FIFO (whose open
# would wait for a writer forever), a device, a regular file, a directory,
# another kind of namespace are each refused at once with an error naming
# the path, and nothing changes.
source "$(dirname "$0")/lib.sh"

setup_host
start_daemon
make_ns c1; make_ns c2
ctl network create net1 --subnet 10.88.0.0/24 >/dev/null
ctl network connect net1 c1 --netns "$(ns c1)"
snapshot >"$T/before"

mkfifo "$T/fifo"
mkdir "$T/dir"
ln -s "$T/fifo" "$T/link-to-fifo"
: >"$T/stale"  # what a /var/run/netns entry is once its bind mount is gone

refused_quickly() {  # refused_quickly PATH
  local path=$1 out rc=0 start ms
  start=$(date +%s%N)
  out=$(timeout 5 "$BPFNETCTL" --socket "$SOCK" network connect net1 c2 --netns "$path" 2>&1) || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  [ "$rc" -ne 124 ] || fail "--netns $path: no answer within 5 s (the daemon is stuck)"
  [ "$rc" -ne 0 ] || fail "--netns $path: accepted"
  printf '%s\n' "$out" | grep -qF "\"$path\" is not a network namespace" ||
    fail "--netns $path: unclear error: $out"
  snapshot >"$T/after"
  diff -u "$T/before" "$T/after" >&2 || fail "--netns $path changed state"
  log "refused in ${ms} ms: $out"
}

refused_quickly "$T/fifo"
refused_quickly "$T/link-to-fifo"
refused_quickly /etc/passwd
refused_quickly /dev/zero
refused_quickly /dev/null
refused_quickly "$T/dir"
refused_quickly "$T/stale"
refused_quickly /proc/self/ns/mnt
ctl version >/dev/null || fail "the daemon does not answer after the refusals"

log "real namespaces are still taken, by name and by path"
ctl network connect net1 c2 --netns "/var/run/netns/$(ns c2)"
in_ns c2 ping -c 1 -W 2 -q 10.88.0.1 >/dev/null || fail "c2 (by path) cannot reach its gateway"
ctl network disconnect net1 c2
ctl network connect net1 c2 --netns "$(ns c2)"
in_ns c2 ping -c 1 -W 2 -q 10.88.0.1 >/dev/null || fail "c2 (by name) cannot reach its gateway"
