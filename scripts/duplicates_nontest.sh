#!/usr/bin/env bash
# Runs `duplicates --most 200` over the non-test sources: a copy of the tracked (and untracked,
# unignored) files that are not under a tests/, benches/ or fuzz/ folder. Unit-test modules
# inside src/ are counted, as they were when the crate kept them inline.
set -euo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files --cached --others --exclude-standard | grep -vE '(^|/)(tests|benches|fuzz)/' | while read -r file; do
    [ -f "$file" ] || continue
    mkdir -p "$copy/$(dirname "$file")"
    cp "$file" "$copy/$file"
done
cd "$copy"
duplicates --most 200 --seconds 60
