#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) in ./build-fuzz
# and runs each for SECONDS (default 60), starting from the committed seed
# corpora (fuzz/corpus/TARGET) and the corpus earlier runs grew
# (build-fuzz/corpus/TARGET). Fails when any target crashes or breaks an
# invariant; the input is saved as build-fuzz/artifacts/TARGET-crash-*.
# The packet target needs root (BPF programs, a network namespace); without
# root it is skipped. It runs on after a broken invariant
# (BPFNET_FUZZ_KEEP_GOING, fuzz/packet_fuzzer.cc), so that its failure
# lists every invariant the datapath breaks, each with how many frames broke
# it and the first input (build-fuzz/artifacts/packet-broken/INVARIANT).
# BPFNET_FUZZ_RUNS=N runs each target for N executions instead of SECONDS;
# BPFNET_FUZZ_FLAGS adds libFuzzer flags (e.g. -max_len=256);
# BPFNET_FUZZ_SEEDS_ONLY=1 starts from the committed seeds alone (what CI's
# short run does: the grown corpus would take longer to replay than to fuzz).
# --build-only builds the targets and stops. See fuzz/README.md.
#
#   scripts/fuzz.sh [--build-only | SECONDS] [TARGET...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-fuzz"
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(address port_spec config state control_request docker_plugin packet cluster_records cni_input monitor_event flows_result)

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DBPFNET_FUZZ=ON >/dev/null
ninja -C "$BUILD" $(printf 'fuzz_%s ' "${TARGETS[@]}") >/dev/null
[ "$SECONDS_EACH" != --build-only ] || exit 0

# New inputs go to the first corpus dir: build-fuzz's, or a scratch one.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

failed=()
for t in "${TARGETS[@]}"; do
  if [ "$t" = packet ] && [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: $t: skipped (needs root)"
    continue
  fi
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts" "$BUILD/logs" "$SCRATCH/$t"
  grown="$BUILD/corpus/$t"
  [ -z "${BPFNET_FUZZ_SEEDS_ONLY:-}" ] || grown="$SCRATCH/$t"
  log="$BUILD/logs/$t.log"
  limit=(-max_total_time="$SECONDS_EACH")
  [ -z "${BPFNET_FUZZ_RUNS:-}" ] || limit=(-runs="$BPFNET_FUZZ_RUNS")
  broken_dir="$BUILD/artifacts/$t-broken"
  rm -rf "$broken_dir"
  [ "$t" != packet ] || mkdir -p "$broken_dir"
  # -entropic=0: the default entropic schedule spends most of the time
  # weighing features here; plain coverage finds as much.
  start=$(date +%s)
  rc=0
  BPFNET_FUZZ_KEEP_GOING=$([ "$t" != packet ] || echo "$broken_dir") \
    "$BUILD/fuzz/fuzz_$t" "${limit[@]}" ${BPFNET_FUZZ_FLAGS:-} -entropic=0 -print_funcs=0 -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/$t-" "$grown" "$ROOT/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  took=$(($(date +%s) - start))
  broken=$({ grep '^invariant .* broken by' "$log" || true; } | sed 's/^invariant //')
  if [ "$rc" -eq 0 ] && [ -z "$broken" ]; then
    echo "fuzz: $t: ${runs:-?} executions in ${took} s, no crash"
  elif [ "$rc" -eq 0 ]; then
    echo "fuzz: $t: FAILED: ${runs:-?} executions in ${took} s, no crash, broken invariants:"
    printf '%s\n' "$broken" | sed "s|^\([^ ]*\) .*|  &  (first input: $broken_dir/\1)|"
    failed+=("$t")
  else
    echo "fuzz: $t: FAILED (log $log):"
    grep -E 'INVARIANT BROKEN|ERROR:|SUMMARY|Test unit written' -A2 "$log" | head -n 20 | sed 's/^/  /'
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
