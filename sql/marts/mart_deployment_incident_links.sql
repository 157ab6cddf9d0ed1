-- Why a deployment counts as failed, one row per reason: its own result (failed or rolled_back),
-- or an incident that names it in caused_by_deployment_id. A deployment with two reasons has two
-- rows; count distinct deployment_id for the change failure rate.
SELECT
    d.deployment_id,
    d.application_id,
    d.environment,
    d.strategy,
    d.finished_at,
    d.result,
    'result' AS rule,
    CAST(NULL AS VARCHAR) AS incident_id,
    CAST(NULL AS BIGINT) AS severity,
    CAST(NULL AS TIMESTAMP) AS impact_start,
    CAST(NULL AS TIMESTAMP) AS impact_end
FROM stg_deployments AS d
WHERE d.result IN ('failed', 'rolled_back')
UNION ALL
SELECT
    d.deployment_id,
    d.application_id,
    d.environment,
    d.strategy,
    d.finished_at,
    d.result,
    'caused_by' AS rule,
    i.incident_id,
    i.severity,
    i.impact_start,
    i.impact_end
FROM stg_deployments AS d
JOIN stg_incidents AS i ON i.caused_by_deployment_id = d.deployment_id
