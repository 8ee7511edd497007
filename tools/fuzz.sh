#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, coverage) and runs each for a while.
#   tools/fuzz.sh [seconds per target, default 600] [target ...]   (targets: fuzz/*.cpp names)
# Each target starts from its committed seeds (fuzz/corpus/<target>) in a scratch corpus under
# build-fuzz/corpus/, so new inputs never land in the tree; crashes are written to
# build-fuzz/artifacts/<target>/ (copy one to fuzz/regressions/<target>/ once it is fixed, and ctest
# replays it from then on). The last lines of each log carry the executions and coverage
# (cov: edges, ft: features) recorded in docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors torch_zip pickle npy family_detection image)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKVISION_FUZZ=ON \
  -DVKVISION_BUILD_TESTS=OFF -DVKVISION_BUILD_PYTHON=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
for target in "${targets[@]}"; do
  corpus="build-fuzz/corpus/$target" artifacts="build-fuzz/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$target"/* "$corpus"/
  # -rss_limit_mb: a reader must never need more than this for inputs of a few KB.
  log="build-fuzz/$target.log"
  "build-fuzz/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" >"$log" 2>&1 ||
    echo "fuzz_$target stopped: see $log"
  echo "== $target"
  grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$log" | tail -3
done
