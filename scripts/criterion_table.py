#!/usr/bin/env python3
"""Summarise criterion results as a markdown table: median time per element.

Reads target/criterion/<group>/<bench>[/<param>]/new/{estimates,benchmark}.json written by
`cargo bench`, and divides the median by the benchmark's throughput (elements per
iteration), so rows read as time per call (or per observation, per fit).

    cargo bench --bench dist && python3 scripts/criterion_table.py sbp gpd
"""
import json
import pathlib
import sys


def rows(root, groups):
    for est in sorted(root.glob("**/new/estimates.json")):
        bench = json.loads((est.parent / "benchmark.json").read_text())
        if groups and bench["group_id"] not in groups:
            continue
        median_ns = json.loads(est.read_text())["median"]["point_estimate"]
        elements = (bench.get("throughput") or {}).get("Elements") or 1
        per = median_ns / elements
        rate = 1e9 / per
        yield bench["full_id"], elements, per, rate


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    root = pathlib.Path("target/criterion")
    groups = set(sys.argv[1:])
    print("| benchmark | elements/iter | median per element | per second |")
    print("|---|---|---|---|")
    for name, elements, per, rate in rows(root, groups):
        print(f"| {name} | {elements} | {fmt_time(per)} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
