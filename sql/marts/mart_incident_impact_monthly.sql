-- Business-impact minutes per incident and month: the overlap of [impact_start, impact_end] with
-- each calendar month, so an incident across a month end is split at the boundary. impact_end_from
-- says where the end came from (impact_end, else resolved_at or closed_at; see stg_incidents). An
-- impact that has not ended counts up to the end of the report period (getvariable('period')) and
-- is marked impact_open; a later run counts it further. Minutes are measured on instants (to_utc), so a
-- daylight-saving change never adds or removes an hour. downtime_cost is exact money: the seconds
-- times the application's cost per minute in cents, over 60, rounded once to cents (half away
-- from zero), before any severity weighting; it is empty when the application has no cost per
-- minute.
WITH period_end AS (
    SELECT CAST(getvariable('period') + INTERVAL 1 MONTH AS TIMESTAMP) AS ends_at
),
windows AS (
    SELECT
        incident_id,
        application_id,
        severity,
        impact_start,
        coalesce(impact_end, (SELECT ends_at FROM period_end)) AS impact_end,
        impact_end IS NULL AS impact_open,
        coalesce(impact_end_from, 'open') AS impact_end_from
    FROM stg_incidents
    WHERE impact_end IS NOT NULL OR impact_start < (SELECT ends_at FROM period_end)
),
months AS (
    SELECT
        w.*,
        unnest(generate_series(
            date_trunc('month', w.impact_start),
            date_trunc('month', w.impact_end),
            INTERVAL 1 MONTH
        )) AS month_start
    FROM windows AS w
    WHERE w.impact_end > w.impact_start
),
split AS (
    SELECT
        incident_id,
        application_id,
        severity,
        impact_open,
        impact_end_from,
        CAST(month_start AS DATE) AS period,
        date_diff(
            'second',
            to_utc(greatest(impact_start, month_start)),
            to_utc(least(impact_end, month_start + INTERVAL 1 MONTH))
        ) AS impact_seconds
    FROM months
)
SELECT
    s.incident_id,
    s.application_id,
    a.investment_id,
    s.severity,
    s.period,
    round(s.impact_seconds / 60.0, 4) AS impact_minutes,
    s.impact_open,
    s.impact_end_from,
    CAST(
        CAST((CAST(s.impact_seconds AS HUGEINT) * CAST(a.downtime_cost_per_minute * 100 AS HUGEINT) + 30) // 60
            AS DECIMAL(18, 0)) * CAST(0.01 AS DECIMAL(3, 2))
        AS DECIMAL(18, 2)
    ) AS downtime_cost
FROM split AS s
LEFT JOIN stg_applications AS a USING (application_id)
WHERE s.impact_seconds > 0
