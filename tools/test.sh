#!/usr/bin/env bash
# Builds vkvision and runs every test on the first Vulkan device (lavapipe here) with validation on.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVKVISION_BUILD_TESTS=ON
cmake --build build -j"$(nproc)"
# Tests run with the validation layer; any validation message fails the test that caused it.
export VKVISION_VALIDATION=1
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
