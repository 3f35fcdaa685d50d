#!/usr/bin/env bash
# Issue 15, packaging: `cpack -G DEB` in the build dir makes a .deb that
# lintian passes without errors; dpkg -i installs bpfnetd, bpfnetctl, the
# unit (systemd-analyze verify passes on it as installed), the conffile
# /etc/bpfnet/config.json, man pages and bash completion; dpkg --purge
# removes every file. Installs on this machine (a test machine), so it
# refuses to run when a bpfnet package is already installed.
set -euo pipefail
BUILD=${BUILD:?the CMake build dir}
log() { printf '[package] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
if dpkg-query -W -f='${Status}' bpfnet 2>/dev/null | grep -q "install ok installed"; then
  fail "a bpfnet package is installed already; not touching it"
fi
installed=0
cleanup() {
  local rc=$?
  [ "$installed" = 1 ] && dpkg --purge bpfnet >/dev/null 2>&1
  if [ $rc -eq 0 ]; then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

log "cpack -G DEB"
(cd "$BUILD" && cpack -G DEB >cpack.log 2>&1) || fail "cpack: $(tail -5 "$BUILD/cpack.log")"
deb=$(ls "$BUILD"/bpfnet_*_*.deb)
log "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libbpf1 libnl-route-3-200 libsystemd0 libstdc++6; do
  grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib (shlibdeps): $deps"
done
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/bpfnet/config.json ] || fail "conffiles"

log "lintian"
lintian --tag-display-limit 0 "$deb" >"$BUILD/lintian.txt" 2>&1 || true
grep -q '^E:' "$BUILD/lintian.txt" && fail "lintian errors: $(grep '^E:' "$BUILD/lintian.txt")"
log "lintian: $(grep -c '^[EW]:' "$BUILD/lintian.txt" || true) errors or warnings"

log "dpkg -i"
installed=1
dpkg -i "$deb" >/dev/null || fail "dpkg -i"
for f in /usr/sbin/bpfnetd /usr/bin/bpfnetctl /usr/lib/cni/bpfnet-cni /usr/lib/cni/bpfnet /usr/lib/systemd/system/bpfnetd.service \
  /etc/bpfnet/config.json /usr/share/man/man8/bpfnetd.8.gz /usr/share/man/man1/bpfnetctl.1.gz \
  /usr/share/bash-completion/completions/bpfnetctl /usr/share/doc/bpfnet/copyright; do
  [ -e "$f" ] || fail "$f not installed"
done
/usr/sbin/bpfnetd --version | grep -q "^bpfnetd " || fail "installed bpfnetd --version"
zcat /usr/share/man/man8/bpfnetd.8.gz | grep -q 'metrics' || fail "man page lacks --metrics"
out=$(systemd-analyze verify /usr/lib/systemd/system/bpfnetd.service 2>&1) || fail "verify: $out"
grep -i "bpfnetd.service" <<<"$out" && fail "systemd-analyze verify complained: $out"
grep -q '^ExecStart=/usr/sbin/bpfnetd .*--config /etc/bpfnet/config.json' \
  /usr/lib/systemd/system/bpfnetd.service || fail "unit ExecStart"
python3 -c 'import json; json.load(open("/etc/bpfnet/config.json"))' || fail "config is not JSON"

log "dpkg --purge leaves nothing"
files=$(dpkg -L bpfnet | while read -r f; do [ -f "$f" ] && echo "$f"; done)
dpkg --purge bpfnet >/dev/null || fail "dpkg --purge"
installed=0
for f in $files; do [ -e "$f" ] && fail "$f left after purge"; done
[ -e /etc/bpfnet ] && fail "/etc/bpfnet left after purge"
log "$(wc -w <<<"$files") files installed and removed"
