-- The application catalogue (CMDB services) with their owning investment.
SELECT
    application_id,
    name,
    investment_id,
    business_criticality,
    downtime_cost_per_minute,
    slo_availability,
    tier,
    lifecycle_stage,
    go_live_date
FROM raw.applications
