#!/usr/bin/env bash
# same_as_classify.sh EXAMPLE CLI MODEL IMAGE: the example's top-5 equals `vkvision classify`'s.
set -euo pipefail
example=$1 cli=$2 model=$3 image=$4
expected=$("$cli" classify --weights "$model" "$image")
actual=$("$example" "$model" "$image")
if [ "$expected" != "$actual" ]; then
  echo "render_and_classify differs from vkvision classify on $image"
  diff <(echo "$expected") <(echo "$actual") || true
  exit 1
fi
echo "$actual"
