#!/usr/bin/env bash
# Runs `duplicates --most 200` over the non-test sources (not under tests/, benches/, fuzz/):
# a copy of the tracked and untracked-unignored files without them.
set -euo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files --cached --others --exclude-standard | grep -vE '(^|/)(tests|benches|fuzz)/' | grep -vE '(_tests|/tests)\.rs$' | while read -r file; do
    [ -f "$file" ] || continue
    mkdir -p "$copy/$(dirname "$file")"
    cp "$file" "$copy/$file"
done
cd "$copy"
duplicates --most 200 --seconds 60
