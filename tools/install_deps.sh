#!/usr/bin/env bash
# Installs every Debian 12 package vkvision needs to build and test, the Python module and its tests
# (pybind11, numpy, pytest, and torch/torchvision for the logit comparisons) included, and chromium
# and a font (headless, for the rendering test of bench/report.py).
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libvulkan-dev glslc spirv-tools mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  nlohmann-json3-dev libcli11-dev libstb-dev libjpeg62-turbo-dev zlib1g-dev libgtest-dev
  dataset-fashion-mnist clang-format
  python3-dev pybind11-dev python3-numpy python3-pytest python3-torch python3-torchvision
  groff-base man-db debootstrap
  chromium fonts-dejavu-core
)
# --list prints the packages, one a line (for .ci/run), and installs nothing.
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
