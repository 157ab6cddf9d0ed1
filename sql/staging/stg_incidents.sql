-- Incidents with the business-impact window. impact_start falls back to opened_at. impact_end
-- falls back to resolved_at, then closed_at: an incident resolved without a recorded impact end
-- (common in service-desk exports) had its impact removed by then at the latest. impact_end_from
-- says which column gave the end; an incident with none of them is still open.
SELECT
    incident_id,
    application_id,
    severity,
    opened_at,
    coalesce(impact_start, opened_at) AS impact_start,
    coalesce(impact_end, resolved_at, closed_at) AS impact_end,
    CASE
        WHEN impact_end IS NOT NULL THEN 'impact_end'
        WHEN resolved_at IS NOT NULL THEN 'resolved_at'
        WHEN closed_at IS NOT NULL THEN 'closed_at'
    END AS impact_end_from,
    resolved_at,
    closed_at,
    caused_by_deployment_id,
    problem_id,
    users_affected,
    category
FROM raw.incidents
