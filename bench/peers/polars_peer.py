#!/usr/bin/env python3
"""The core figures of a month with Polars, reading the workbooks with fastexcel and writing the
result with XlsxWriter: what an analyst who knows Polars would write instead of running itvalue.

Reads the sources named in pipeline.toml (paths, sheets, header aliases), applies the rules the
core figures depend on (labels to values, money as exact cents with thousands separators, rows
whose required fields are missing or do not parse are rejected, FX conversion with the latest
known rate for months without one) and computes, as of the period:
  per investment   actual and budget to date and year to date, YTD variance, EV, CPI, SPI, NPV, IRR
  per value stream demands released in the month (throughput), lead time p50 and p85 (days)
  per application  production deployments, failed ones, change failure rate, time to restore p50

    polars_peer.py --config pipeline.toml --period 2026-10 --out figures.xlsx
"""

from __future__ import annotations

import argparse
import calendar
import sys
from datetime import date, datetime

import fastexcel
import polars as pl

import peercfg

MONEY_TEXT = r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$"
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def read(cfg: dict, entity: str, wanted: list[str], text: tuple[str, ...] = ()) -> pl.DataFrame:
    """The entity's sheet(s), only the wanted columns, renamed to the entity's column names."""
    src = cfg["sources"][entity]
    candidates = {}
    for column in wanted:
        for name in src["aliases"].get(column, []) + [column]:
            candidates[peercfg.normalise(name)] = column
    frames = []
    for path in src["files"]:
        reader = fastexcel.read_excel(path)
        sheet = src["sheet"] or reader.sheet_names[0]
        # Money is read as text, so that "48,701.81" typed as text is kept and parsed below.
        sheet_obj = reader.load_sheet_by_name(
            sheet,
            use_columns=lambda c: peercfg.normalise(c.name) in candidates,
            dtypes={h: "string" for h in _headers_for(src, text)} or None,
        )
        df = sheet_obj.to_polars()
        df = df.rename(peercfg.rename_map(df.columns, src["aliases"], wanted))
        frames.append(df)
    df = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    for column in wanted:
        if column not in df.columns:
            df = df.with_columns(pl.lit(None).alias(column))
    return df


def _headers_for(src: dict, columns: tuple[str, ...]) -> list[str]:
    names = []
    for column in columns:
        for name in src["aliases"].get(column, []) + [column]:
            names += [name, name.title(), name.replace("_", " ").title()]
    return names


def cents(column: str) -> pl.Expr:
    """Money text as integer cents; null when it does not parse as money."""
    s = pl.col(column).cast(pl.String).str.strip_chars()
    return (
        pl.when(s.str.contains(MONEY_TEXT))
        .then((s.str.replace_all(",", "").cast(pl.Float64) * 100).round().cast(pl.Int64))
        .otherwise(None)
    )


def label(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase().str.replace_all(r"[ -]", "_")


def convert(lines: pl.DataFrame, rates: pl.DataFrame, reporting: str) -> pl.DataFrame:
    """Adds `cents_reporting`: amount × the month's rate (DECIMAL(18,8)), rounded half away from
    zero to cents; the latest earlier rate where the month has none; null without any rate."""
    lines = lines.with_columns(pl.col("currency").fill_null(reporting))
    foreign = lines.filter(pl.col("currency") != reporting)
    needed = foreign.select("currency", "period").unique().sort("period")
    matched = needed.join_asof(rates.sort("currency", "period"), on="period", by="currency", strategy="backward", check_sortedness=False)
    lines = lines.join(matched, on=["currency", "period"], how="left").with_columns(
        pl.when(pl.col("currency") == reporting).then(pl.lit(100_000_000, pl.Int64)).otherwise(pl.col("rate_e8")).alias("rate_e8")
    )
    q = pl.col("cents") * pl.col("rate_e8")
    return lines.with_columns(
        (pl.when(q >= 0).then((q + 50_000_000) // 100_000_000).otherwise(-((-q + 50_000_000) // 100_000_000))).alias("cents_reporting")
    )


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def finance(cfg: dict, first: date) -> pl.DataFrame:
    reporting = cfg["reporting_currency"]
    inv = read(cfg, "investments", ["investment_id", "name", "category", "budget_total", "discount_rate"])
    inv = inv.with_columns(
        pl.col("budget_total").cast(pl.Float64),
        pl.col("discount_rate").cast(pl.Float64),
    ).filter(pl.col("investment_id").is_not_null() & pl.col("name").is_not_null() & pl.col("category").is_not_null())
    inv = inv.with_columns((pl.col("budget_total") * 100).round().cast(pl.Int64).alias("budget_total_cents"))

    fx = read(cfg, "fx_rates", ["currency", "period", "rate_to_reporting"])
    fx = fx.select(
        pl.col("currency").str.to_uppercase(),
        pl.col("period").cast(pl.Date),
        (pl.col("rate_to_reporting").cast(pl.Float64) * 1e8).round().cast(pl.Int64).alias("rate_e8"),
    ).filter(pl.col("currency") != reporting)

    costs = read(cfg, "costs", ["investment_id", "period", "scenario", "amount", "currency"], text=("amount",))
    costs = costs.with_columns(
        cents("amount").alias("cents"), label("scenario").alias("scenario"), pl.col("period").cast(pl.Date),
        pl.col("currency").str.strip_chars().str.to_uppercase(),
    )
    costs = costs.filter(  # rejects: a required field missing or not parsing
        pl.col("investment_id").is_not_null() & pl.col("period").is_not_null()
        & pl.col("cents").is_not_null() & pl.col("scenario").is_in(["actual", "budget", "forecast"])
    )
    benefits = read(cfg, "benefits", ["investment_id", "period", "scenario", "amount", "currency"], text=("amount",))
    benefits = benefits.with_columns(
        cents("amount").alias("cents"), label("scenario").alias("scenario"), pl.col("period").cast(pl.Date),
        pl.col("currency").str.strip_chars().str.to_uppercase(),
    ).filter(
        pl.col("investment_id").is_not_null() & pl.col("period").is_not_null()
        & pl.col("cents").is_not_null() & pl.col("scenario").is_in(["planned", "realized"])
    )
    costs = convert(costs, fx, reporting)
    benefits = convert(benefits, fx, reporting)

    def by_scenario(lines, scenarios, missing_name):
        aggs = []
        for s in scenarios:
            aggs += [
                pl.col("cents_reporting").filter(pl.col("scenario") == s).sum().alias(f"{s}_sum"),
                (pl.col("scenario") == s).sum().alias(f"{s}_lines"),
            ]
        aggs.append(pl.col("cents_reporting").is_null().sum().alias(missing_name))
        return lines.group_by("investment_id", "period").agg(aggs)

    c = by_scenario(costs, ["actual", "budget", "forecast"], "cost_missing")
    b = by_scenario(benefits, ["planned", "realized"], "benefit_missing")
    monthly = c.join(b, on=["investment_id", "period"], how="full", coalesce=True)
    monthly = monthly.with_columns(pl.col(r"^.*_(lines|missing)$").fill_null(0))
    monthly = monthly.with_columns(
        [pl.when(pl.col("cost_missing") == 0).then(pl.col(f"{s}_sum").fill_null(0)).alias(s) for s in ["actual", "budget", "forecast"]]
        + [pl.when(pl.col("benefit_missing") == 0).then(pl.col(f"{s}_sum").fill_null(0)).alias(s) for s in ["planned", "realized"]]
    )

    def complete_sum(column):
        return pl.when(pl.col(column).null_count() > 0).then(None).otherwise(pl.col(column).sum())

    year_start = date(first.year, 1, 1)
    to_date = monthly.filter(pl.col("period") <= first).group_by("investment_id").agg(
        complete_sum("actual").alias("actual_to_date"), complete_sum("budget").alias("budget_to_date"),
        pl.len().alias("months_to_date"))
    ytd = monthly.filter((pl.col("period") <= first) & (pl.col("period") >= year_start)).group_by("investment_id").agg(
        complete_sum("actual").alias("actual_ytd"), complete_sum("budget").alias("budget_ytd"),
        pl.len().alias("months_ytd"))
    lifetime = monthly.group_by("investment_id").agg(
        complete_sum("budget").alias("budget_all"),
        pl.col("actual_lines").sum().alias("actual_ever"), pl.col("budget_lines").sum().alias("budget_ever"))
    progress = read(cfg, "progress", ["investment_id", "period", "percent_complete"]).with_columns(
        pl.col("period").cast(pl.Date), pl.col("percent_complete").cast(pl.Float64))
    progress = progress.filter(pl.col("period") <= first).sort("period").group_by("investment_id").agg(
        pl.col("percent_complete").last())

    def figure(name, presence, ever):
        return (pl.when(pl.col(ever).fill_null(0) == 0).then(None)
                .when(pl.col(presence).is_null()).then(0).otherwise(pl.col(name)).alias(name))

    f = (inv.join(ytd, on="investment_id", how="left").join(to_date, on="investment_id", how="left")
         .join(lifetime, on="investment_id", how="left").join(progress, on="investment_id", how="left"))
    f = f.with_columns(
        figure("actual_ytd", "months_ytd", "actual_ever"), figure("budget_ytd", "months_ytd", "budget_ever"),
        figure("actual_to_date", "months_to_date", "actual_ever"), figure("budget_to_date", "months_to_date", "budget_ever"),
        pl.coalesce(pl.col("budget_total_cents"),
                    pl.when(pl.col("budget_ever").fill_null(0) > 0).then(pl.col("budget_all"))).alias("bac"),
    )
    # EV = BAC × % complete, rounded once to cents half away from zero; the share is taken at the
    # 15 significant digits Excel shows (so 35% of 1,000.10 is 350.04).
    ev = []
    from decimal import ROUND_HALF_UP, Decimal
    for bac, pct in zip(f["bac"].to_list(), f["percent_complete"].to_list()):
        if bac is None or pct is None:
            ev.append(None)
        else:
            v = Decimal(bac) * Decimal(f"{pct:.14e}")
            ev.append(int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    f = f.with_columns(pl.Series("earned_value", ev, dtype=pl.Int64))
    ratio = lambda n, d: pl.when(pl.col(d) == 0).then(None).otherwise(pl.col(n) / pl.col(d))
    f = f.with_columns(
        (pl.col("actual_ytd") - pl.col("budget_ytd")).alias("variance_ytd"),
        ratio("earned_value", "actual_to_date").alias("cpi"),
        ratio("earned_value", "budget_to_date").alias("spi"),
    )
    npv, irr = valuation(monthly, f, first, cfg["default_discount_rate"])
    f = f.join(npv, on="investment_id", how="left")
    money = ["actual_ytd", "budget_ytd", "variance_ytd", "actual_to_date", "budget_to_date", "earned_value"]
    return f.select(
        "investment_id", *[(pl.col(m) / 100).alias(m) for m in money], "cpi", "spi",
        (pl.col("npv_cents") / 100).alias("npv"), "irr",
    ).sort("investment_id")


def valuation(monthly: pl.DataFrame, f: pl.DataFrame, first: date, default_rate: float):
    """NPV (XNPV, to cents) and IRR (XIRR) of each investment's monthly net cash flows: actual
    costs and realized benefits up to the period, forecast (else budget) costs and planned
    benefits after it, from its first month with such a line to its last, dated month ends."""
    from decimal import ROUND_HALF_UP, Decimal
    rates = dict(zip(f["investment_id"].to_list(), f["discount_rate"].to_list()))
    m = monthly.with_columns(
        pl.when(pl.col("period") <= first).then(pl.col("actual_lines") + pl.col("realized_lines") > 0)
        .otherwise(pl.col("forecast_lines") + pl.col("budget_lines") + pl.col("planned_lines") > 0).alias("used"),
        pl.when(pl.col("period") <= first).then(pl.col("actual"))
        .when(pl.col("forecast_lines") > 0).then(pl.col("forecast")).otherwise(pl.col("budget")).alias("cost"),
        pl.when(pl.col("period") <= first).then(pl.col("realized")).otherwise(pl.col("planned")).alias("benefit"),
    ).filter(pl.col("used")).sort("investment_id", "period")
    ids, npvs, irrs = [], [], []
    for (inv_id,), g in m.group_by("investment_id", maintain_order=True):
        months = g["period"].to_list()
        costs = dict(zip(months, g["cost"].to_list()))
        bens = dict(zip(months, g["benefit"].to_list()))
        values, dates, all_zero_costs, complete = [], [], True, True
        d = months[0]
        while d <= months[-1]:
            c, b = (costs[d], bens[d]) if d in costs else (0, 0)
            if c is None or b is None:
                complete = False
                break
            all_zero_costs &= c == 0
            values.append((b - c) / 100)
            dates.append(month_end(d))
            d = next_month(d)
        ids.append(inv_id)
        if not complete or all_zero_costs:
            npvs.append(None)
            irrs.append(None)
            continue
        rate = rates.get(inv_id)
        rate = default_rate if rate is None else rate
        v = peercfg.xnpv(rate, values, dates)
        npvs.append(None if v is None else int(Decimal(v).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        irrs.append(peercfg.xirr(values, dates))
    out = pl.DataFrame({"investment_id": ids, "npv_cents": npvs, "irr": irrs},
                       schema={"investment_id": pl.String, "npv_cents": pl.Int64, "irr": pl.Float64})
    return out, None


STAGES = {
    "proposed_at": "proposed", "analysed_at": "analysed", "scheduled_at": "scheduled",
    "in_development_at": "in_development", "in_test_at": "in_test", "released_at": "released",
    "reviewed_at": "reviewed", "rejected_at": "rejected", "cancelled_at": "cancelled",
}


def flow(cfg: dict, start: datetime, end: datetime) -> pl.DataFrame:
    demands = read(cfg, "demands", ["demand_id", "type", "value_stream", *STAGES])
    demands = demands.filter(pl.col("demand_id").is_not_null() & pl.col("type").is_not_null())
    wide = demands.unpivot(index="demand_id", on=list(STAGES), variable_name="stage", value_name="entered_at")
    wide = wide.with_columns(pl.col("stage").replace_strict(STAGES), pl.col("entered_at").cast(pl.Datetime("ms")))
    long = read(cfg, "demand_events", ["demand_id", "stage", "entered_at"]).with_columns(
        label("stage").alias("stage"), pl.col("entered_at").cast(pl.Datetime("ms")))
    events = pl.concat([wide, long.select("demand_id", "stage", "entered_at")]).filter(
        pl.col("entered_at").is_not_null() & (pl.col("entered_at") < end))
    per = events.group_by("demand_id").agg(
        pl.col("entered_at").filter(pl.col("stage") == "proposed").min().alias("proposed"),
        pl.col("entered_at").filter(pl.col("stage") == "released").min().alias("released"),
    ).join(demands.select("demand_id", "value_stream"), on="demand_id", how="left")
    per = per.filter((pl.col("released") >= start) & (pl.col("released") < end)).with_columns(
        ((pl.col("released") - pl.col("proposed")).dt.total_milliseconds() / DAY_MS).alias("lead_days"))
    # Percentiles as Excel's PERCENTILE.INC, shown to two decimals (half away from zero).
    return per.group_by("value_stream").agg(
        pl.len().alias("released"),
        pl.col("lead_days").quantile(0.5, "linear").alias("lead_time_p50"),
        pl.col("lead_days").quantile(0.85, "linear").alias("lead_time_p85"),
    ).with_columns(
        pl.col("lead_time_p50", "lead_time_p85").map_elements(peercfg.round2, return_dtype=pl.Float64)
    ).sort("value_stream", nulls_last=True)


def operations(cfg: dict, start: datetime, end: datetime) -> pl.DataFrame:
    inc = read(cfg, "incidents", ["incident_id", "application_id", "severity", "opened_at", "impact_start",
                                  "impact_end", "resolved_at", "closed_at", "caused_by_deployment_id"])
    inc = inc.with_columns(pl.col("severity").cast(pl.Float64)).filter(
        pl.col("incident_id").is_not_null() & pl.col("application_id").is_not_null()
        & pl.col("severity").is_between(1, 4) & pl.col("opened_at").is_not_null()
        & (pl.col("opened_at") < end))
    dep = read(cfg, "deployments", ["deployment_id", "application_id", "finished_at", "result", "environment"])
    dep = dep.with_columns(label("result").alias("result")).filter(
        pl.col("deployment_id").is_not_null() & pl.col("application_id").is_not_null()
        & pl.col("finished_at").is_not_null() & pl.col("result").is_in(["success", "failed", "rolled_back"]))
    caused = inc["caused_by_deployment_id"].drop_nulls().unique()
    dep = dep.filter(
        (pl.col("environment").is_null() | pl.col("environment").str.to_lowercase().is_in(["production", "prod"]))
        & (pl.col("finished_at") >= start) & (pl.col("finished_at") < end)
    ).with_columns(
        (pl.col("result").is_in(["failed", "rolled_back"]) | pl.col("deployment_id").is_in(caused.implode())).alias("failed"))
    delivery = dep.group_by("application_id").agg(
        pl.len().alias("production_deployments"), pl.col("failed").sum().alias("failed_deployments"))
    delivery = delivery.with_columns(
        (pl.col("failed_deployments") / pl.col("production_deployments")).alias("change_failure_rate"))
    inc = inc.with_columns(
        pl.coalesce("impact_start", "opened_at").alias("impact_start"),
        pl.coalesce("impact_end", "resolved_at", "closed_at").alias("impact_end"),
    ).filter((pl.col("impact_end") >= start) & (pl.col("impact_end") < end)).with_columns(
        (pl.col("impact_end") - pl.col("impact_start")).dt.total_milliseconds().alias("restore_ms"))
    # The median as itvalue computes it row by row (stats.rs percentile_inc), then two decimals.
    # Hours are divided in Python: Polars turns a division by a literal into a multiplication by
    # its reciprocal, a last-digit difference that can move a figure rounded at x.xx5.
    restore = inc.group_by("application_id").agg(pl.col("restore_ms"))
    restore = restore.with_columns(pl.col("restore_ms").map_elements(
        lambda ms: peercfg.round2(peercfg.percentile_inc([m / HOUR_MS for m in ms], 0.5)),
        return_dtype=pl.Float64,
    ).alias("restore_p50_hours")).drop("restore_ms")
    return delivery.join(restore, on="application_id", how="full", coalesce=True).sort("application_id")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="pipeline.toml")
    ap.add_argument("--period", required=True, help="YYYY-MM")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = peercfg.load(args.config)
    first = datetime.strptime(args.period, "%Y-%m").date()
    start = datetime(first.year, first.month, 1)
    nxt = next_month(first)
    end = datetime(nxt.year, nxt.month, 1)
    investments = finance(cfg, first)
    streams = flow(cfg, start, end)
    applications = operations(cfg, start, end)
    import xlsxwriter
    with xlsxwriter.Workbook(args.out) as wb:
        investments.write_excel(wb, worksheet="Investments", autofit=False)
        streams.write_excel(wb, worksheet="Value Streams", autofit=False)
        applications.write_excel(wb, worksheet="Applications", autofit=False)
    print(f"{investments.height} investments, {streams.height} value streams, "
          f"{applications.height} applications -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
