#!/usr/bin/env bash
# The shipped unit passes `systemd-analyze verify`, and bpfnetd honours the
# Type=notify contract: READY=1 on $NOTIFY_SOCKET once the datapath is
# reconciled (checked with a datagram socket of the test's own).
source "$(dirname "$0")/lib.sh"

unit="$T/bpfnetd.service"
# verify checks that ExecStart exists: point it at the binary under test.
sed "s|/usr/local/sbin/bpfnetd|$BPFNETD|" "$ROOT/scripts/bpfnetd.service" >"$unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
if printf '%s\n' "$out" | grep -i "bpfnetd.service" | grep -qiv "Documentation"; then
  fail "systemd-analyze verify complained: $out"
fi
grep -q '^Type=notify' "$unit" || fail "unit is not Type=notify"

setup_host
python3 - "$T/notify.sock" "$T/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg + "\n"); out.flush()
        if "READY=1" in msg:
            break
PY
LISTENER=$!
BG_PIDS+=($LISTENER)
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done

make_ns c1
printf '{"networks":[{"name":"n","subnet":"10.86.0.0/24"}],"containers":[{"name":"c1","netns":"%s","networks":["n"]}]}' "$(ns c1)" >"$T/cfg.json"
NOTIFY_SOCKET="$T/notify.sock" start_daemon --config "$T/cfg.json"
wait "$LISTENER" || fail "no READY=1 on NOTIFY_SOCKET"
grep -q "READY=1" "$T/notify.out" || fail "notify message: $(cat "$T/notify.out")"
# READY means reconciled: the configured container is already plumbed.
in_ns c1 ping -c 1 -W 2 -q 10.86.0.1 >/dev/null || fail "READY sent before the datapath was ready"
