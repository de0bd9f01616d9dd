#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60) and prints, per target,
# the executions and the crashes. Exit status 1 if any target crashed.
#
#   scripts/fuzz.sh [SECONDS]
#
# cargo-fuzz needs nightly features: on a stable toolchain they are enabled with
# RUSTC_BOOTSTRAP=1 (done here). The seed corpora are every fixture, signed at the time the
# targets verify at, written with the `webhook-guard` CLI (`samples show` + `sign`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
now=1761577000 # webhook_guard_fuzz::NOW
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz

echo "== seed corpora"
cargo build -q -p webhook-guard-cli
cli="$PWD/target/debug/webhook-guard"
mkdir -p fuzz/corpus
while read -r provider _event_type name _origin; do
    body="$(mktemp)"
    "$cli" samples show "$provider" "$name" >"$body"
    case "$provider" in
        parallel) scheme=standard_header ;;
        sixtyfour) scheme=timestamped_header ;;
        *) scheme=body_hmac_header ;;
    esac
    for target in providers "$scheme" receiver models; do
        mkdir -p "fuzz/corpus/$target"
        seed="fuzz/corpus/$target/seed-$provider-$name"
        if [ "$target" = models ]; then
            cp "$body" "$seed"
        else
            # The headers `sign` prints, the empty line after them, then the body; the
            # `providers` target reads which provider from a header of its own.
            if [ "$target" = providers ]; then echo "x-fuzz-provider: $provider" >"$seed"; else : >"$seed"; fi
            "$cli" sign "$provider" --body "$body" --id "seed_$name" --timestamp "$now" 2>/dev/null |
                sed -n '1,/^$/p' >>"$seed"
            cat "$body" >>"$seed"
        fi
    done
    rm -f "$body"
done < <("$cli" samples | tail -n +2)

echo "== build"
(cd fuzz && cargo fuzz build -O)

results=()
crashed=0
for target in $(cd fuzz && cargo fuzz list); do
    echo "== $target: ${seconds} s"
    log="fuzz/$target.log"
    before=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l || true)
    status=0
    (cd fuzz && cargo fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1) >"$log" 2>&1 || status=$?
    after=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l || true)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    crashes=$((after - before))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
    if [ "$crashes" -ne 0 ]; then crashed=1; tail -n 30 "$log"; fi
    results+=("$(printf '| %-20s | %7s s | %12s | %8s | %7s |' "$target" "$seconds" "${runs:-?}" "${rate:-?}" "$crashes")")
done

echo
echo "| target               | time      |   executions | exec/s   | crashes |"
echo "|----------------------|-----------|--------------|----------|---------|"
printf '%s\n' "${results[@]}"
exit "$crashed"
