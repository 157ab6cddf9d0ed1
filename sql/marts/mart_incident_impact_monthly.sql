-- Business-impact minutes per incident and month: the overlap of [impact_start, impact_end] with
-- each calendar month, so an incident across a month end is split at the boundary. Incidents
-- whose impact has not ended are left out (their impact is not known yet). downtime_cost is the
-- minutes times the application's downtime cost per minute, before any severity weighting; it is
-- empty when the application has no cost per minute.
WITH windows AS (
    SELECT incident_id, application_id, severity, impact_start, impact_end
    FROM stg_incidents
    WHERE impact_end IS NOT NULL AND impact_end > impact_start
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
),
split AS (
    SELECT
        incident_id,
        application_id,
        severity,
        CAST(month_start AS DATE) AS period,
        date_diff(
            'second',
            greatest(impact_start, month_start),
            least(impact_end, month_start + INTERVAL 1 MONTH)
        ) / 60.0 AS impact_minutes
    FROM months
)
SELECT
    s.incident_id,
    s.application_id,
    a.investment_id,
    s.severity,
    s.period,
    round(s.impact_minutes, 4) AS impact_minutes,
    CAST(round(s.impact_minutes * a.downtime_cost_per_minute, 2) AS DECIMAL(18, 2)) AS downtime_cost
FROM split AS s
LEFT JOIN stg_applications AS a USING (application_id)
WHERE s.impact_minutes > 0
