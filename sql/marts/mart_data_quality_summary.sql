-- Data-quality scores per source for every run that read it, with the change in each score
-- since the source's previous run, so a source that is getting worse shows it.
SELECT
    q.run_id,
    r.period,
    r.started_at,
    r.command,
    q.source,
    q.entity,
    q.rows,
    q.rows_loaded,
    q.rows_rejected,
    q.rows_superseded,
    q.completeness,
    q.accuracy,
    q.integrity,
    q.reject_rate,
    q.max_reject_rate,
    q.verdict,
    q.completeness - lag(q.completeness) OVER history AS completeness_change,
    q.accuracy - lag(q.accuracy) OVER history AS accuracy_change,
    q.integrity - lag(q.integrity) OVER history AS integrity_change
FROM ledger.data_quality AS q
JOIN ledger.runs AS r USING (run_id)
WINDOW history AS (PARTITION BY q.source ORDER BY r.started_at, q.run_id)
