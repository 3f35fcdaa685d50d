#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs every test
# (unit, BPF program, netlink, CLI, end to end) through CTest. Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: run as root (BPF programs, network namespaces)" >&2
  exit 1
fi
bash "$ROOT/scripts/build.sh"
cd "$ROOT/build"
ctest --output-on-failure "$@"
