-- The value funnel as events: the wide form (one column per stage on raw.demands) unpivoted,
-- plus the long-form events (back-transitions, re-entries) from raw.demand_events.
WITH wide AS (
    UNPIVOT (
        SELECT
            demand_id,
            proposed_at AS proposed,
            analysed_at AS analysed,
            scheduled_at AS scheduled,
            in_development_at AS in_development,
            in_test_at AS in_test,
            released_at AS released,
            reviewed_at AS reviewed,
            rejected_at AS rejected,
            cancelled_at AS cancelled
        FROM raw.demands
    )
    ON proposed, analysed, scheduled, in_development, in_test, released, reviewed, rejected, cancelled
    INTO NAME stage VALUE entered_at
)
SELECT demand_id, stage, entered_at, 'wide' AS origin
FROM wide
WHERE entered_at IS NOT NULL
UNION ALL
SELECT demand_id, stage, entered_at, 'event' AS origin
FROM raw.demand_events
