#!/usr/bin/env python3
"""The summary of a bench/run.sh run as Markdown: per scale and tool the medians of wall time, CPU
time (user + sys) and peak RSS over the counted rounds; the paired ratios (itvalue's time over
each other tool's in the same round, median over rounds); itvalue's per-step times from its run
ledger; and how wall time and memory grew with the data between scales.

In: the folders of one or more runs (times.tsv, steps.tsv, machine.txt). Out: Markdown on stdout.
"""

from __future__ import annotations

import csv
import statistics
import sys
from collections import defaultdict


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main(folders: list[str]) -> int:
    rows, steps = [], []
    for folder in folders:
        with open(f"{folder}/times.tsv") as f:
            rows += [r for r in csv.DictReader(f, delimiter="\t") if int(r["round"]) >= 1]
        with open(f"{folder}/steps.tsv") as f:
            steps += [r for r in csv.DictReader(f, delimiter="\t") if int(r["round"]) >= 1]
    by = defaultdict(list)
    for r in rows:
        by[(int(r["scale"]), r["setting"], r["tool"])].append(r)
    print("## Machine\n")
    for folder in folders:
        with open(f"{folder}/machine.txt") as f:
            for line in f:
                print(f"- {line.rstrip()}")
    print("\n## Medians\n")
    print("| scale | setting | tool | runs | wall s | CPU s | peak RSS MiB |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for (scale, setting, tool), rs in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        wall = median([float(r["wall"]) for r in rs])
        cpu = median([float(r["user"]) + float(r["sys"]) for r in rs])
        rss = median([int(r["rss_kb"]) / 1024 for r in rs])
        print(f"| {scale} | {setting} | {tool} | {len(rs)} | {wall:.2f} | {cpu:.2f} | {rss:.0f} |")

    print("\n## Paired ratios (itvalue ÷ tool, same round; median over rounds)\n")
    print("| scale | setting | itvalue run | against | wall | CPU | peak RSS |")
    print("|---:|---|---|---|---:|---:|---:|")
    rounds = defaultdict(dict)
    for r in rows:
        rounds[(int(r["scale"]), r["setting"], int(r["round"]))][r["tool"]] = r
    pairs = [("cold", "itvalue", t) for t in ("floor", "polars", "pandas-calamine", "pandas-openpyxl")]
    pairs += [("rerun", "itvalue-rerun", t) for t in ("polars", "itvalue-cold")]
    pairs += [("rerun", "itvalue-cold", "polars")]
    scales = sorted({int(r["scale"]) for r in rows})
    for scale in scales:
        for setting, ours, other in pairs:
            ratios = defaultdict(list)
            for (s, st, _), tools in rounds.items():
                if s != scale or st != setting or ours not in tools or other not in tools:
                    continue
                a, b = tools[ours], tools[other]
                ratios["wall"].append(float(a["wall"]) / float(b["wall"]))
                ratios["cpu"].append((float(a["user"]) + float(a["sys"])) / (float(b["user"]) + float(b["sys"])))
                ratios["rss"].append(int(a["rss_kb"]) / int(b["rss_kb"]))
            if ratios["wall"]:
                print(f"| {scale} | {setting} | {ours} | {other} | {median(ratios['wall']):.2f} "
                      f"| {median(ratios['cpu']):.2f} | {median(ratios['rss']):.2f} |")

    print("\n## Step times (itvalue: its run ledger; floor: its read and its write; median ms)\n")
    per = defaultdict(list)
    order = []
    for r in steps:
        key = (int(r["scale"]), r["setting"], r["step"])
        if key not in per:
            order.append(key)
        per[key].append(float(r["ms"]) if r["ms"] not in ("", "None") else float("nan"))
    settings = sorted({(k[0], k[1]) for k in order})
    for scale, setting in settings:
        here = [k for k in order if k[0] == scale and k[1] == setting]
        parts = [f"{k[2]} {median(per[k]):.0f}" for k in here if not k[2].startswith("mem:")]
        print(f"- scale {scale}, {setting}: " + ", ".join(parts) + " (ms)")
        memory = [f"{k[2][4:]} {median(per[k]):.0f}" for k in here if k[2].startswith("mem:")]
        if memory:
            print(f"- scale {scale}, {setting}, peak RSS up to the end of each step: "
                  + ", ".join(memory) + " (MiB)")

    if len(scales) > 1:
        print("\n## Growth between scales (median of the larger ÷ median of the smaller)\n")
        print("| tool | scales | data | wall | peak RSS |")
        print("|---|---|---:|---:|---:|")
        for tool in sorted({k[2] for k in by if k[1] == "cold"}):
            for lo, hi in zip(scales, scales[1:]):
                a, b = by.get((lo, "cold", tool)), by.get((hi, "cold", tool))
                if not a or not b:
                    continue
                w = median([float(r["wall"]) for r in b]) / median([float(r["wall"]) for r in a])
                m = median([int(r["rss_kb"]) for r in b]) / median([int(r["rss_kb"]) for r in a])
                print(f"| {tool} | {lo} → {hi} | ×{hi / lo:g} | ×{w:.2f} | ×{m:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
