-- One row per investment, as loaded. budget_total is in the reporting currency.
SELECT
    investment_id,
    name,
    category,
    value_stream,
    business_unit,
    owner,
    status,
    start_date,
    end_date,
    budget_total,
    discount_rate
FROM raw.investments
