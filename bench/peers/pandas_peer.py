#!/usr/bin/env python3
"""The core figures of a month with pandas, reading the workbooks with openpyxl (or calamine) and
writing the result with XlsxWriter: what an analyst who knows pandas would write instead of
running itvalue.

The same configuration, rules and figures as polars_peer.py (see its docstring):
  per investment   actual and budget to date and year to date, YTD variance, EV, CPI, SPI, NPV, IRR
  per value stream demands released in the month (throughput), lead time p50 and p85 (days)
  per application  production deployments, failed ones, change failure rate, time to restore p50

    pandas_peer.py --engine openpyxl|calamine --config pipeline.toml --period 2026-10 --out f.xlsx
"""

from __future__ import annotations

import argparse
import calendar
import re
import sys
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

import peercfg

MONEY_TEXT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")


def read(cfg: dict, entity: str, wanted: list[str], engine: str) -> pd.DataFrame:
    """The entity's sheet(s), only the wanted columns, renamed to the entity's column names."""
    src = cfg["sources"][entity]
    candidates = {peercfg.normalise(n) for c in wanted for n in src["aliases"].get(c, []) + [c]}
    frames = []
    for path in src["files"]:
        df = pd.read_excel(path, sheet_name=src["sheet"] or 0, engine=engine,
                           usecols=lambda h: peercfg.normalise(h) in candidates)
        frames.append(df.rename(columns=peercfg.rename_map(list(df.columns), src["aliases"], wanted)))
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for column in wanted:
        if column not in df.columns:
            df[column] = None
    return df


def cents(series: pd.Series) -> pd.Series:
    """Money (numbers, or text such as "48,701.81") as integer cents; NA when it is not money."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        if isinstance(v, (int, float)):
            return int(round(v * 100))
        t = str(v).strip()
        if not MONEY_TEXT.match(t):
            return pd.NA
        return int(round(float(t.replace(",", "")) * 100))
    return series.map(one).astype("Int64")


def label(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.lower().str.replace(r"[ -]", "_", regex=True)


def timestamps(series: pd.Series) -> pd.Series:
    # Excel holds times as fractions of a day; the nearest millisecond is what was typed.
    return pd.to_datetime(series.replace("", None), errors="coerce").dt.round("ms")


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def convert(lines: pd.DataFrame, rates: pd.DataFrame, reporting: str) -> pd.DataFrame:
    """Adds `cents_reporting`: amount × the month's rate at 8 decimals, rounded half away from
    zero; the latest earlier rate where the month has none; NA without any rate."""
    lines = lines.copy()
    lines["currency"] = lines["currency"].fillna(reporting)
    lines["currency"] = lines["currency"].astype(object)
    needed = lines.loc[lines["currency"] != reporting, ["currency", "period"]].drop_duplicates()
    rates = rates.assign(currency=rates["currency"].astype(object))
    matched = pd.merge_asof(needed.sort_values("period"), rates.sort_values("period"),
                            on="period", by="currency", direction="backward")
    lines = lines.merge(matched, on=["currency", "period"], how="left")
    lines.loc[lines["currency"] == reporting, "rate_e8"] = 100_000_000
    q = lines["cents"].astype("Int64") * lines["rate_e8"].astype("Int64")
    lines["cents_reporting"] = np.sign(q) * ((q.abs() + 50_000_000) // 100_000_000)
    return lines


def finance(cfg: dict, first: date, engine: str) -> pd.DataFrame:
    reporting = cfg["reporting_currency"]
    first_ts = pd.Timestamp(first)
    inv = read(cfg, "investments", ["investment_id", "name", "category", "budget_total", "discount_rate"], engine)
    inv = inv.dropna(subset=["investment_id", "name", "category"]).copy()
    inv["budget_total"] = pd.to_numeric(inv["budget_total"].replace("", None), errors="coerce")
    inv["discount_rate"] = pd.to_numeric(inv["discount_rate"].replace("", None), errors="coerce")
    inv["bac_total"] = cents(inv["budget_total"])

    fx = read(cfg, "fx_rates", ["currency", "period", "rate_to_reporting"], engine)
    fx = pd.DataFrame({
        "currency": fx["currency"].str.upper(),
        "period": pd.to_datetime(fx["period"]),
        "rate_e8": (fx["rate_to_reporting"].astype(float) * 1e8).round().astype("int64"),
    })
    fx = fx[fx["currency"] != reporting]

    def lines(entity, scenarios):
        df = read(cfg, entity, ["investment_id", "period", "scenario", "amount", "currency"], engine)
        df["cents"] = cents(df["amount"])
        df["scenario"] = label(df["scenario"])
        df["period"] = pd.to_datetime(df["period"], errors="coerce")
        df["currency"] = df["currency"].astype("string").str.strip().str.upper()
        df = df[df["investment_id"].notna() & df["period"].notna() & df["cents"].notna()
                & df["scenario"].isin(scenarios)]
        df = convert(df, fx, reporting)
        wide = df.pivot_table(index=["investment_id", "period"], columns="scenario",
                              values="cents_reporting", aggfunc="sum")
        counts = df.pivot_table(index=["investment_id", "period"], columns="scenario",
                                values="cents", aggfunc="count")
        missing = df.assign(m=df["cents_reporting"].isna()).groupby(["investment_id", "period"])["m"].sum()
        out = pd.DataFrame(index=missing.index)
        for s in scenarios:
            out[s] = wide[s] if s in wide else 0
            out[f"{s}_lines"] = counts[s] if s in counts else 0
        out["missing"] = missing
        return out

    c = lines("costs", ["actual", "budget", "forecast"])
    b = lines("benefits", ["planned", "realized"]).rename(columns={"missing": "bmissing"})
    monthly = c.join(b, how="outer").reset_index()
    for col in monthly.columns:
        if col.endswith("_lines") or col in ("missing", "bmissing"):
            monthly[col] = monthly[col].fillna(0).astype("int64")
    for s in ["actual", "budget", "forecast"]:
        monthly[s] = monthly[s].fillna(0).astype("Int64").where(monthly["missing"] == 0, pd.NA)
    for s in ["planned", "realized"]:
        monthly[s] = monthly[s].fillna(0).astype("Int64").where(monthly["bmissing"] == 0, pd.NA)

    def complete_sum(s):
        return pd.NA if s.isna().any() else s.sum()

    def window(frame, suffix):
        g = frame.groupby("investment_id")
        return pd.DataFrame({f"actual_{suffix}": g["actual"].agg(complete_sum),
                             f"budget_{suffix}": g["budget"].agg(complete_sum),
                             f"months_{suffix}": g.size()})

    past = monthly[monthly["period"] <= first_ts]
    to_date = window(past, "to_date")
    ytd = window(past[past["period"] >= pd.Timestamp(first.year, 1, 1)], "ytd")
    g = monthly.groupby("investment_id")
    lifetime = pd.DataFrame({"budget_all": g["budget"].agg(complete_sum),
                             "actual_ever": g["actual_lines"].sum(), "budget_ever": g["budget_lines"].sum()})
    progress = read(cfg, "progress", ["investment_id", "period", "percent_complete"], engine)
    progress["period"] = pd.to_datetime(progress["period"])
    progress = (progress[progress["period"] <= first_ts].sort_values("period")
                .groupby("investment_id")["percent_complete"].last())
    f = inv.set_index("investment_id").join([ytd, to_date, lifetime]).join(progress)

    for name, presence, ever in [("actual_ytd", "months_ytd", "actual_ever"), ("budget_ytd", "months_ytd", "budget_ever"),
                                 ("actual_to_date", "months_to_date", "actual_ever"),
                                 ("budget_to_date", "months_to_date", "budget_ever")]:
        v = f[name].astype("Int64").where(f[presence].notna(), 0)
        f[name] = v.where(f[ever].fillna(0) > 0, pd.NA)
    bac_lines = f["budget_all"].where(f["budget_ever"].fillna(0) > 0, pd.NA)
    f["bac"] = f["bac_total"].astype("Int64").fillna(bac_lines.astype("Int64"))
    f["earned_value"] = pd.array([
        pd.NA if pd.isna(bac) or pd.isna(pct)
        else int((Decimal(int(bac)) * Decimal(f"{pct:.14e}")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for bac, pct in zip(f["bac"], f["percent_complete"])], dtype="Int64")
    f["variance_ytd"] = f["actual_ytd"] - f["budget_ytd"]
    ev = f["earned_value"].astype("Float64")
    f["cpi"] = ev / f["actual_to_date"].astype("Float64").replace(0, pd.NA)
    f["spi"] = ev / f["budget_to_date"].astype("Float64").replace(0, pd.NA)
    f = f.join(valuation(monthly, f, first_ts, cfg["default_discount_rate"]))
    money = ["actual_ytd", "budget_ytd", "variance_ytd", "actual_to_date", "budget_to_date", "earned_value", "npv"]
    out = f.reset_index()[["investment_id", *money[:-1], "cpi", "spi", "npv", "irr"]].copy()
    for m in money:
        out[m] = out[m].astype("Float64") / 100
    return out.sort_values("investment_id")


def valuation(monthly: pd.DataFrame, f: pd.DataFrame, first: pd.Timestamp, default_rate: float) -> pd.DataFrame:
    """NPV (XNPV, in cents) and IRR (XIRR) of each investment's monthly net cash flows."""
    m = monthly.copy()
    past = m["period"] <= first
    m["used"] = np.where(past, m["actual_lines"] + m["realized_lines"] > 0,
                         m["forecast_lines"] + m["budget_lines"] + m["planned_lines"] > 0)
    m["cost"] = m["actual"].where(past, m["forecast"].where(m["forecast_lines"] > 0, m["budget"]))
    m["benefit"] = m["realized"].where(past, m["planned"])
    m = m[m["used"]].sort_values(["investment_id", "period"])
    rows = []
    for inv_id, g in m.groupby("investment_id", sort=False):
        months = [p.date() for p in g["period"]]
        costs = dict(zip(months, g["cost"]))
        bens = dict(zip(months, g["benefit"]))
        values, dates, zero_costs, complete = [], [], True, True
        d = months[0]
        while d <= months[-1]:
            c, b = (costs[d], bens[d]) if d in costs else (0, 0)
            if pd.isna(c) or pd.isna(b):
                complete = False
                break
            zero_costs &= c == 0
            values.append((int(b) - int(c)) / 100)
            dates.append(month_end(d))
            d = next_month(d)
        if not complete or zero_costs:
            rows.append((inv_id, pd.NA, np.nan))
            continue
        rate = f.at[inv_id, "discount_rate"] if inv_id in f.index else np.nan
        rate = default_rate if pd.isna(rate) else float(rate)
        v = peercfg.xnpv(rate, values, dates)
        npv = pd.NA if v is None else int(Decimal(v).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        irr = peercfg.xirr(values, dates)
        rows.append((inv_id, npv, np.nan if irr is None else irr))
    out = pd.DataFrame(rows, columns=["investment_id", "npv", "irr"]).set_index("investment_id")
    out["npv"] = out["npv"].astype("Int64")
    return out


STAGES = {
    "proposed_at": "proposed", "analysed_at": "analysed", "scheduled_at": "scheduled",
    "in_development_at": "in_development", "in_test_at": "in_test", "released_at": "released",
    "reviewed_at": "reviewed", "rejected_at": "rejected", "cancelled_at": "cancelled",
}


def flow(cfg: dict, start: pd.Timestamp, end: pd.Timestamp, engine: str) -> pd.DataFrame:
    demands = read(cfg, "demands", ["demand_id", "type", "value_stream", *STAGES], engine)
    demands = demands.dropna(subset=["demand_id", "type"])
    for column in STAGES:
        demands[column] = timestamps(demands[column])
    wide = demands.melt(id_vars="demand_id", value_vars=list(STAGES), var_name="stage", value_name="entered_at")
    wide["stage"] = wide["stage"].map(STAGES)
    long = read(cfg, "demand_events", ["demand_id", "stage", "entered_at"], engine)
    long["stage"] = label(long["stage"])
    long["entered_at"] = timestamps(long["entered_at"])
    events = pd.concat([wide, long[["demand_id", "stage", "entered_at"]]], ignore_index=True)
    events = events[events["entered_at"].notna() & (events["entered_at"] < end)]
    firsts = events[events["stage"].isin(["proposed", "released"])].pivot_table(
        index="demand_id", columns="stage", values="entered_at", aggfunc="min")
    per = firsts.join(demands.set_index("demand_id")["value_stream"], how="left")
    per = per[(per["released"] >= start) & (per["released"] < end)].copy()
    per["lead_days"] = (per["released"] - per["proposed"]).dt.total_seconds() / 86_400
    g = per.groupby("value_stream", dropna=False)["lead_days"]
    out = pd.DataFrame({"released": per.groupby("value_stream", dropna=False).size(),
                        "lead_time_p50": g.agg(lambda x: peercfg.round2(peercfg.percentile_inc(list(x), 0.5))),
                        "lead_time_p85": g.agg(lambda x: peercfg.round2(peercfg.percentile_inc(list(x), 0.85)))})
    return out.reset_index().sort_values("value_stream")


def operations(cfg: dict, start: pd.Timestamp, end: pd.Timestamp, engine: str) -> pd.DataFrame:
    inc = read(cfg, "incidents", ["incident_id", "application_id", "severity", "opened_at", "impact_start",
                                  "impact_end", "resolved_at", "closed_at", "caused_by_deployment_id"], engine)
    for column in ["opened_at", "impact_start", "impact_end", "resolved_at", "closed_at"]:
        inc[column] = timestamps(inc[column])
    inc["severity"] = pd.to_numeric(inc["severity"].replace("", None), errors="coerce")
    inc = inc[inc["incident_id"].notna() & inc["application_id"].notna() & inc["severity"].between(1, 4)
              & inc["opened_at"].notna() & (inc["opened_at"] < end)]
    dep = read(cfg, "deployments", ["deployment_id", "application_id", "finished_at", "result", "environment"], engine)
    dep["result"] = label(dep["result"])
    dep["finished_at"] = timestamps(dep["finished_at"])
    env = dep["environment"].astype("string").str.lower()
    dep = dep[dep["deployment_id"].notna() & dep["application_id"].notna() & dep["finished_at"].notna()
              & dep["result"].isin(["success", "failed", "rolled_back"])
              & (env.isna() | env.isin(["production", "prod"]))
              & (dep["finished_at"] >= start) & (dep["finished_at"] < end)].copy()
    caused = set(inc["caused_by_deployment_id"].dropna())
    dep["failed"] = dep["result"].isin(["failed", "rolled_back"]) | dep["deployment_id"].isin(caused)
    delivery = dep.groupby("application_id").agg(production_deployments=("deployment_id", "size"),
                                                 failed_deployments=("failed", "sum"))
    delivery["change_failure_rate"] = delivery["failed_deployments"] / delivery["production_deployments"]
    inc["impact_start"] = inc["impact_start"].fillna(inc["opened_at"])
    inc["impact_end"] = inc["impact_end"].fillna(inc["resolved_at"]).fillna(inc["closed_at"])
    inc = inc[(inc["impact_end"] >= start) & (inc["impact_end"] < end)].copy()
    inc["restore_hours"] = (inc["impact_end"] - inc["impact_start"]).dt.total_seconds() / 3600
    restore = inc.groupby("application_id")["restore_hours"].agg(
        lambda x: peercfg.round2(peercfg.percentile_inc(list(x), 0.5)))
    out = delivery.join(restore.rename("restore_p50_hours"), how="outer")
    return out.reset_index().sort_values("application_id")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["openpyxl", "calamine"], default="openpyxl")
    ap.add_argument("--config", default="pipeline.toml")
    ap.add_argument("--period", required=True, help="YYYY-MM")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = peercfg.load(args.config)
    first = datetime.strptime(args.period, "%Y-%m").date()
    start = pd.Timestamp(first)
    end = pd.Timestamp(next_month(first))
    investments = finance(cfg, first, args.engine)
    streams = flow(cfg, start, end, args.engine)
    applications = operations(cfg, start, end, args.engine)
    with pd.ExcelWriter(args.out, engine="xlsxwriter") as writer:
        investments.to_excel(writer, sheet_name="Investments", index=False)
        streams.to_excel(writer, sheet_name="Value Streams", index=False)
        applications.to_excel(writer, sheet_name="Applications", index=False)
    print(f"{len(investments)} investments, {len(streams)} value streams, "
          f"{len(applications)} applications -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
