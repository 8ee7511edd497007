#!/usr/bin/env bash
# Checks the code's format: the C++ as .clang-format says (clang-format 14, Debian 12's), and no line
# of C++, GLSL, CMake or shell over 110 columns. Prints each offending file; exit 1 if any.
# Usage: tools/check_format.sh [--fix]   (--fix rewrites the C++ in place)
set -euo pipefail
cd "$(dirname "$0")/.."
sources() {
  find include src tests bench fuzz tools shaders cmake python -type f \( "$@" \) \
    -not -path '*/corpus/*' -not -path '*/regressions/*' | sort
}
# shaders/include/*_abi.h are shared with GLSL: a macro language clang-format does not parse; only
# their line length is checked.
mapfile -t cxx < <(sources -name '*.cpp' -o -name '*.h' -o -name '*.c' | grep -v '^shaders/')
status=0
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${cxx[@]}"
fi
if ! clang-format --dry-run --Werror "${cxx[@]}" 2>/tmp/check_format.$$; then
  grep -oE '^[^ :]+:[0-9]+:[0-9]+: (warning|error)' /tmp/check_format.$$ | cut -d: -f1 | sort -u |
    sed 's/^/not clang-formatted: /'
  status=1
fi
rm -f /tmp/check_format.$$
mapfile -t code < <(sources -name '*.cpp' -o -name '*.h' -o -name '*.c' -o -name '*.comp' -o -name '*.glsl' \
  -o -name 'CMakeLists.txt' -o -name '*.cmake' -o -name '*.sh'; echo CMakeLists.txt; echo .ci/run)
if awk 'length > 110 { print FILENAME ":" FNR ": " length " columns"; found = 1 } END { exit !found }' \
  "${code[@]}"; then
  status=1
fi
exit $status
