#!/usr/bin/env bash
# The example page docs/report_example/ (docs/REPORT.md): report.html and report.md by bench/report.py
# from the bench files given, and report.png, headless Chromium's screenshot of the page.
# Run: tools/make_report_example.sh A.json B.json ... [--out DIR]   (DIR: docs/report_example)
# Without real records: tests/bench/make_sample_records.py /tmp/samples, then the two files it writes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/docs/report_example"
inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) inputs+=("$1"); shift ;;
  esac
done
[ ${#inputs[@]} -ge 1 ] || { echo "usage: $0 A.json B.json ... [--out DIR]" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium not found: apt-get install chromium" >&2; exit 2; }
mkdir -p "$out"
/usr/bin/python3 "$root/bench/report.py" "${inputs[@]}" -o "$out/report.html" --markdown "$out/report.md"
# The window is the screenshot: 1280 wide, tall enough for the table and both plots of a few records.
# Chromium's stderr is dbus and GPU noise on a headless machine.
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-color-profile=srgb \
  --window-size=1280,1250 --screenshot="$out/report.png" "file://$out/report.html" 2>/dev/null >/dev/null
ls -l "$out/report.html" "$out/report.md" "$out/report.png"
