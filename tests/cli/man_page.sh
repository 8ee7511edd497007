#!/usr/bin/env bash
# vkvision.1 against --help: groff renders it without a warning, every subcommand `vkvision --help`
# lists has its section, and every option each subcommand's --help lists appears in that section.
# Usage: tests/cli/man_page.sh BUILD_DIR
set -euo pipefail
cli=$1/vkvision
page=$1/vkvision.1
fail() { echo "man page: FAILED: $*" >&2; exit 1; }
[ -s "$page" ] || fail "$page missing or empty"
warnings=$(groff -man -ww -z "$page" 2>&1) || fail "groff: $warnings"
[ -z "$warnings" ] || fail "groff warns: $warnings"
text=$(sed 's/\\-/-/g; s/\\e/\\/g' "$page")
mapfile -t subcommands < <("$cli" --help |
  awk '/^Subcommands:/ { on = 1; next } on && !NF { exit } on { print $1 }')
[ ${#subcommands[@]} -ge 5 ] || fail "found only ${#subcommands[@]} subcommands in --help"
for subcommand in "${subcommands[@]}"; do
  section=$(awk -v head=".SS $subcommand" '$0 == head { on = 1; next } /^\.S[SH] / { on = 0 } on' <<<"$text")
  [ -n "$section" ] || fail "no section for '$subcommand'"
  mapfile -t options < <("$cli" "$subcommand" --help | grep -oE '^  +-[^ ]*' | grep -oE -- '--[a-z0-9-]+')
  [ ${#options[@]} -gt 0 ] || fail "'$subcommand --help' lists no options"
  for option in "${options[@]}"; do
    grep -qF -- "$option" <<<"$section" || fail "'$subcommand' section lacks $option"
  done
done
echo "man page: ${#subcommands[@]} subcommands, every option of each in its section"
