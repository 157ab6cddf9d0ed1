-- Cost lines converted into the reporting currency at their month's rate, or the rate the FX
-- policy gives (stg_fx_rates); fx_rule says which. A line without a rate keeps amount_reporting
-- empty (never zero) and fx_missing = true.
SELECT
    c.investment_id,
    c.period,
    c.scenario,
    c.cost_type,
    c.cost_pool,
    c.line_id,
    coalesce(c.currency, getvariable('reporting_currency')) AS currency,
    c.amount,
    CAST(round(c.amount * CAST(fx.rate_to_reporting AS DECIMAL(18, 8)), 2) AS DECIMAL(18, 2))
        AS amount_reporting,
    fx.rate_rule AS fx_rule,
    fx.rate_to_reporting IS NULL AS fx_missing
FROM raw.costs AS c
LEFT JOIN stg_fx_rates AS fx
    ON fx.currency = coalesce(c.currency, getvariable('reporting_currency'))
    AND fx.period = c.period
