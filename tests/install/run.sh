#!/usr/bin/env bash
# vkvision as installed: cmake --install the build into a temporary prefix, then build and run a
# consumer (main.cpp) against that prefix alone, with CMake (find_package) and with pkg-config; run
# the installed CLI on the installed samples and the Python tests on the installed module; build the
# Debian packages and check their contents and Depends (tests/install/debs.sh installs them). A
# static build (VKVISION_SHARED=OFF; the ASan tree) checks its install, CMake package and
# `pkg-config --static`; its consumers link with the tree's sanitizer flags, and only programs of
# ours run with the sanitizer runtime preloaded (not cmake or the compiler). Exit 77 (ctest:
# skipped) under a device profile: nothing here depends on the device's class.
# Usage: tests/install/run.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
# Checks grep captured output (grep -q PATTERN <<<"$(command)"): `command | grep -q` under pipefail
# fails whenever grep exits before the command has written everything (SIGPIPE), as ldd once did.
# Started with a sanitizer runtime preloaded (the ASan tree's ctest): this shell restarts without it,
# before the runtime's exit-time leak check could report bash's own allocations.
if [ -n "${LD_PRELOAD:-}" ]; then
  export VKVISION_INSTALL_TEST_PRELOAD=$LD_PRELOAD
  exec env -u LD_PRELOAD bash "$0" "$@"
fi
preload=${VKVISION_INSTALL_TEST_PRELOAD:-}
[ -n "${VKVISION_DEVICE_PROFILE:-}" ] && { echo "install: skipped under a device profile"; exit 77; }
build=$(realpath "$1")
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
shared=$(cache_value VKVISION_SHARED)
sanitizer=$(cache_value VKVISION_SANITIZE)
case "$sanitizer" in
  "") sanitizer_flags="" ;;
  address) sanitizer_flags="-fsanitize=address,undefined" ;;
  *) echo "install: no consumer flags for sanitizer '$sanitizer'" >&2; exit 1 ;;
esac
ours() { LD_PRELOAD=$preload "$@"; }  # a program of ours: under the sanitizer's runtime, if any
here=$(realpath "$(dirname "$0")")
if [ -n "${2:-}" ]; then
  work=$(realpath -m "$2") && rm -rf "$work" && mkdir -p "$work"
else
  work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
fi
start=$SECONDS
fail() { echo "install: FAILED: $*" >&2; exit 1; }
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
version=$(sed -n 's/^#define VKVISION_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/vkvision/version.h")
[ -n "$version" ] || fail "no VKVISION_VERSION_STRING in the installed version.h"

if [ "$shared" = ON ]; then
  libraries=(lib/libvkvision.so lib/libvkvision.so.0 "lib/libvkvision.so.$version")
else
  libraries=(lib/libvkvision.a)
  ls "$prefix"/lib/libvkvision.so* 2>/dev/null && fail "a static build installed a shared libvkvision"
fi
for file in include/vkvision/vkvision.h include/vkvision/version.h "${libraries[@]}" \
  lib/cmake/vkvision/vkvisionConfig.cmake lib/cmake/vkvision/vkvisionConfigVersion.cmake \
  lib/pkgconfig/vkvision.pc bin/vkvision share/vkvision/models/convnext_fmnist.safetensors \
  share/vkvision/models/README.md; do
  [ -e "$prefix/$file" ] || fail "$file not installed"
done
ls "$prefix"/share/vkvision/samples/*.png >/dev/null || fail "no samples installed"
if [ -z "$sanitizer" ]; then  # sanitizer trees make no man page (src/cli/CMakeLists.txt)
  grep -q "^SUBCOMMANDS" <<<"$(MANPAGER=cat man -l "$prefix/share/man/man1/vkvision.1.gz" 2>&1)" ||
    fail "the installed man page does not render"
fi
[ "$(ls "$prefix/include")" = vkvision ] || fail "include/ holds more than vkvision/: $(ls "$prefix/include")"
link_interface=$(grep -h INTERFACE_LINK_LIBRARIES "$prefix"/lib/cmake/vkvision/vkvisionTargets*.cmake)
if [ "$shared" = ON ]; then
  grep -q 'SONAME.*\[libvkvision\.so\.0\]' <<<"$(readelf -d "$prefix/lib/libvkvision.so.$version")" ||
    fail "the SONAME is not libvkvision.so.0"
  # Only the Vulkan loader reaches a consumer: no third-party library in the exported target or .pc.
  [ "$link_interface" = '  INTERFACE_LINK_LIBRARIES "Vulkan::Vulkan"' ] ||
    fail "vkvision::vkvision links more than Vulkan::Vulkan: $link_interface"
  leaking='zlib|jpeg|nlohmann|cli11|stb'
else
  # A static library's private libraries are link-only for its consumers, found by the package.
  [ "$link_interface" = \
    '  INTERFACE_LINK_LIBRARIES "Vulkan::Vulkan;\$<LINK_ONLY:ZLIB::ZLIB>;\$<LINK_ONLY:JPEG::JPEG>"' ] ||
    fail "static vkvision::vkvision: not Vulkan plus link-only zlib and libjpeg: $link_interface"
  grep -q 'find_dependency(ZLIB)' "$prefix/lib/cmake/vkvision/vkvisionConfig.cmake" ||
    fail "the static package does not find zlib for its consumers"
  grep -qx 'Libs.private: -lz -ljpeg' "$prefix/lib/pkgconfig/vkvision.pc" ||
    fail "vkvision.pc: no Libs.private"
  leaking='nlohmann|cli11|stb'
fi
grep -qiE "$leaking" "$prefix"/lib/cmake/vkvision/*.cmake \
  "$prefix/lib/pkgconfig/vkvision.pc" && fail "a third-party library leaks into the package files"
sample=$prefix/share/vkvision/samples/0000_ankle_boot.png

# The consumer sees the prefix only: not the build tree, not CMake's package registry.
cmake -S "$here" -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CXX_FLAGS="$sanitizer_flags" >"$work/consumer.log"
grep -qx "vkvision_DIR:PATH=$prefix/lib/cmake/vkvision" "$work/consumer/CMakeCache.txt" ||
  fail "find_package found another vkvision: $(grep vkvision_DIR "$work/consumer/CMakeCache.txt")"
cmake --build "$work/consumer" >>"$work/consumer.log"
linked() {  # program: does it load the installed shared libvkvision (shared), or none (static)?
  local libraries
  libraries=$(LD_LIBRARY_PATH=$prefix/lib ldd "$1")
  if [ "$shared" = ON ]; then grep -q "libvkvision.so.0 => $prefix/lib/" <<<"$libraries"
  else ! grep -q libvkvision <<<"$libraries"; fi
}
linked "$work/consumer/consumer" || fail "the CMake consumer does not link the installed libvkvision"
label=$(LD_LIBRARY_PATH=$prefix/lib ours "$work/consumer/consumer" "$prefix" "$sample")
[ "$label" = "Ankle boot" ] || fail "CMake consumer printed '$label', not 'Ankle boot'"
echo "install: CMake consumer ($([ "$shared" = ON ] && echo shared || echo static)): $label" \
  "($((SECONDS - start)) s)"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg_config_libs=(--libs)
[ "$shared" = ON ] || pkg_config_libs=(--static --libs)
# shellcheck disable=SC2046,SC2086  # pkg-config's and the sanitizer's flags are words
c++ -std=c++20 -O1 $sanitizer_flags "$here/main.cpp" -o "$work/consumer_pc" \
  $(pkg-config --cflags "${pkg_config_libs[@]}" vkvision)
linked "$work/consumer_pc" || fail "the pkg-config consumer does not link the installed libvkvision"
label=$(LD_LIBRARY_PATH=$prefix/lib ours "$work/consumer_pc" "$prefix" "$sample")
[ "$label" = "Ankle boot" ] || fail "pkg-config consumer printed '$label', not 'Ankle boot'"
echo "install: pkg-config consumer: $label ($((SECONDS - start)) s)"

# The installed CLI: found libvkvision through its RUNPATH and the model under the prefix.
cd "$work"
grep -q "^vkvision $version" <<<"$(ours "$prefix/bin/vkvision" --version)" ||
  fail "vkvision --version: wrong version"
samples=("$prefix"/share/vkvision/samples/*.png)
output=$(env -u VKVISION_DEFAULT_MODEL LD_PRELOAD="$preload" "$prefix/bin/vkvision" classify --top 1 \
  "${samples[@]}")
for image in "${samples[@]}"; do
  # 0000_ankle_boot.png -> "ankle boot"; the top-1 line follows the image's own.
  want=$(basename "$image" .png | cut -d_ -f2- | tr _ ' ')
  got=$(grep -A1 -xF "$image" <<<"$output" | tail -1 | sed 's/^ *[0-9.]*% *//')
  [ "${got,,}" = "$want" ] || fail "vkvision classify $image: '$got', not '$want'"
done
echo "install: CLI classify: ${#samples[@]} samples ($((SECONDS - start)) s)"

# The Python module as installed: in the interpreter's site directory under the prefix
# (python/site_dir.py), loading the installed libvkvision through its RUNPATH; the pytest suite
# against it, on the installed model and samples.
python_package=""
if [ -f "$build/python/vkvision/__init__.py" ]; then
  python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
  site=$("$python" "$here/../../python/site_dir.py" "$prefix")
  python_package=$prefix/$site/vkvision
  [ -f "$python_package/__init__.py" ] || fail "vkvision/__init__.py not installed in $prefix/$site"
  extension=$(ls "$python_package"/_vkvision*.so) || fail "the extension is not installed in $python_package"
  grep -q "libvkvision.so.0 => $prefix/lib/" <<<"$(env -u LD_LIBRARY_PATH ldd "$extension")" ||
    fail "the installed extension does not load the installed libvkvision"
  (cd "$work" && env -u LD_LIBRARY_PATH PYTHONPATH="$prefix/$site" \
    VKVISION_EXPECT_MODULE_DIR="$python_package" VKVISION_DATA_DIR="$prefix/share/vkvision" \
    "$python" -m pytest -q -p no:cacheprovider "$here/../../python/tests" >"$work/pytest.log") ||
    { cat "$work/pytest.log"; fail "pytest on the installed module"; }
  echo "install: Python module: $(tail -1 "$work/pytest.log") ($((SECONDS - start)) s)"
fi

# The Debian packages hold the shared library (tests/install/debs.sh installs them).
if [ "$shared" = ON ] && [ -z "$sanitizer" ]; then
  cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/debs" >"$work/cpack.log"
  deb() { ls "$work"/debs/"$1"_"$version"_*.deb 2>/dev/null || fail "no $1 package"; }
  depends() { dpkg-deb --field "$(deb "$1")" Depends; }
  contents() { dpkg-deb --contents "$(deb "$1")" | awk '{print $6}' | sed 's|^\./|/|'; }
  expect_files() {  # package file...
    local package=$1 listing
    shift
    listing=$(contents "$package")
    for file in "$@"; do grep -qx -- "$file" <<<"$listing" || fail "$package lacks $file"; done
  }
  expect_files libvkvision0 /usr/lib/libvkvision.so.0 "/usr/lib/libvkvision.so.$version"
  expect_files libvkvision-dev /usr/include/vkvision/vkvision.h /usr/include/vkvision/version.h \
    /usr/lib/libvkvision.so /usr/lib/cmake/vkvision/vkvisionConfig.cmake \
    /usr/lib/pkgconfig/vkvision.pc
  expect_files vkvision-tools /usr/share/man/man1/vkvision.1.gz /usr/bin/vkvision \
    /usr/share/vkvision/models/convnext_fmnist.safetensors \
    /usr/share/vkvision/samples/0000_ankle_boot.png
  if [ -n "$python_package" ]; then
    listing=$(contents python3-vkvision)
    grep -qx /usr/lib/python3/dist-packages/vkvision/__init__.py <<<"$listing" ||
      fail "python3-vkvision lacks /usr/lib/python3/dist-packages/vkvision/__init__.py"
    grep -qE '^/usr/lib/python3/dist-packages/vkvision/_vkvision.*\.so$' <<<"$listing" ||
      fail "python3-vkvision lacks the extension"
    for dependency in "libvkvision0 (= $version)" python3-numpy "python3 (>= 3"; do
      grep -qF "$dependency" <<<"$(depends python3-vkvision)" ||
        fail "python3-vkvision does not depend on $dependency"
    done
  fi
  grep -qE '^/usr/(include|bin|share/vkvision)/.' <<<"$(contents libvkvision0)" &&
    fail "libvkvision0 holds more than the library"
  for dependency in libvulkan1 zlib1g libjpeg62-turbo libstdc++6 libc6; do
    grep -qw "$dependency" <<<"$(depends libvkvision0)" || fail "libvkvision0 does not depend on $dependency"
  done
  for package in libvkvision-dev vkvision-tools; do
    grep -qF "libvkvision0 (= $version)" <<<"$(depends $package)" ||
      fail "$package: no libvkvision0 (= $version)"
  done
  grep -qw libvulkan-dev <<<"$(depends libvkvision-dev)" ||
    fail "libvkvision-dev does not depend on libvulkan-dev"
  echo "install: packages: $(cd "$work/debs" && echo ./*.deb) ($((SECONDS - start)) s)"
fi

# Last, as it spoils the prefix: the installed CLI reads the model under its own prefix first.
echo junk >"$prefix/share/vkvision/models/convnext_fmnist.safetensors"
if error=$(env -u VKVISION_DEFAULT_MODEL LD_PRELOAD="$preload" "$prefix/bin/vkvision" classify "$sample" \
  2>&1); then
  fail "the CLI did not read the installed default model"
fi
grep -qF "$prefix/share/vkvision/models" <<<"$error" || fail "the CLI read another model: $error"
echo "install: ok in $((SECONDS - start)) s"
