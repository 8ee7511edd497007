#!/usr/bin/env bash
# Copies what the vkvision CLI needs to run from a build made here on another machine (tools/gpu_check.sh)
# into BUILD_DIR/gpu_bundle/, a few MiB to carry instead of the whole build tree (~75 MiB):
#   vkvision, libvkvision.so.0   the CLI's RUNPATH names this machine's absolute build path, so the check
#                                script puts this folder on LD_LIBRARY_PATH instead
#   loader/libvulkan.so.1        Debian 12's Vulkan loader, used only where the other machine has none
#                                (it may have only the driver and its ICD file)
#   fallback/                    libjpeg, zlib, libstdc++ and libgcc_s, used only where `ldd` finds
#                                them missing there (a system's own, possibly newer, ones are kept)
# Also `cmake --build BUILD_DIR --target gpu_bundle`.
# Usage: tools/make_gpu_bundle.sh [BUILD_DIR]   (default: build)
set -euo pipefail
build=${1:-build}
cli=$build/vkvision
if [ ! -x "$cli" ]; then
  echo "make_gpu_bundle: $cli not built (cmake --build $build --target vkvision_cli)" >&2
  exit 1
fi
bundle=$build/gpu_bundle
rm -rf "$bundle"
mkdir -p "$bundle/loader" "$bundle/fallback"
cp "$cli" "$bundle/vkvision"
# The libraries as this machine's loader resolves them (ldd's third column), copied under their sonames.
while read -r soname path; do
  case $soname in
    libvkvision.so.*) cp -L "$path" "$bundle/$soname" ;;
    libvulkan.so.*) cp -L "$path" "$bundle/loader/$soname" ;;
    libjpeg.so.*|libz.so.*|libstdc++.so.*|libgcc_s.so.*) cp -L "$path" "$bundle/fallback/$soname" ;;
  esac
done < <(ldd "$cli" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
[ -e "$bundle/loader/libvulkan.so.1" ] || cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$bundle/loader/"
files=$(cd "$bundle" && find . -type f | sort | tr '\n' ' ')
echo "make_gpu_bundle: $(du -sh "$bundle" | cut -f1) in $bundle: $files"
