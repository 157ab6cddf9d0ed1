-- Deployments with their duration in minutes when the start is known.
SELECT
    deployment_id,
    application_id,
    started_at,
    finished_at,
    result,
    environment,
    strategy,
    demand_id,
    date_diff('minute', started_at, finished_at) AS duration_minutes
FROM raw.deployments
