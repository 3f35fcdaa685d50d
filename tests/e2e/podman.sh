#!/usr/bin/env bash
# Issue 15: real podman (Debian 4.3, CNI backend) with bpfnet-cni. Config,
# storage and plugin dir are the test's own; the containers run busybox
# from a --rootfs. `podman run --network web -p 8080:80` serves a client on
# the uplink with the client's own address kept, two podman containers on
# web reach each other, a container on another network does not, a bpfnetd
# restart keeps them connected, and `podman rm -f` leaves nothing behind.
source "$(dirname "$0")/lib.sh"
CNI=${BPFNET_CNI:?path of bpfnet-cni}
command -v podman >/dev/null || fail "podman is needed (scripts/setup.sh installs it)"
BUSYBOX=$(command -v busybox) || fail "busybox-static is needed"

setup_host
make_ns client; make_ns other
add_uplink up0 10.97.0.1 client 10.97.0.2
start_daemon --uplink up0
ctl network create elsewhere --subnet 10.98.9.0/24 >/dev/null
ctl network connect elsewhere other --netns "$(ns other)" >/dev/null  # 10.98.9.2
bnv_links() { ip -n "$H" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^bnv' | sort; }
veths_before=$(bnv_links)

PM="$T/podman"
mkdir -p "$PM/bin" "$PM/cni" "$PM/rootfs/bin" "$PM/rootfs/www" "$PM/storage" "$PM/run"
ln -s "$CNI" "$PM/bin/bpfnet"
cp "$BUSYBOX" "$PM/rootfs/bin/busybox"
echo "hello from podman" >"$PM/rootfs/www/index.html"
cat >"$PM/cni/web.conflist" <<JSON
{"cniVersion":"1.0.0","name":"web","plugins":[{"type":"bpfnet","network":"web","subnet":"10.98.0.0/24",
 "socket":"$SOCK","capabilities":{"portMappings":true,"ips":true,"mac":true}}]}
JSON
cat >"$PM/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PM/bin", "/usr/lib/cni"]
network_config_dir = "$PM/cni"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
export CONTAINERS_CONF="$PM/containers.conf"
pm() { podman --root "$PM/storage" --runroot "$PM/run" --storage-driver vfs "$@"; }
podman_cleanup() {
  local rc=$?
  set +e  # or `(exit 1)` below would end the trap before lib.sh's cleanup
  pm rm -f -a >/dev/null 2>&1
  (exit $rc)
  cleanup  # lib.sh's, with the test's exit status
}
trap podman_cleanup EXIT
# This machine's hard limits are below podman's defaults.
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

log "podman run --network web -p 8080:80"
pm run -d --name web1 "${LIMITS[@]}" --network web -p 8080:80 --rootfs "$PM/rootfs" \
  /bin/busybox httpd -f -v -p 80 -h /www >/dev/null || fail "podman run web1"
pm run -d --name web2 "${LIMITS[@]}" --network web --rootfs "$PM/rootfs" \
  /bin/busybox sleep 600 >/dev/null || fail "podman run web2"
ctl network inspect web >"$T/web.json"
ip1=$(python3 -c 'import json,sys; print([c["IPv4Address"] for c in json.load(open(sys.argv[1]))[0]["Containers"].values() if True][0].split("/")[0])' "$T/web.json")
[ "$(grep -c '"Name": "cni-' "$T/web.json")" = 2 ] || fail "bpfnetctl does not show both podman containers: $(cat "$T/web.json")"
wait_http client http://10.97.0.1:8080/
[ "$(in_ns client curl -s --max-time 2 http://10.97.0.1:8080/)" = "hello from podman" ] || fail "published port"
# httpd logs the client once the response is sent: give it a moment. (The
# log is read whole first: `pm logs | grep -q` fails under pipefail when grep
# stops reading early.)
seen=""
for i in $(seq 1 50); do
  seen=$(pm logs web1 2>&1 || true)
  grep -q "10.97.0.2" <<<"$seen" && break
  sleep 0.1
done
grep -q "10.97.0.2" <<<"$seen" || fail "web1 did not see the client's address: $(tail -3 <<<"$seen")"
log "client 10.97.0.2 served through the published port, its address kept"

web1_ip=$(pm inspect web1 --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
[ -n "$web1_ip" ] || web1_ip=$ip1
# busybox nc as the client (its wget exits silently in this rootfs).
fetch_from_web2() {
  printf 'GET / HTTP/1.0\r\n\r\n' | pm exec -i web2 /bin/busybox nc -w 2 "$1" 80 2>&1 || true
}
out=$(fetch_from_web2 "$web1_ip")
grep -q "hello from podman" <<<"$out" || fail "web2 -> web1 ($web1_ip): $out"
in_ns other curl -s --max-time 1 "http://$web1_ip/" >/dev/null && fail "another network reached web1"
log "web2 reaches web1 at $web1_ip; a container of network elsewhere does not"

log "bpfnetd restart keeps podman's containers connected"
stop_daemon TERM
start_daemon --uplink up0
[ "$(in_ns client curl -s --max-time 2 http://10.97.0.1:8080/)" = "hello from podman" ] || fail "published port after restart"
fetch_from_web2 "$web1_ip" | grep -q "hello from podman" || fail "web2 -> web1 after restart"

log "podman rm -f leaves nothing behind"
pm rm -f web1 web2 >/dev/null || fail "podman rm -f"
ctl network inspect web | grep -q '"Name": "cni-' && fail "endpoints left: $(ctl network inspect web)"
[ "$(bnv_links)" = "$veths_before" ] || fail "veths left: $(bnv_links)"
[ "$(ctl port-map ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] || fail "published ports left"
