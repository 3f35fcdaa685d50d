#!/usr/bin/env bash
# The control socket under hostile or slow clients (issue 12, "Control
# plane"): a request nested deeper than any real one is refused with a clear
# error and the daemon lives on; clients that send nothing, or a byte now and
# then, neither stall others nor the periodic work, and are cut off.
source "$(dirname "$0")/lib.sh"

setup_host
start_daemon

# One raw request over the unix socket; prints the response line (or
# "<closed>" when the daemon closes without one).
RAW_REQUEST='import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip() or "<closed>")'

log "a request nested 520,000 levels deep (1 MB, under the size cap)"
out=$(python3 -c 'import sys; sys.stdout.write("{\"op\":\"network.ls\",\"args\":{\"x\":" + "[" * 520000 + "]" * 520000 + "}}\n")' |
  python3 -c "$RAW_REQUEST" "$SOCK") || fail "deep request: client failed: $out"
log "answer: ${out:0:200}"
printf '%s' "$out" | grep -qF '"ok":false' || fail "deep request not refused: ${out:0:200}"
printf '%s' "$out" | grep -qF 'nested deeper than' || fail "deep request: unclear error: ${out:0:200}"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "bpfnetd died on a deeply nested request"
ctl version >/dev/null || fail "bpfnetd does not answer after a deep request"

log "deep unclosed nesting, and brackets in strings that are not nesting"
out=$(python3 -c 'import sys; sys.stdout.write("{\"op\":\"network.ls\",\"args\":" + "[" * 600000 + "\n")' |
  python3 -c "$RAW_REQUEST" "$SOCK")
printf '%s' "$out" | grep -qF 'nested deeper than' || fail "unclosed deep nesting not refused: ${out:0:200}"
out=$(python3 -c 'import sys; sys.stdout.write("{\"op\":\"ping\",\"pad\":\"" + "[" * 100000 + "\"}\n")' |
  python3 -c "$RAW_REQUEST" "$SOCK")
printf '%s' "$out" | grep -qF '"ok":true' || fail "brackets inside a string are no nesting: ${out:0:200}"

log "a silent client and a trickling client do not stall the others"
# Each writes one line when it connected and one when the daemon closed it.
SILENT='import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
print("connected", flush=True)
t = time.time()
data = s.recv(65536)
print("closed after %.1f s: %s" % (time.time() - t, data.decode().strip() or "<nothing>"), flush=True)'
TRICKLE='import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
print("connected", flush=True)
t = time.time()
try:
    for c in "{\"op\": \"ping\"" * 100:
        s.send(c.encode())
        time.sleep(1)
except OSError:
    pass
data = b""
try:
    data = s.recv(65536)
except OSError:
    pass
print("closed after %.1f s: %s" % (time.time() - t, data.decode().strip() or "<nothing>"), flush=True)'
python3 -c "$SILENT" "$SOCK" >"$T/silent.out" 2>&1 &
BG_PIDS+=($!)
python3 -c "$TRICKLE" "$SOCK" >"$T/trickle.out" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 1 50); do
  grep -q connected "$T/silent.out" 2>/dev/null && grep -q connected "$T/trickle.out" 2>/dev/null && break
  sleep 0.1
done
# Not a timing test: each answer (and the tick below) must come while both
# slow clients are still connected, i.e. before the daemon cut them off.
# A daemon that serves one client at a time answers nobody until then.
still_connected() {
  ! grep -q closed "$T/silent.out" && ! grep -q closed "$T/trickle.out"
}
for i in 1 2 3; do
  timeout 20 "$BPFNETCTL" --socket "$SOCK" network ls >/dev/null ||
    fail "network ls #$i did not answer while a client is slow"
  still_connected || fail "network ls #$i answered only once the slow clients were gone"
  log "network ls #$i answered with a silent and a trickling client connected"
done

log "the periodic work goes on meanwhile: a new host address reaches the maps"
ip -n "$H" link add bntick type veth peer name bntick1
ip -n "$H" addr add 10.99.99.1/32 dev bntick
ip -n "$H" link set bntick1 up
ip -n "$H" link set bntick up
host_addr_mapped() {
  bpftool -j map dump pinned "$PINS/bpfnet_hostaddr" | python3 -c '
import json, sys
keys = [[int(b, 16) for b in e["key"]] for e in json.load(sys.stdin)]
sys.exit(0 if [10, 99, 99, 1] in keys else 1)'
}
# 30 s only bounds a daemon that hangs (one serving a single slow client).
give_up=$((SECONDS + 30))
while ((SECONDS < give_up)); do
  { host_addr_mapped || ! still_connected; } && break
  sleep 0.1
done
host_addr_mapped && still_connected ||
  fail "no tick mapped the new host address while the slow clients were connected"
log "the new host address was mapped while the slow clients were connected"

log "slow clients are cut off"
for _ in $(seq 1 100); do
  grep -q closed "$T/silent.out" && grep -q closed "$T/trickle.out" && break
  sleep 0.1
done
log "silent: $(tail -1 "$T/silent.out")"
log "trickle: $(tail -1 "$T/trickle.out")"
grep -q "closed after.*timed out" "$T/silent.out" || fail "the silent client was not timed out"
grep -q "closed after.*timed out" "$T/trickle.out" || fail "the trickling client was not timed out"
ctl version >/dev/null || fail "bpfnetd does not answer after the slow clients"
