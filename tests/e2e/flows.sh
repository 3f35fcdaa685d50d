#!/usr/bin/env bash
# bpfnetctl flows (issue 14): an outside client on the uplink reaches a
# container's published TCP and UDP ports; `flows CONTAINER -o json` shows
# each flow with the client's real address, the published address, the
# container and its network, per-direction states and nonzero counters both
# ways; another container's flows are empty; unknown names are errors; the
# table and --watch print. UPLINK_MODE picks the uplink path.
source "$(dirname "$0")/lib.sh"

setup_host
for n in client web other; do make_ns $n; done
add_uplink up0 10.99.0.1 client 10.99.0.2
start_daemon --uplink "$(uplink_arg up0)" $(uplink_flags)
ctl network create front --subnet 10.90.0.0/24 >/dev/null
ctl network connect front web --netns "$(ns web)" >/dev/null
ctl network connect front other --netns "$(ns other)" >/dev/null
ctl port-map add web 8080:80 5353:53/udp >/dev/null

# web: a TCP server that answers each line and keeps the connection open,
# and a UDP echo.
bg_in_ns web python3 -c '
import socket, threading
def serve(c):
    f = c.makefile("rb")
    for line in f:
        c.sendall(b"pong " + line)
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 80)); t.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
def echo():
    while True:
        d, a = u.recvfrom(2048); u.sendto(d, a)
threading.Thread(target=echo, daemon=True).start()
while True:
    c, _ = t.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
'
for _ in $(seq 1 50); do in_ns web ss -Hltn "sport = :80" | grep -q . && break; sleep 0.1; done

# The client: a TCP connection that exchanges three lines and stays open,
# and one UDP query answered.
bg_in_ns client python3 -c '
import socket, time
s = socket.create_connection(("10.99.0.1", 8080), timeout=5)
f = s.makefile("rb")
for i in range(3):
    s.sendall(b"ping %d\n" % i); f.readline()
print("tcp ok", flush=True)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
u.sendto(b"query", ("10.99.0.1", 5353)); u.recvfrom(100)
print("udp ok", flush=True)
time.sleep(60)
'
for _ in $(seq 1 50); do grep -q "udp ok" "$T/bg-client.log" && break; sleep 0.1; done
grep -q "udp ok" "$T/bg-client.log" || fail "client: $(cat "$T/bg-client.log")"

flows=$(ctl flows web -o json) || fail "flows web failed"
log "flows web -o json: $flows"
tcp=$(jq -c '[.[] | select(.proto == "tcp")]' <<<"$flows")
[ "$(jq length <<<"$tcp")" = 1 ] || fail "want one TCP flow of web, got: $tcp"
check_flow() {  # check_flow JSON ADDRESS SERVER
  local f=$1 address=$2 server=$3
  jq -e --arg a "$address" --arg s "$server" '.[0] |
      (.client | startswith("10.99.0.2:")) and .address == $a and .address_kind == "published"
      and .container == "web" and .network == "front" and .server == $s and .nat == "DNAT"
      and .client_packets > 0 and .client_bytes > 0
      and .server_packets > 0 and .server_bytes > 0 and .age_ms >= 0' <<<"$f" >/dev/null ||
    fail "flow to $address: $f"
}
check_flow "$tcp" 10.99.0.1:8080 10.90.0.2:80
jq -e '.[0] | .client_state == "ESTABLISHED" and .server_state == "ESTABLISHED"
       and .client_packets >= 5 and .server_packets >= 4' <<<"$tcp" >/dev/null ||
  fail "TCP states and counts (SYN, ACK, 3 lines / SYN-ACK, 3 answers): $tcp"
udp=$(ctl flows web --proto udp -o json)
[ "$(jq length <<<"$udp")" = 1 ] || fail "want one UDP flow of web, got: $udp"
check_flow "$udp" 10.99.0.1:5353 10.90.0.2:53
jq -e '.[0] | .client_packets == 1 and .server_packets == 1 and .client_bytes == 33
       and .server_bytes == 33' <<<"$udp" >/dev/null ||
  fail "UDP: one 33-byte datagram each way (20 IP + 8 UDP + 5): $udp"

log "filters: another container, the network, unknown names"
[ "$(ctl flows other -o json | jq length)" = 0 ] || fail "flows other: $(ctl flows other -o json)"
[ "$(ctl flows --network front -o json | jq length)" = 2 ] || fail "flows --network front"
[ "$(ctl flows --proto tcp -o json | jq length)" = 1 ] || fail "flows --proto tcp"
err=$(must_fail ctl flows nope)
grep -q "No such container: nope" <<<"$err" || fail "unknown container: $err"
err=$(must_fail ctl flows --network nope)
grep -q "network nope not found" <<<"$err" || fail "unknown network: $err"
err=$(must_fail ctl flows --service nope)
grep -q "service nope not found" <<<"$err" || fail "unknown service: $err"

log "table and --watch"
table=$(ctl flows web)
log "$table"
head -1 <<<"$table" | grep -q "^PROTO  *CLIENT  *ADDRESS  *CONTAINER" || fail "table header: $table"
grep -q "^tcp  *10.99.0.2:[0-9]*  *10.99.0.1:8080  *web  *front" <<<"$table" || fail "table row: $table"
watched=$(timeout 2.5 "$BPFNETCTL" --socket "$SOCK" flows web --watch || true)
[ "$(grep -c '^PROTO' <<<"$watched")" -ge 2 ] || fail "--watch printed: $watched"
log "ok"
