-- Deployments with their duration in minutes when the start is known, measured on instants
-- (to_utc), so a deployment across a daylight-saving change is not an hour off.
SELECT
    deployment_id,
    application_id,
    started_at,
    finished_at,
    result,
    environment,
    strategy,
    demand_id,
    date_diff('minute', to_utc(started_at), to_utc(finished_at)) AS duration_minutes
FROM raw.deployments
