-- Monthly rates into the reporting currency; the reporting currency itself converts at 1.
SELECT currency, period, rate_to_reporting
FROM raw.fx_rates
UNION ALL
SELECT DISTINCT getvariable('reporting_currency') AS currency, period, 1.0 AS rate_to_reporting
FROM (
    SELECT period FROM raw.costs
    UNION
    SELECT period FROM raw.benefits
) AS periods
WHERE getvariable('reporting_currency') NOT IN (SELECT currency FROM raw.fx_rates)
