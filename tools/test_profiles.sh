#!/usr/bin/env bash
# Runs the already-built test suite once per device profile (tests/support/device_profiles/*.json):
# VK_LAYER_VKVISION_device_profile makes lavapipe report that device class and the validation layer
# checks vkvision's calls against it (tests/support/device_profile_layer/README.md).
# Usage: tools/test_profiles.sh [--build-dir DIR] [profile...] [-- ctest arguments...]
#   DIR defaults to $BUILD_DIR or build; the profiles to discrete_no_rebar spec_minimum
#   integrated_noncoherent.
# Prints each profile's pass/fail counts, seconds and failed tests; exits non-zero if any failed.
# Each profile's full ctest output is kept in DIR/test_profiles/<profile>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
profiles=()
ctest_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --build-dir=*) build=${1#*=}; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) profiles+=("$1"); shift ;;
  esac
done
[ ${#profiles[@]} -eq 0 ] && profiles=(discrete_no_rebar spec_minimum integrated_noncoherent)
if [ ! -f "$build/device_profile_layer/VkLayer_vkvision_device_profile.json" ]; then
  echo "test_profiles.sh: $build has no device-profile layer; build it first (cmake --build $build)" >&2
  exit 2
fi
for profile in "${profiles[@]}"; do
  case $profile in */*) file=$profile ;; *) file=tests/support/device_profiles/$profile.json ;; esac
  [ -f "$file" ] || { echo "test_profiles.sh: no profile $file" >&2; exit 2; }
done

logs=$build/test_profiles
mkdir -p "$logs"
export VKVISION_VALIDATION=1
export VK_ADD_LAYER_PATH=$PWD/$build/device_profile_layer
status=0
summary=()
for profile in "${profiles[@]}"; do
  log=$logs/$(basename "$profile" .json).log
  start=$SECONDS
  # GPU-assisted validation allocates its own output buffers in host-visible *coherent* memory, which
  # the non-coherent profile deliberately has none of: the layer cannot run there (its "Unable to
  # allocate device memory" setup error), whatever vkvision does, so those entries are left out.
  profile_args=()
  case $(basename "$profile" .json) in integrated_noncoherent) profile_args=(-LE gpu_validation) ;; esac
  # ctest's own exit status is the failure signal; its summary line gives the counts.
  if VKVISION_DEVICE_PROFILE=$profile \
    ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600 \
      "${profile_args[@]}" "${ctest_args[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  seconds=$((SECONDS - start))
  counts=$(grep -E "tests passed, [0-9]+ tests failed out of" "$log" | tail -1 || true)
  # A test the device cannot run skips saying why (GTEST_SKIP), and ctest counts it as passed.
  skipped=$(grep -cE 'Test +#[0-9]+: .*Skipped' "$log" || true)
  line="$profile: $result, ${counts:-no ctest summary (see $log)}, $skipped skipped, $seconds s"
  echo "$line"
  summary+=("$line")
  # The failed tests, as ctest lists them at the end.
  sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' | sed 's/^/    /' || true
done
echo "test_profiles.sh: logs in $logs"
exit $status
