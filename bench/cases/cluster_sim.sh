# shellcheck shell=bash
# Issue 13, the overlay control plane at scale by simulation: bench/cluster_sim
# (SIM_HOSTS hosts x SIM_ENDPOINTS endpoints, bpfnetd's control plane over
# fakes) against one real etcd (Debian's etcd-server) in a namespace of the
# run's own, on its loopback, with its data in the run's temp dir. Twice:
# with the cluster's wake fd (bpfnetd as it is) and with the 200 ms tick
# alone (as it was). Sourced by scripts/bench_overlay.sh.

# etcd's data dir is on tmpfs (/dev/shm) where there is one: the simulation
# measures the control plane, and 50 hosts' writes on a shared machine's disk
# would measure its fsyncs (a real etcd's disk adds its fsync, ~1-10 ms, to
# every write).
SIM_ETCD_DATA=""
sim_etcd_up() {
  make_ns etcd
  rm -rf "$T/etcd-sim"
  mkdir -p "$T/etcd-sim"
  SIM_ETCD_DATA=$(mktemp -d /dev/shm/bpfnet-bench-etcd.XXXXXX 2>/dev/null || mktemp -d "$T/etcd-data.XXXXXX")
  in_ns etcd etcd --name sim --data-dir "$SIM_ETCD_DATA/data" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster sim=http://127.0.0.1:2380 --logger zap --log-outputs "$T/etcd-sim/etcd.log" \
    </dev/null >"$T/etcd-sim/etcd.out" 2>&1 &
  SIM_ETCD=$!
  BG_PIDS+=("$SIM_ETCD")
  local _
  for _ in $(seq 1 100); do
    in_ns etcd env ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:2379 --dial-timeout 1s \
      endpoint health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "etcd did not start: $(tail -3 "$T/etcd-sim/etcd.out")"
}
sim_etcd_down() {
  kill "$SIM_ETCD" 2>/dev/null; wait "$SIM_ETCD" 2>/dev/null || true
  del_ns etcd
  [ -n "$SIM_ETCD_DATA" ] && rm -rf "$SIM_ETCD_DATA"
  SIM_ETCD_DATA=""
}

# SIM_LEASE_TTL (30 s): at 50 hosts on a loaded 2-core machine, keep-alive
# threads starved past bpfnetd's default 10 s and leases expired mid-run (a
# simulation artifact: each real host has its own CPUs).
SIM_LEASE_TTL=${SIM_LEASE_TTL:-30}
run_cluster_sim() {  # run_cluster_sim wake|tick
  local mode=$1 flags=()
  [ "$mode" = tick ] && flags=(--no-wake)
  log "(13) control plane: $SIM_HOSTS hosts x $SIM_ENDPOINTS endpoints against one etcd ($mode)"
  sim_etcd_up
  in_ns etcd "$CLUSTER_SIM" --store 127.0.0.1:2379 --hosts "$SIM_HOSTS" --endpoints "$SIM_ENDPOINTS" \
    --probes "$SIM_PROBES" --probe-gap-ms "$SIM_GAP_MS" --lease-ttl-s "$SIM_LEASE_TTL" --dir "$T/sim" "${flags[@]}" \
    >"$T/sim-$mode.json" 2>"$T/sim-$mode.err" || { tail -20 "$T/sim-$mode.err" >&2; die "cluster_sim failed"; }
  rm -rf "$T/sim"
  sim_etcd_down
  "$PY" -m json.tool "$T/sim-$mode.json" >&2
}

run_overlay_gbench() {
  log "(13) tunnel map lookups: $BENCH_ENDPOINT --benchmark_filter=overlay_encap (repetitions: $GBENCH_REPS)"
  taskset -c "$(($(nproc) - 1))" "$BENCH_ENDPOINT" --benchmark_filter=overlay_encap \
    --benchmark_repetitions="$GBENCH_REPS" --benchmark_enable_random_interleaving=true \
    --benchmark_out="$T/gbench.json" --benchmark_out_format=json >"$T/gbench.txt" 2>"$T/gbench.err" \
    || { tail -20 "$T/gbench.err" >&2; die "bench_endpoint failed"; }
}
