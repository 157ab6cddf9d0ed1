-- One row per demand, without its stage dates (those become stg_demand_events).
SELECT demand_id, type, investment_id, value_stream, team, priority, title
FROM raw.demands
