-- Incidents with the business-impact window (impact_start falls back to opened_at).
SELECT
    incident_id,
    application_id,
    severity,
    opened_at,
    coalesce(impact_start, opened_at) AS impact_start,
    impact_end,
    resolved_at,
    closed_at,
    caused_by_deployment_id,
    problem_id,
    users_affected,
    category
FROM raw.incidents
