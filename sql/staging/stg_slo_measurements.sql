-- Monthly SLI inputs per application.
SELECT application_id, period, good_events, total_events
FROM raw.slo_measurements
