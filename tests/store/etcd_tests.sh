#!/usr/bin/env bash
# Runs store_etcd_tests (argument 1) against a 3-member etcd cluster of its
# own (scripts/etcd_cluster.sh, path in $ETCD_CLUSTER): the test binary runs
# in the cluster's client namespace and drives the members (kill, restart)
# through the same script. Everything goes at exit, even on failure.
set -euo pipefail
BIN=${1:?usage: etcd_tests.sh STORE_ETCD_TESTS [gtest args]}
shift
: "${ETCD_CLUSTER:?ETCD_CLUSTER must point at scripts/etcd_cluster.sh}"
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  echo "etcd_tests: etcd and etcdctl are missing (scripts/setup.sh installs etcd-server, etcd-client)" >&2
  exit 1
fi
# On tmpfs when there is one: etcd fsyncs every write, and on a busy disk
# that, not the client, would be what the timings measure.
T=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/bpfnet-store.XXXXXX")
cleanup() {
  local rc=$?
  set +e
  bash "$ETCD_CLUSTER" "$T" down
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash "$ETCD_CLUSTER" "$T" up "es$$"
ETCD_ENDPOINTS=$(bash "$ETCD_CLUSTER" "$T" endpoints)
export ETCD_CLUSTER_DIR=$T ETCD_ENDPOINTS
bash "$ETCD_CLUSTER" "$T" exec "$BIN" "$@"
