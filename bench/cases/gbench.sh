# shellcheck shell=bash
# The per-packet cost of each BPF path: bench/bench_endpoint (Google
# Benchmark over BPF_PROG_TEST_RUN; full runs only). Sourced by
# scripts/bench.sh (functions of bench/lib.sh).

# Waits (at most 30 s) until the last CPU has been >= 95% idle for a second.
wait_quiet() {
  local cpu="cpu$(($(nproc) - 1))" i a b
  for i in $(seq 1 30); do
    a=$(cpu_idle_total "$cpu")
    sleep 1
    b=$(cpu_idle_total "$cpu")
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
      exit !((y[2] - x[2]) > 0 && (y[1] - x[1]) / (y[2] - x[2]) >= 0.95) }' && return 0
  done
  log "warning: $cpu did not get quiet; measuring anyway"
}
cpu_idle_total() {  # cpu_idle_total CPU: "IDLE TOTAL" jiffies from /proc/stat
  awk -v c="$1" '$1 == c { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

run_gbench() {
  log "per-packet cost of each BPF path: $BENCH_ENDPOINT (repetitions: $GBENCH_REPS, interleaved)"
  # On the last CPU, away from where the machine's interrupts mostly land;
  # repetitions in random order, so that drift over the run is not mistaken
  # for a difference between table sizes.
  taskset -c "$(($(nproc) - 1))" "$BENCH_ENDPOINT" --benchmark_repetitions="$GBENCH_REPS" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$T/gbench.json" \
    --benchmark_out_format=json >"$T/gbench.txt" 2>"$T/gbench.err" \
    || { tail -20 "$T/gbench.err" >&2; die "bench_endpoint failed"; }
  grep -h "harness with an empty program" "$T/gbench.err" >&2 || true
}
