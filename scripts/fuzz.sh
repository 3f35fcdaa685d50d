#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) in ./build-fuzz
# and runs each for SECONDS (default 60), starting from the committed seed
# corpora (fuzz/corpus/TARGET) and the corpus earlier runs grew
# (build-fuzz/corpus/TARGET). Fails when any target crashes or breaks an
# invariant; the input is saved as build-fuzz/artifacts/TARGET-crash-*.
# The packet target needs root (BPF programs, a network namespace); without
# root it is skipped. See fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-fuzz"
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(address port_spec config state control_request docker_plugin packet)

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DBPFNET_FUZZ=ON >/dev/null
ninja -C "$BUILD" $(printf 'fuzz_%s ' "${TARGETS[@]}") >/dev/null

failed=()
for t in "${TARGETS[@]}"; do
  if [ "$t" = packet ] && [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: $t: skipped (needs root)"
    continue
  fi
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts" "$BUILD/logs"
  log="$BUILD/logs/$t.log"
  # -entropic=0: the default entropic schedule spends most of the time
  # weighing features here; plain coverage finds as much.
  if "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -entropic=0 -print_funcs=0 \
    -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
    "$BUILD/corpus/$t" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    open=$({ grep '^open item (issue 12): .* broken by' "$log" || true; } |
      sed 's/^open item (issue 12): /; /' | tr -d '\n')
    echo "fuzz: $t: ${runs:-?} executions in ${SECONDS_EACH} s, no crash${open:+ (not fatal$open)}"
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
