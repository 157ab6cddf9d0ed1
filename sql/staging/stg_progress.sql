-- Reported percent complete per investment and month.
SELECT investment_id, period, percent_complete
FROM raw.progress
