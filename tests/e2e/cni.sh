#!/usr/bin/env bash
# Issue 15: bpfnet-cni driven as CNI runtimes drive it (env + stdin, result
# or error object on stdout): ADD with portMappings in go-cni's capitals and
# containerd's CNI_ARGS, the published port answering a client on the uplink
# with its own address, CHECK, a second ADD refused, DEL idempotent (also
# with an empty netns, as nerdctl sends before ADD), GC of attachments the
# runtime no longer knows, STATUS 50 without bpfnetd, VERSION.
source "$(dirname "$0")/lib.sh"
CNI=${BPFNET_CNI:?path of bpfnet-cni}

setup_host
make_ns client; make_ns pod1; make_ns pod2; make_ns other
add_uplink up0 10.95.0.1 client 10.95.0.2
start_daemon --uplink up0
ctl network create elsewhere --subnet 10.96.9.0/24 >/dev/null
ctl network connect elsewhere other --netns "$(ns other)" >/dev/null

conf() {  # conf VERSION [RUNTIMECONFIG]
  printf '{"cniVersion":"%s","name":"web","type":"bpfnet","network":"web","subnet":"10.96.0.0/24","socket":"%s","capabilities":{"portMappings":true,"ips":true,"mac":true}%s}' \
    "$1" "$SOCK" "${2:+,\"runtimeConfig\":$2}"
}
cni() {  # cni COMMAND CONTAINERID NETNS IFNAME STDIN: prints stdout, returns the exit code
  ip netns exec "$H" env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="$4" CNI_PATH=/usr/lib/cni CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=p;IgnoreUnknown=1" \
    "$CNI" <<<"$5"
}
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

log "VERSION"
out=$(cni VERSION "" "" "" '{"cniVersion":"1.1.0"}')
[ "$(jq_py 'd["supportedVersions"]' <<<"$out")" = "['1.0.0', '1.1.0']" ] || fail "VERSION: $out"

log "ADD creates the network (subnet given) and attaches pod1 with a published port"
out=$(cni ADD pod1id "/var/run/netns/$(ns pod1)" eth0 \
  "$(conf 1.0.0 '{"portMappings":[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp"}]}')") ||
  fail "ADD: $out"
echo "$out" >"$T/add.json"
[ "$(jq_py 'd["cniVersion"]' <"$T/add.json")" = 1.0.0 ] || fail "cniVersion not echoed: $out"
[ "$(jq_py 'd["ips"][0]["address"], d["ips"][0]["gateway"], d["ips"][0]["interface"]' <"$T/add.json")" = "10.96.0.2/24 10.96.0.1 1" ] ||
  fail "ips: $out"
[ "$(jq_py 'd["interfaces"][1]["name"], d["interfaces"][1]["sandbox"]' <"$T/add.json")" = "eth0 /var/run/netns/$(ns pod1)" ] ||
  fail "interfaces: $out"
[ "$(jq_py 'd["routes"][0]["dst"], d["routes"][0]["gw"]' <"$T/add.json")" = "0.0.0.0/0 10.96.0.1" ] || fail "routes: $out"
host_veth=$(jq_py 'd["interfaces"][0]["name"]' <"$T/add.json")
ip -n "$H" link show "$host_veth" >/dev/null || fail "host veth $host_veth missing"
in_ns pod1 ip -4 -o addr show dev eth0 | grep -q "10.96.0.2/24" || fail "pod1 address"
ctl network inspect web | grep -q '"Name": "cni-pod1id"' || fail "bpfnetctl does not show cni-pod1id"
bg_in_ns pod1 python3 "$ROOT/scripts/httpd.py" --port 80 --name pod1
wait_http client http://10.95.0.1:8080/
seen=$(in_ns client curl -s --max-time 2 http://10.95.0.1:8080/)
grep -q "pod1" <<<"$seen" || fail "published port answered: $seen"
grep -q '10.95.0.2' "$T/bg-pod1.log" || fail "pod1 did not see the client's own address: $(cat "$T/bg-pod1.log")"

log "CHECK passes; a second ADD on the same interface is refused with a CNI error"
out=$(cni CHECK pod1id "/var/run/netns/$(ns pod1)" eth0 "$(conf 1.0.0)") || fail "CHECK: $out"
out=$(cni ADD pod1id "/var/run/netns/$(ns pod1)" eth0 "$(conf 1.0.0)") && fail "second ADD accepted: $out"
[ "$(jq_py 'd["code"] >= 100 and "already" in d["msg"]' <<<"$out")" = True ] || fail "second ADD error: $out"
in_ns pod1 ip addr flush dev eth0
out=$(cni CHECK pod1id "/var/run/netns/$(ns pod1)" eth0 "$(conf 1.0.0)") && fail "CHECK passed without the address"
grep -q "does not hold 10.96.0.2/24" <<<"$out" || fail "CHECK error: $out"

log "pod2 on web reaches pod1; a container of another network does not"
cni ADD pod2id "/var/run/netns/$(ns pod2)" eth0 "$(conf 1.1.0 '{"ips":["10.96.0.50/24"],"mac":"02:00:00:00:00:50"}')" >/dev/null ||
  fail "ADD pod2"
in_ns pod2 ip link show eth0 | grep -q 02:00:00:00:00:50 || fail "mac not honoured"
in_ns pod2 ip -4 -o addr show dev eth0 | grep -q 10.96.0.50/24 || fail "ip not honoured"
in_ns pod2 ping -c 1 -W 2 -q 10.96.0.1 >/dev/null || fail "pod2 -> gateway"
in_ns other ping -c 1 -W 1 -q 10.96.0.50 >/dev/null && fail "another network reached pod2"

log "DEL is idempotent, also with an empty netns; GC removes what the runtime forgot"
cni DEL pod1id "" eth0 "$(conf 1.0.0)" >/dev/null || fail "DEL with empty netns"
cni DEL pod1id "" eth0 "$(conf 1.0.0)" >/dev/null || fail "second DEL"
ctl network inspect web | grep -q cni-pod1id && fail "pod1 still attached after DEL"
ip -n "$H" link show "$host_veth" >/dev/null 2>&1 && fail "host veth left after DEL"
[ "$(ctl port-map ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] || fail "published port left after DEL"
cni GC "" "" "" '{"cniVersion":"1.1.0","name":"web","network":"web","socket":"'"$SOCK"'","cni.dev/valid-attachments":[{"containerID":"nope","ifname":"eth0"}]}' >/dev/null ||
  fail "GC"
ctl network inspect web | grep -q cni-pod2id && fail "GC kept pod2, which the runtime no longer knows"
ctl network inspect elsewhere | grep -q '"Name": "other"' || fail "GC removed a container that is not CNI's"

log "STATUS: 0 with bpfnetd, 50 without"
cni STATUS "" "" "" "$(conf 1.1.0)" >/dev/null || fail "STATUS with the daemon up"
stop_daemon TERM
out=$(cni STATUS "" "" "" "$(conf 1.1.0)") && fail "STATUS passed with the daemon down"
[ "$(jq_py 'd["code"]' <<<"$out")" = 50 ] || fail "STATUS code: $out"
out=$(cni ADD pod3id "/var/run/netns/$(ns pod2)" eth0 "$(conf 0.4.0)") && fail "0.4.0 accepted"
[ "$(jq_py 'd["code"]' <<<"$out")" = 1 ] || fail "version error: $out"
