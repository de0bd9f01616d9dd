#!/usr/bin/env python3
"""Prints the Markdown comparison tables of BENCHMARKS.md from criterion's saved estimates.

Usage: python3 scripts/bench_table.py verify   (after `cargo bench -p webhook-guard --bench verify`)
       python3 scripts/bench_table.py parse    (after `cargo bench -p webhook-guard --bench parse`)

Reads target/criterion/<group>/<function>/<parameter>/new/estimates.json and prints, for each
parameter, the median time of every function and the ratios the issue targets ask for.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")


def load(group):
    base = os.path.join(ROOT, group)
    results = {}
    if not os.path.isdir(base):
        sys.exit(f"no criterion results under {base}: run the benchmark first")
    for function in sorted(os.listdir(base)):
        fdir = os.path.join(base, function)
        if not os.path.isdir(fdir) or function == "report":
            continue
        for param in os.listdir(fdir):
            path = os.path.join(fdir, param, "new", "estimates.json")
            if os.path.exists(path):
                with open(path) as f:
                    results.setdefault(param, {})[function] = json.load(f)["median"]["point_estimate"]
    return results


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.0f} ns"


def size_key(label):
    units = {"B": 1, "KiB": 1024, "MiB": 1024 * 1024}
    for unit in ("KiB", "MiB", "B"):
        if label.endswith(unit):
            try:
                return float(label[: -len(unit)]) * units[unit]
            except ValueError:
                break
    return float("inf")


def verify_table():
    results = load("verify")
    cols = ["webhook_guard", "hmac_raw", "hmac_prekeyed", "standardwebhooks", "svix"]
    print("| body | " + " | ".join(cols) + " | ours/raw | ours/prekeyed | ours/standardwebhooks | ours/svix |")
    print("|---" * (len(cols) + 5) + "|")
    for param in sorted(results, key=size_key):
        r = results[param]
        if not all(c in r for c in cols):
            continue
        ours = r["webhook_guard"]
        ratios = [ours / r["hmac_raw"], ours / r["hmac_prekeyed"], ours / r["standardwebhooks"], ours / r["svix"]]
        print(f"| {param} | " + " | ".join(fmt_time(r[c]) for c in cols) + " | "
              + " | ".join(f"{x:.3f}x" for x in ratios) + " |")


def parse_table():
    results = load("parse")
    print("| fixture | bytes | typed | Value | typed/Value | typed MiB/s |")
    print("|---|---|---|---|---|---|")
    slowest, slowest_bent = 0.0, 0.0
    for param in sorted(results, key=lambda p: (p.startswith("bent"), "large_batch" in p, p)):
        r = results[param]
        if "typed" not in r or "value" not in r:
            continue
        size = fixture_size(param)
        ratio = r["typed"] / r["value"]
        if param.startswith("bent") or "odd" in param:
            slowest_bent = max(slowest_bent, ratio)
        else:
            slowest = max(slowest, ratio)
        speed = f"{size / (r['typed'] / 1e9) / 2**20:.0f}" if size else "?"
        print(f"| {param} | {size or '?'} | {fmt_time(r['typed'])} | {fmt_time(r['value'])} | {ratio:.3f}x | {speed} |")
    print(f"\nworst typed/Value ratio on well-formed fixtures: {slowest:.3f}x (target: at most 1.000x)")
    print(f"worst typed/Value ratio on bent ones (`bent_*`, `*odd*`): {slowest_bent:.3f}x (target: at most 1.500x)")


def fixture_size(param):
    """The body size criterion recorded for a parse benchmark (its throughput)."""
    path = os.path.join(ROOT, "parse", "typed", param, "new", "benchmark.json")
    try:
        with open(path) as f:
            throughput = json.load(f).get("throughput") or {}
        return throughput.get("Bytes") or throughput.get("BytesDecimal")
    except OSError:
        return None


TABLES = {"verify": verify_table, "parse": parse_table}

if __name__ == "__main__":
    names = sys.argv[1:] or list(TABLES)
    for name in names:
        if name not in TABLES:
            sys.exit(f"unknown table {name}; known: {', '.join(TABLES)}")
        TABLES[name]()
