#!/usr/bin/env python3
"""Checks that a peer's figures equal itvalue's: money to the cent, counts exactly, ratios and
durations to 1e-9 relative (1e-12 absolute near zero), and empty where itvalue's is empty.

In: itvalue's Parquet extracts of the period (`<exports>/<YYYY-MM>/metrics_*.parquet`) and the
peer's workbook (sheets Investments, Value Streams, Applications). Out: exit 0 when every figure
agrees; else exit 1 and one line per disagreement naming the figure, the key and both values.

    check.py EXPORTS_DIR PEER.xlsx [--name PEER]
"""

from __future__ import annotations

import argparse
import math
import sys

import polars as pl

# (itvalue table, level filter, key, peer sheet, [(figure, kind)]); kind: money, count, ratio.
CHECKS = [
    ("investment_finance", None, "investment_id", "Investments", [
        ("actual_to_date", "money"), ("budget_to_date", "money"),
        ("actual_ytd", "money"), ("budget_ytd", "money"), ("variance_ytd", "money"),
        ("earned_value", "money"), ("cpi", "ratio"), ("spi", "ratio"),
        ("npv", "money"), ("irr", "ratio"),
    ]),
    ("flow_value_stream", "value_stream", "value_stream", "Value Streams", [
        ("released", "count"), ("lead_time_p50", "ratio"), ("lead_time_p85", "ratio"),
    ]),
    ("delivery_performance", "application", "application_id", "Applications", [
        ("production_deployments", "count"), ("failed_deployments", "count"),
        ("change_failure_rate", "ratio"),
    ]),
    ("reliability_application", "application", "application_id", "Applications", [
        ("restore_p50_hours", "ratio"),
    ]),
]


def values(frame: pl.DataFrame, key: str, figure: str) -> dict:
    out = {}
    for k, v in zip(frame[key].to_list(), frame[figure].cast(pl.Float64).to_list()):
        out[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
    return out


def agree(a, b, kind) -> bool:
    if kind == "count":  # no row and a count of zero say the same
        return (a or 0) == (b or 0)
    if a is None or b is None:
        return a is None and b is None
    if kind == "money":
        return round(a * 100) == round(b * 100)
    return abs(a - b) <= max(1e-9 * max(abs(a), abs(b)), 1e-12)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exports")
    ap.add_argument("peer")
    ap.add_argument("--name", default="peer")
    ap.add_argument("--exclude", action="append", default=[],
                    help="figure left out of the check (say why in RESULTS.md)")
    args = ap.parse_args(argv)
    sheets = pl.read_excel(args.peer, sheet_id=0, engine="calamine")
    failures, compared = [], 0
    for table, level, key, sheet, figures in CHECKS:
        ours = pl.read_parquet(f"{args.exports}/metrics_{table}.parquet")
        if level is not None:
            ours = ours.filter(pl.col("level") == level)
        theirs = sheets[sheet]
        for figure, kind in figures:
            if figure in args.exclude:
                continue
            a, b = values(ours, key, figure), values(theirs, key, figure)
            for k in sorted(set(a) | set(b), key=lambda x: (x is None, str(x))):
                compared += 1
                if not agree(a.get(k), b.get(k), kind):
                    failures.append(f"{table}.{figure} [{key}={k}]: itvalue {a.get(k)!r}, {args.name} {b.get(k)!r}")
    if failures:
        print(f"MISMATCH: {args.name} disagrees with itvalue on {len(failures)} of {compared} figures:", file=sys.stderr)
        for line in failures[:50]:
            print("  " + line, file=sys.stderr)
        if len(failures) > 50:
            print(f"  ... and {len(failures) - 50} more", file=sys.stderr)
        return 1
    print(f"{args.name}: {compared} figures equal itvalue's", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
