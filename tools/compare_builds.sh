#!/usr/bin/env bash
# Runs two vkvision binaries (e.g. builds of two commits) on every family's PyTorch fixture, with both
# kernel families and both precisions, and reports whether their logits are bit-identical and their
# dispatch counts equal: a refactoring's "behaviour unchanged" check.
# Usage: tools/compare_builds.sh NEW_BINARY OLD_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
new=$1 old=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
same=0 differ=0
for weights in tests/fixtures/{convnext,inceptionnext,repmlpnet,repvgg,swin}/*.{safetensors,pth}; do
  [ -f "$weights" ] || continue
  input=$(ls "$(dirname "$weights")"/input*.npy | head -1)
  # The input's width: the last number of the .npy header's shape.
  size=$(head -c 256 "$input" | grep -ao "shape': ([0-9, ]*)" | grep -o '[0-9]*)' | tr -d ')')
  for kernels in register tiled; do
    for precision in fp32 fp16; do
      args=(--weights "$weights" --input "$input" --kernels "$kernels" --precision "$precision")
      if ! "$new" run "${args[@]}" --output "$tmp/new.npy" >/dev/null 2>"$tmp/new.err"; then
        # A fixture one build refuses (e.g. a training checkpoint) must be refused by both.
        if "$old" run "${args[@]}" --output "$tmp/old.npy" >/dev/null 2>&1; then
          echo "DIFFERS $weights $kernels $precision: only the old build runs it"; differ=$((differ + 1))
        fi
        continue
      fi
      "$old" run "${args[@]}" --output "$tmp/old.npy" >/dev/null
      if cmp -s "$tmp/new.npy" "$tmp/old.npy"; then
        same=$((same + 1))
      else
        echo "DIFFERS $weights $kernels $precision"; differ=$((differ + 1))
      fi
      # The dispatch count of a plan, from `bench --json`.
      dispatches() {
        "$1" bench --weights "$weights" --size "$size" --kernels "$kernels" --precision "$precision" \
          --iters 1 --warmup 0 --json "$tmp/bench.json" >/dev/null
        python3 -c "import sys; sys.path.insert(0, sys.argv[2]); import bench_json
print(bench_json.load_record(sys.argv[1])['run']['dispatches'])" "$tmp/bench.json" bench
      }
      if [ "$(dispatches "$new")" != "$(dispatches "$old")" ]; then
        echo "DISPATCHES DIFFER $weights $kernels $precision"; differ=$((differ + 1))
      fi
    done
  done
done
echo "bit-identical logits and equal dispatch counts: $same runs; different: $differ"
[ "$differ" -eq 0 ]
