#!/usr/bin/env bash
# The Debian packages on a clean Debian 12: debootstrap a minimal bookworm into a temporary root,
# `apt-get install ./*.deb` there (apt resolves the packages' Depends and Recommends from the Debian
# mirror, as a user's `apt install` would; libvulkan1 recommends a Vulkan driver, which brings
# lavapipe here), then run the installed `vkvision classify /usr/share/vkvision/samples/*.png`,
# `vkvision selftest` (the installed fixtures alone) and `import vkvision` inside it. Needs root,
# debootstrap and the mirror; .ci/run calls it after the tests.
# Usage: tests/install/clean_debian.sh BUILD_DIR
# (VKVISION_DEBIAN_MIRROR overrides the mirror, default http://deb.debian.org/debian.)
set -euo pipefail
build=$(realpath "$1")
mirror=${VKVISION_DEBIAN_MIRROR:-http://deb.debian.org/debian}
start=$SECONDS
fail() { echo "clean_debian: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"

root=$(mktemp -d /var/tmp/vkvision-clean-debian.XXXXXX)
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log"; rm -f "$root.debootstrap.log"; fail "debootstrap from $mirror"; }
rm -f "$root.debootstrap.log"
echo "clean_debian: bookworm minbase in $((SECONDS - start)) s"
for dir in proc sys dev; do
  mount --rbind "/$dir" "$root/$dir" && mounted+=("$root/$dir")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"

mkdir -p "$root/tmp/debs"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$root/tmp/debs" >"$root/tmp/cpack.log" 2>&1 ||
  { tail -20 "$root/tmp/cpack.log"; fail "cpack"; }
rm -rf "$root/tmp/debs/_CPack_Packages"
packages=$(cd "$root/tmp/debs" && echo ./*.deb)
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
in_root apt-get update -qq >"$root/tmp/apt.log" 2>&1 ||
  { tail -20 "$root/tmp/apt.log"; fail "apt-get update"; }
in_root sh -c "cd /tmp/debs && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages" \
  >>"$root/tmp/apt.log" 2>&1 || { tail -20 "$root/tmp/apt.log"; fail "apt-get install $packages"; }
echo "clean_debian: installed $packages with their dependencies ($((SECONDS - start)) s)"
in_root dpkg -s mesa-vulkan-drivers >/dev/null || fail "no Vulkan driver came with the packages' Recommends"

output=$(in_root sh -c 'vkvision classify --top 1 /usr/share/vkvision/samples/*.png') ||
  fail "vkvision classify in the clean root"
count=0
for image in "$root"/usr/share/vkvision/samples/*.png; do
  name=/usr/share/vkvision/samples/$(basename "$image")
  want=$(basename "$image" .png | cut -d_ -f2- | tr _ ' ')
  got=$(grep -A1 -xF "$name" <<<"$output" | tail -1 | sed 's/^ *[0-9.]*% *//')
  [ "${got,,}" = "$want" ] || fail "vkvision classify $name: '$got', not '$want'"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || fail "no samples installed"
echo "clean_debian: vkvision classify /usr/share/vkvision/samples/*.png: $count of $count right"
# The conformance self-test from the install alone: its fixtures under /usr/share/vkvision/selftest,
# no source tree (the root has none) and no Python. A subset: the whole self-test compiles every
# kernel variant, minutes on lavapipe with empty shader caches (docs/CONFORMANCE.md).
summary=$(in_root sh -c 'vkvision selftest --filter Grn && vkvision selftest --only models --filter gmlp') ||
  { echo "$summary"; fail "vkvision selftest in the clean root"; }
echo "clean_debian: vkvision selftest (Grn ops, gMLP fixture):" \
  "$(grep ' passed, ' <<<"$summary" | sed 's/^== device 0: //' | tr '\n' ' ')"
in_root test -f /usr/share/man/man1/vkvision.1.gz || fail "no man page installed"
top=$(in_root python3 -c "import vkvision; print(vkvision.__file__); print(vkvision.devices()[0].name)") ||
  fail "import vkvision in the clean root"
echo "clean_debian: import vkvision: $(tr '\n' ' ' <<<"$top")"
echo "clean_debian: ok in $((SECONDS - start)) s"
