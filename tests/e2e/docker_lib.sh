#!/usr/bin/env bash
# The real Docker engine (Debian docker.io 20.10) inside a test's own "host"
# namespace, for end-to-end tests and benchmarks. Source it, call
# docker_require (exits 77 when docker.io cannot be had) and then source lib.sh,
# whose P, T, H, log and fail these functions use; docker_setup chains the
# cleanup of dockerd into lib.sh's EXIT trap.
#
# How dockerd runs in a namespace of its own, leaving nothing behind:
# - `ip netns exec` unshares the mount namespace and remounts /sys, which hides
#   /sys/fs/cgroup (dockerd, containerd and runc need it). So the launcher first
#   unshares a mount namespace of its own (a slave of the root one: nothing
#   mounted in it propagates back), rbinds the real /sys/fs/cgroup onto a
#   directory of the test, and only then `ip netns exec`s into H, where it
#   rbinds that copy back onto the fresh /sys/fs/cgroup.
# - In the same mount namespace a directory of the test is bound over /run: the
#   containerd shims' sockets (hard-wired to /run/containerd/s/), iptables'
#   /run/xtables.lock, and Docker's plugin directory /run/docker/plugins are
#   then private to this test, and a system containerd's socket in the real
#   /run (which dockerd would otherwise use) is not seen. A plugin socket is
#   made visible to this dockerd by creating it in "$DOCKER_PLUGINS".
# - --data-root, --exec-root, --pidfile, the API socket, the config file and
#   the (deprecated) trust key all live in the test's temp dir; containerd is
#   dockerd's own child, with its state under the exec-root.
# - Containers go into a cgroup parent of the test's own (--cgroup-parent),
#   so that cleanup can kill whatever is left and remove the cgroups.
# - dockerd's iptables rules (and docker0) are made in H's network namespace
#   only; the root namespace is never touched.
# - A plugin (bpfnetd --docker-plugin) runs in H too (Docker looks Join's
#   SrcName up in its own network namespace) but in its own mount namespace:
#   give it --docker-plugin-socket "$DOCKER_PLUGINS/NAME.sock". Join's
#   SandboxKey (under the exec-root) is a mount in dockerd's namespace only, so
#   a driver must not need to open it.
# - dockerd runs with --init: busybox as a container's PID 1 ignores SIGTERM,
#   so without tini every stop/restart would wait 10 s for the SIGKILL.

DOCKER_BIN=${DOCKER_BIN:-/usr/bin/docker}   # /usr/local/bin/docker may be another client
DOCKERD_BIN=${DOCKERD_BIN:-/usr/sbin/dockerd}
BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}
DOCKER_IMAGE=bpfnet-busybox:latest
DOCKERD_PID=""

docker_tools_present() {
  [ -x "$DOCKER_BIN" ] && [ -x "$DOCKERD_BIN" ] && command -v containerd >/dev/null &&
    command -v runc >/dev/null && command -v unshare >/dev/null &&
    [ -x "$BUSYBOX_BIN" ] && file_is_static "$BUSYBOX_BIN"
}
file_is_static() { ! LC_ALL=C ldd "$1" >/dev/null 2>&1; }

# Installs docker.io and busybox-static when missing; exits 77 (skip) only when
# they cannot be installed.
docker_require() {
  docker_tools_present && return 0
  echo "[docker] docker.io/busybox-static missing: installing them" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io containerd runc tini iptables busybox-static util-linux >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          docker.io containerd runc tini iptables busybox-static util-linux >&2; } || true
  fi
  docker_tools_present && return 0
  echo "[docker] SKIP: Debian's docker.io (dockerd, containerd, runc) and busybox-static" \
    "cannot be installed here (run scripts/setup.sh); the Docker end-to-end test needs the real engine" >&2
  exit 77
}

# Call after lib.sh is sourced (needs T, P).
docker_setup() {
  DK="$T/docker"
  DOCKER_SOCK="$DK/docker.sock"
  DOCKER_PLUGINS="$DK/run/docker/plugins"   # /run/docker/plugins as dockerd sees it
  DOCKER_CGROUP="bpfnet-e2e-$P"              # --cgroup-parent, one per test
  export DOCKER_HOST="unix://$DOCKER_SOCK"
  export DOCKER_CONFIG="$DK/cli"             # no ~/.docker of the machine's
  mkdir -p "$DK"/{data,exec,run,cg,cli} "$DOCKER_PLUGINS"
  # Not /etc/docker/daemon.json; and the trust key (20.10 writes one) not in /etc/docker.
  printf '{"deprecated-key-path": "%s"}\n' "$DK/key.json" >"$DK/daemon.json"
  trap '__rc=$?; docker_cleanup; (exit $__rc); cleanup' EXIT
}

dk() { "$DOCKER_BIN" -H "unix://$DOCKER_SOCK" "$@"; }

# Starts dockerd in namespace $H (extra dockerd flags as arguments) and waits
# for its API.
docker_start() {
  cat >"$DK/launch.sh" <<'EOF'
# In a new mount namespace (slave of the root one), still in the root netns.
set -e
DK=$1 NS=$2
shift 2
mount --rbind /sys/fs/cgroup "$DK/cg"
exec ip netns exec "$NS" sh -c '
  set -e
  DK=$1; shift
  mount --rbind "$DK/cg" /sys/fs/cgroup   # ip netns exec mounted a fresh /sys
  mount --bind "$DK/run" /run
  exec "$@"' sh "$DK" "$@"
EOF
  # --init: a tini as PID 1 of each container passes SIGTERM on (busybox as
  # PID 1 ignores it, so every stop would wait 10 s for the SIGKILL).
  # DOCKERD_LOG_LEVEL=debug for more (20.10 does not log the plugin calls).
  unshare --mount --propagation slave -- sh "$DK/launch.sh" "$DK" "$H" \
    "$DOCKERD_BIN" \
    -H "unix://$DOCKER_SOCK" \
    --data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/dockerd.pid" \
    --config-file "$DK/daemon.json" \
    --cgroup-parent "/$DOCKER_CGROUP" --exec-opt native.cgroupdriver=cgroupfs \
    --init \
    --log-level "${DOCKERD_LOG_LEVEL:-info}" "$@" \
    >>"$DK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local i
  for i in $(seq 1 300); do
    if dk version >/dev/null 2>&1; then return 0; fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || fail "dockerd exited during start"
    sleep 0.1
  done
  fail "dockerd did not answer on $DOCKER_SOCK"
}

# Stops dockerd (it stops its containers and its containerd first).
docker_stop() {
  [ -n "$DOCKERD_PID" ] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 200); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
  # Its containerd, if it outlived it (it should not), by its pidfile.
  local cpid
  cpid=$(cat "$DK/exec/containerd/containerd.pid" 2>/dev/null || true)
  if [ -n "$cpid" ] && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ]; then
    log "containerd $cpid outlived dockerd: killing it"
    kill -KILL "$cpid" 2>/dev/null || true
  fi
}

docker_log_tail() {
  [ -f "$DK/dockerd.log" ] && { log "--- dockerd log ---"; grep -v "level=info" "$DK/dockerd.log" | tail -n 30 >&2; }
  return 0
}

# The cgroups of our --cgroup-parent, in every hierarchy (v1 and v2).
docker_cgroup_dirs() {
  awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts | while read -r m; do
    [ -d "$m/$DOCKER_CGROUP" ] && echo "$m/$DOCKER_CGROUP"
  done
  return 0
}

# Called from the EXIT trap before lib.sh's cleanup: dockerd first (so that it
# stops its containers), then whatever is left in our cgroups.
docker_cleanup() {
  set +e
  [ -n "${DK:-}" ] || return 0
  if [ -n "$DOCKERD_PID" ]; then
    [ "${__rc:-0}" != 0 ] && docker_log_tail
    docker_stop
  fi
  local d pid
  for d in $(docker_cgroup_dirs); do
    for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
      log "killing $pid left in $d"
      kill -KILL "$pid" 2>/dev/null
    done
  done
  sleep 0.2
  for d in $(docker_cgroup_dirs); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$d" ] && log "cannot remove cgroup $d"
  done
  return 0
}

# A busybox rootfs from busybox-static, imported as $DOCKER_IMAGE (no registry).
docker_import_busybox() {
  local r="$DK/rootfs" a
  rm -rf "$r"  # (a benchmark imports once per pass)
  mkdir -p "$r"/{bin,etc,www,tmp,root,proc,sys,dev}
  cp "$BUSYBOX_BIN" "$r/bin/busybox"
  for a in $("$BUSYBOX_BIN" --list); do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  echo "hello from bpfnet-busybox" >"$r/www/index.html"
  chmod 1777 "$r/tmp"
  tar -C "$r" -c . | dk import -c 'CMD ["sh"]' - "$DOCKER_IMAGE" >/dev/null ||
    fail "docker import of the busybox rootfs"
}

# Address of a container on a network: docker_ip CONTAINER NETWORK
docker_ip() {
  dk inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# Waits until URL answers HTTP from client namespace NS (a container's first
# start takes longer than lib.sh's wait_http allows).
docker_wait_http() {  # docker_wait_http NS URL
  for _ in $(seq 1 50); do
    in_ns "$1" curl -s -o /dev/null --max-time 1 "$2" && return 0
    sleep 0.2
  done
  fail "no HTTP answer from $2 in $1"
}
