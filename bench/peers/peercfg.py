"""What the peers share: the sources of pipeline.toml (path, sheet, header aliases) and Excel's
XNPV/XIRR as itvalue computes them (pipeline/metrics/excel.rs). Pure Python, no data library:
an analyst keeps such helpers in a module of their own and imports it from both scripts.
"""

from __future__ import annotations

import glob
import math
import os
import re
import tomllib
from datetime import date


def load(config_path: str) -> dict:
    """The configuration, with every source's path made absolute (globs expanded)."""
    with open(config_path, "rb") as f:
        cfg = tomllib.load(f)
    base = os.path.dirname(os.path.abspath(config_path))
    sources = {}
    for s in cfg.get("source", []):
        pattern = os.path.join(base, s["path"])
        files = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        aliases = {}
        for column, names in (s.get("columns") or {}).items():
            aliases[column] = [names] if isinstance(names, str) else list(names)
        sources[s["entity"]] = {"files": files, "sheet": s.get("sheet"), "aliases": aliases}
    return {
        "sources": sources,
        "reporting_currency": cfg.get("reporting_currency", "EUR"),
        "default_discount_rate": float(cfg.get("default_discount_rate", 0.08)),
        "fx_missing_rate": (cfg.get("fx") or {}).get("missing_rate", "latest"),
    }


def normalise(header: str) -> str:
    """Headers compare case-folded, `_` and `-` as spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[_-]", " ", str(header)).split()).lower()


def rename_map(headers: list[str], aliases: dict, wanted: list[str]) -> dict:
    """{sheet header: entity column} for the wanted columns found (aliases, then own name)."""
    by_norm = {normalise(h): h for h in headers}
    out = {}
    for column in wanted:
        for candidate in aliases.get(column, []) + [column]:
            header = by_norm.get(normalise(candidate))
            if header is not None:
                out[header] = column
                break
    return out


def label(value):
    """An accepted value as itvalue matches it: lower case, spaces and hyphens as `_`."""
    return None if value is None else re.sub(r"[ -]", "_", str(value).strip().lower())


# Excel's XNPV and XIRR, as pipeline/metrics/excel.rs computes them (same operations in the same
# order, so the same doubles).

def _times(dates: list[date]) -> list[float]:
    d0 = dates[0]
    return [(d - d0).days / 365.0 for d in dates]


def _pv(rate, values, times):
    total = 0.0
    for v, t in zip(values, times):
        total += v / (1.0 + rate) ** t
    return total


def _dpv(rate, values, times):
    total = 0.0
    for v, t in zip(values, times):
        total += -t * v / (1.0 + rate) ** (t + 1.0)
    return total


def xnpv(rate: float, values: list[float], dates: list[date]):
    if not values or rate <= -1.0:
        return None
    return _pv(rate, values, _times(dates))


def xirr(values: list[float], dates: list[date]):
    if not values or not (any(v > 0 for v in values) and any(v < 0 for v in values)):
        return None
    times = _times(dates)
    scale = max(1.0, max(abs(v) for v in values))
    rate = 0.1
    for _ in range(200):
        try:
            f = _pv(rate, values, times)
            d = _dpv(rate, values, times)
        except (OverflowError, ZeroDivisionError):
            break
        if not (math.isfinite(f) and math.isfinite(d)) or d == 0.0:
            break
        nxt = rate - f / d
        if not math.isfinite(nxt) or nxt <= -1.0:
            break
        if abs(nxt - rate) <= 1e-15 * max(abs(nxt), 1.0):
            return nxt if abs(_pv(nxt, values, times)) <= 1e-9 * scale else _bracketed(values, times, scale)
        rate = nxt
    else:
        if abs(_pv(rate, values, times)) <= 1e-9 * scale:
            return rate
    return _bracketed(values, times, scale)


def _bracketed(values, times, scale):
    def f(r):
        try:
            return _pv(r, values, times)
        except (OverflowError, ZeroDivisionError):
            return math.inf
    grid = [-0.9999, -0.999, -0.99, -0.95, -0.9] + [i * 0.05 for i in range(-17, 21)]
    grid += [1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0, 10000.0]
    brackets = []
    for a, b in zip(grid, grid[1:]):
        fa, fb = f(a), f(b)
        if math.isfinite(fa) and math.isfinite(fb) and (fa == 0.0 or math.copysign(1, fa) != math.copysign(1, fb)):
            brackets.append((a, b))
    if not brackets:
        return None
    lo, hi = min(brackets, key=lambda p: abs((p[0] + p[1]) / 2.0 - 0.1))
    f_lo = f(lo)
    if f_lo == 0.0:
        return lo
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        f_mid = f(mid)
        if f_mid == 0.0:
            return mid if abs(f_mid) <= 1e-9 * scale else None
        if math.copysign(1, f_mid) == math.copysign(1, f_lo):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    root = (lo + hi) / 2.0
    return root if abs(f(root)) <= 1e-9 * scale else None


def round2(x):
    """Two decimals, half away from zero, as Rust's (x * 100).round() / 100."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    y = x * 100.0
    a = abs(y)
    fl = math.floor(a)
    r = fl + 1.0 if a - fl >= 0.5 else fl
    return math.copysign(r, y) / 100.0


def percentile_inc(values, p):
    """Excel's PERCENTILE.INC as itvalue computes it (metrics/stats.rs `percentile_inc`, and
    Polars' linear quantile): the same operations, so the same double, which matters where a
    figure is then rounded to two decimals."""
    xs = sorted(v for v in values if v is not None and v == v)
    if not xs:
        return None
    rank = (len(xs) - 1) * p
    below = math.floor(rank)
    above = math.ceil(rank)
    return xs[below] + (rank - below) * (xs[above] - xs[below])
