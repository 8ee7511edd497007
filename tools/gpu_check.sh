#!/usr/bin/env bash
# The GPU check: one script, run on a machine with a GPU (e.g. an NVIDIA H200 with its Vulkan driver)
# from a build made elsewhere and carried over with the source tree; under 8 minutes in all.
#
# Usage: bash tools/gpu_check.sh [BUILD_DIR] [OUT_DIR]    (defaults: build, then $OUT or ./gpu_check_out)
#   GPU_CHECK_QUICK=1   a short run for trying the script on lavapipe: one model, batch 1, 2 iterations
#   GPU_CHECK_MODELS    the bench presets (default convnext_tiny swin_tiny_patch4_window7_224
#                       swinv2_tiny_window8_256: torchvision's convnext_tiny, swin_t and swin_v2_t)
#
# Preparing it (on the build machine): build the CLI, then `bash tools/make_gpu_bundle.sh build` (or
# `cmake --build build --target gpu_bundle`), which puts the CLI, libvkvision.so.0, the Vulkan loader
# and fallback libraries into build/gpu_bundle/ (~7 MiB). Carry build/gpu_bundle (or all of build/)
# with the tree. The CLI's RUNPATH is this machine's absolute build path, so the script does not rely
# on it: it puts the bundle (or BUILD_DIR/src/api without one) on LD_LIBRARY_PATH, adds
# gpu_bundle/loader when `ldconfig -p` lists no libvulkan.so.1, and gpu_bundle/fallback when `ldd`
# still finds a library missing.
#
# Steps, each under `timeout` and logged to OUT_DIR/STEP.log; a failing step never stops the script:
#   devices     vulkaninfo --summary where installed, else vkvision devices (and nvidia-smi where present)
#   selftest    vkvision selftest --all-devices --fixtures tests/fixtures --json OUT/selftest.json
#   bench_M     vkvision bench --all-devices --model M --sweep batch=1,8 precision=fp32,fp16
#               kernels=register,tiled --iters 20 --min-seconds 1 --per-layer --json OUT/bench_M.json
#   compare     bench/compare.py against PyTorch where `python3 -c 'import torch'` works (python3 on
#               PATH, else /usr/bin/python3; GPU_CHECK_PYTHON to name others; no ONNX
#               Runtime: it is installed from npm); its table in OUT/compare.md
#   report      python3 bench/report.py OUT/bench_*.json -o OUT/report.html where bench/report.py exists
# Then a summary (also OUT/summary.txt); the exit status is 1 when a step failed, else 0.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! build=$(cd "${1:-build}" 2>/dev/null && pwd); then
  echo "gpu_check: no build directory '${1:-build}'" >&2
  exit 2
fi
out=${2:-${OUT:-./gpu_check_out}}
mkdir -p "$out" && out=$(cd "$out" && pwd)
quick=${GPU_CHECK_QUICK:-0}
[ "$quick" = 0 ] && quick=""
start=$(date +%s)
deadline=$((start + 460))  # every step's limit is cut to this: the whole run stays under 8 minutes

# The CLI and where its libraries come from.
if [ -x "$build/gpu_bundle/vkvision" ]; then
  cli=$build/gpu_bundle/vkvision
  library_path=$build/gpu_bundle
else
  cli=$build/vkvision
  library_path=$build/src/api
fi
if ! { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  if [ -e "$build/gpu_bundle/loader/libvulkan.so.1" ]; then
    library_path=$library_path:$build/gpu_bundle/loader
    echo "gpu_check: no system libvulkan.so.1; using the bundled loader"
  else
    echo "gpu_check: no system libvulkan.so.1 and no $build/gpu_bundle/loader (tools/make_gpu_bundle.sh)"
  fi
fi
export LD_LIBRARY_PATH=$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -d "$build/gpu_bundle/fallback" ] && ldd "$cli" 2>/dev/null | grep -q 'not found'; then
  export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$build/gpu_bundle/fallback
  echo "gpu_check: using the bundled fallback libraries for: $(ldd "$cli" | grep -c 'not found') missing"
fi
# Pipeline caches of the steps other than bench (which uses fresh ones of its own) go here, not into
# the user's ~/.cache.
cache=$(mktemp -d)
export VKVISION_CACHE_DIR=$cache
trap 'rm -rf "$cache"' EXIT
echo "gpu_check: $cli, LD_LIBRARY_PATH=$LD_LIBRARY_PATH, output in $out${quick:+ (quick)}"
ldd "$cli" >"$out/ldd.log" 2>&1

names=() results=()
# step NAME SECONDS COMMAND...: runs it under timeout (cut to the deadline), logs to OUT/NAME.log.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - $(date +%s)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -le 5 ]; then
    names+=("$name") results+=("SKIPPED (no time left)")
    return
  fi
  local began=$(date +%s) status
  echo "== $name (limit ${limit}s): $*"
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  status=$?
  local took=$(($(date +%s) - began))
  case $status in
    0) results+=("passed (${took}s)") ;;
    124|137) results+=("FAILED: timed out after ${limit}s") ;;
    *) results+=("FAILED: exit $status (${took}s), $name.log: $(tail -n 1 "$out/$name.log" | cut -c1-120)") ;;
  esac
  names+=("$name")
  echo "   ${results[-1]}"
}
skip() { names+=("$1") results+=("skipped: $2"); echo "== $1 skipped: $2"; }

# Devices.
if command -v vulkaninfo >/dev/null; then
  step devices 30 vulkaninfo --summary
else
  step devices 30 "$cli" devices
fi
cat "$out/devices.log"
if command -v nvidia-smi >/dev/null; then step nvidia_smi 15 nvidia-smi; fi

# selftest: every op check and family fixture (the fixtures from this tree: the CLI's own default is
# the build machine's source path).
step selftest 120 "$cli" selftest --all-devices --fixtures "$root/tests/fixtures" --json "$out/selftest.json"

# Benchmarks: one file per model, every device, the sweep grid.
models=${GPU_CHECK_MODELS:-convnext_tiny swin_tiny_patch4_window7_224 swinv2_tiny_window8_256}
if [ -n "$quick" ]; then
  models=${GPU_CHECK_MODELS:-convnext_tiny}
  bench_args=(--sweep batch=1 --iters 2 --warmup 1 --per-layer)
else
  bench_args=(--sweep batch=1,8 precision=fp32,fp16 kernels=register,tiled
              --iters 20 --min-seconds 1 --per-layer)
fi
# The drivers' own shader disk caches (NVIDIA's ~/.cache/nvidia, Mesa's) off, so that the cold start's
# empty-cache session is cold on every record, not only the first (docs/BENCH_FORMAT.md, Cold start).
for model in $models; do
  step "bench_$model" 80 env __GL_SHADER_DISK_CACHE=0 MESA_SHADER_CACHE_DISABLE=true \
    "$cli" bench --all-devices --model "$model" "${bench_args[@]}" --json "$out/bench_$model.json"
done

# PyTorch comparison, where torch is importable: by python3, else by the system's (a pyenv or venv
# python3 first on PATH may lack Debian's python3-torch).
torch_python=""
for candidate in ${GPU_CHECK_PYTHON:-python3 /usr/bin/python3}; do
  if "$candidate" -c 'import torch, torchvision' >/dev/null 2>&1; then torch_python=$candidate; break; fi
done
if [ -n "$torch_python" ]; then
  if [ -n "$quick" ]; then
    compare_args=(--models convnext_tiny --batches 1 --iters 2)
  else
    compare_args=(--models convnext_tiny swin_t swin_v2_t --batches 1 8 --iters 10)
  fi
  step compare 90 "$torch_python" "$root/bench/compare.py" --vkvision "$cli" --no-onnxruntime \
    --threads "$(nproc)" "${compare_args[@]}"
  grep -E '^(\||Measured)' "$out/compare.log" >"$out/compare.md" 2>/dev/null
else
  skip compare "no python3 can import torch and torchvision"
fi

# The HTML report of the bench files.
shopt -s nullglob
bench_files=("$out"/bench_*.json)
if ! command -v python3 >/dev/null; then
  skip report "no python3"
elif [ ! -f "$root/bench/report.py" ]; then
  skip report "no bench/report.py in this tree"
elif [ ${#bench_files[@]} -eq 0 ]; then
  skip report "no bench file was written"
else
  step report 30 python3 "$root/bench/report.py" "${bench_files[@]}" -o "$out/report.html"
fi

{
  echo "gpu_check summary ($(($(date +%s) - start)) s, $(date -u +%Y-%m-%dT%H:%M:%SZ)):"
  for i in "${!names[@]}"; do
    printf '  %-40s %s\n' "${names[$i]}" "${results[$i]}"
  done
} | tee "$out/summary.txt"
grep -q FAILED "$out/summary.txt" && exit 1
exit 0
