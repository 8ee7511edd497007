#!/usr/bin/env bash
# The main job: build, then classify the bundled sample images with the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVKVISION_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target vkvision_cli
./build/vkvision classify samples/*.png
