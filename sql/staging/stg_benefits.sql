-- Benefit lines converted into the reporting currency, with their low/high range; fx_rule says
-- which rate converted them (see stg_fx_rates).
SELECT
    b.investment_id,
    b.period,
    b.scenario,
    b.benefit_type,
    coalesce(b.currency, getvariable('reporting_currency')) AS currency,
    b.amount,
    CAST(round(b.amount * CAST(fx.rate_to_reporting AS DECIMAL(18, 8)), 2) AS DECIMAL(18, 2))
        AS amount_reporting,
    CAST(round(b.amount_low * CAST(fx.rate_to_reporting AS DECIMAL(18, 8)), 2) AS DECIMAL(18, 2))
        AS amount_low_reporting,
    CAST(round(b.amount_high * CAST(fx.rate_to_reporting AS DECIMAL(18, 8)), 2) AS DECIMAL(18, 2))
        AS amount_high_reporting,
    fx.rate_rule AS fx_rule,
    fx.rate_to_reporting IS NULL AS fx_missing
FROM raw.benefits AS b
LEFT JOIN stg_fx_rates AS fx
    ON fx.currency = coalesce(b.currency, getvariable('reporting_currency'))
    AND fx.period = b.period
