-- Stage time per demand: each visit to a stage, from entering it to entering the next one (in
-- time order), with the demand's type, value stream and team. The last stage a demand reached has
-- no left_at: it is still there, or it is final. A move from a funnel stage to an earlier one is
-- a back-transition (rework); leaving an exit (a rejected demand reopened) is not. Stage time is
-- measured on instants (to_utc), so a daylight-saving change never adds or removes an hour.
WITH ordered AS (
    SELECT
        demand_id,
        stage,
        stage_order,
        entered_at,
        lead(stage) OVER visits AS next_stage,
        lead(stage_order) OVER visits AS next_stage_order,
        lead(entered_at) OVER visits AS left_at,
        row_number() OVER visits AS visit
    FROM stg_demand_events
    WINDOW visits AS (PARTITION BY demand_id ORDER BY entered_at, stage_order)
)
SELECT
    o.demand_id,
    o.visit,
    o.stage,
    o.stage_order,
    o.entered_at,
    o.left_at,
    o.next_stage,
    round(date_diff('second', to_utc(o.entered_at), to_utc(o.left_at)) / 86400.0, 6) AS days_in_stage,
    coalesce(o.stage_order <= 7 AND o.next_stage_order < o.stage_order, false)
        AS is_back_transition,
    o.stage IN ('in_development', 'in_test') AS is_active_stage,
    d.type,
    d.value_stream,
    d.team
FROM ordered AS o
LEFT JOIN stg_demands AS d USING (demand_id)
