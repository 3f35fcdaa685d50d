#!/usr/bin/env bash
# Installs every build, test and demo dependency from Debian packages.
# Idempotent: apt-get only runs when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev
  libfmt-dev libboost-program-options-dev libbenchmark-dev libgtest-dev
  nlohmann-json3-dev libnl-3-dev libnl-route-3-dev libsystemd-dev
  iproute2 iputils-ping ethtool curl iperf3 python3 socat procps systemd
  libboost-dev
  # The Docker driver's end-to-end test: the real engine (20.10) and a busybox
  # rootfs imported as a local image (no registry needed). util-linux gives unshare.
  docker.io containerd runc tini iptables busybox-static util-linux
  # The cluster store (issue 13): etcd 3.4 for the tests and the demo, the
  # gRPC C++ client, and etcd's v3 .proto files (golang-etcd-server-dev,
  # which brings the gogoproto and google.api protos they import).
  etcd-server etcd-client libgrpc++-dev libprotobuf-dev protobuf-compiler
  protobuf-compiler-grpc golang-etcd-server-dev
  # Metrics (issue 14): promtool checks /metrics and a real Prometheus server
  # scrapes it in the tests; libpcap writes the monitor's capture files.
  prometheus libpcap-dev tcpdump
  # Issue 15: podman (CNI backend) for bpfnet-cni's end-to-end test, the
  # reference CNI plugins (loopback), and the .deb's man pages and lint.
  podman containernetworking-plugins help2man lintian
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# bpffs for the default pin dir; harmless when already mounted.
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
