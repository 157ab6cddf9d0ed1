-- Monthly rates into the reporting currency, one per currency and month, with the rule that gave
-- each one (rate_rule):
--   'month'     the rate loaded from fx_rates for that month;
--   'reporting' the reporting currency itself, at 1 in every month;
--   'latest'    for a month a cost or benefit line needs but fx_rates lacks (future budget and
--               forecast lines, typically), the latest rate loaded for an earlier month, when the
--               FX policy is "latest" (getvariable('fx_missing_rate'), the default);
--   'budget'    for such a month, the configured budget rate of the currency (policy "budget").
-- A line whose currency and month get no rate here keeps an empty amount_reporting downstream.
WITH reporting AS (
    SELECT getvariable('reporting_currency') AS currency
),
loaded AS (
    SELECT currency, period, rate_to_reporting
    FROM raw.fx_rates
    WHERE currency <> (SELECT currency FROM reporting)
),
needed AS (
    SELECT DISTINCT coalesce(currency, (SELECT currency FROM reporting)) AS currency, period
    FROM raw.costs
    UNION
    SELECT DISTINCT coalesce(currency, (SELECT currency FROM reporting)) AS currency, period
    FROM raw.benefits
),
missing AS (
    SELECT n.currency, n.period
    FROM needed AS n
    WHERE n.currency <> (SELECT currency FROM reporting)
        AND NOT EXISTS (
            SELECT 1 FROM loaded AS l WHERE l.currency = n.currency AND l.period = n.period
        )
),
budget_rates AS (
    SELECT r.currency, r.rate
    FROM (SELECT unnest(getvariable('fx_budget_rates')) AS r)
),
latest AS (
    SELECT m.currency, m.period, l.rate_to_reporting
    FROM missing AS m
    ASOF JOIN loaded AS l ON l.currency = m.currency AND m.period >= l.period
),
filled AS (
    SELECT m.currency, m.period,
        CASE getvariable('fx_missing_rate')
            WHEN 'latest' THEN latest.rate_to_reporting
            WHEN 'budget' THEN b.rate
        END AS rate_to_reporting,
        getvariable('fx_missing_rate') AS rate_rule
    FROM missing AS m
    LEFT JOIN latest USING (currency, period)
    LEFT JOIN budget_rates AS b ON b.currency = m.currency
)
SELECT currency, period, rate_to_reporting, 'month' AS rate_rule
FROM loaded
UNION ALL
SELECT (SELECT currency FROM reporting) AS currency, period, 1.0 AS rate_to_reporting,
    'reporting' AS rate_rule
FROM (SELECT period FROM needed UNION SELECT period FROM loaded) AS months
UNION ALL
SELECT currency, period, rate_to_reporting, rate_rule
FROM filled
WHERE rate_to_reporting IS NOT NULL
