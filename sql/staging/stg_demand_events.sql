-- The value funnel as events: the wide form (one column per stage on raw.demands) unpivoted,
-- plus the long-form events (back-transitions, re-entries) from raw.demand_events. An event that
-- both forms hold appears once. stage_order ranks the funnel stages 1 (proposed) to 7 (reviewed);
-- the exits rejected and cancelled rank 8 and 9.
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
),
events AS (
    SELECT demand_id, stage, entered_at, 'wide' AS origin
    FROM wide
    WHERE entered_at IS NOT NULL
    UNION ALL
    SELECT demand_id, stage, entered_at, 'event' AS origin
    FROM raw.demand_events
)
SELECT
    demand_id,
    stage,
    CASE stage
        WHEN 'proposed' THEN 1
        WHEN 'analysed' THEN 2
        WHEN 'scheduled' THEN 3
        WHEN 'in_development' THEN 4
        WHEN 'in_test' THEN 5
        WHEN 'released' THEN 6
        WHEN 'reviewed' THEN 7
        WHEN 'rejected' THEN 8
        WHEN 'cancelled' THEN 9
    END AS stage_order,
    entered_at,
    min(origin) AS origin
FROM events
GROUP BY demand_id, stage, entered_at
