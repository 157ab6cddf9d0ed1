-- Money per investment and month in the reporting currency, one column per scenario.
-- A figure is empty (never zero) when one of its lines lacks an FX rate; the *_lines columns say
-- whether a scenario has lines at all, so "no forecast" and "a forecast of zero" differ.
WITH costs AS (
    SELECT
        investment_id,
        period,
        sum(amount_reporting) FILTER (WHERE scenario = 'actual') AS actual_cost,
        sum(amount_reporting) FILTER (WHERE scenario = 'budget') AS budget_cost,
        sum(amount_reporting) FILTER (WHERE scenario = 'forecast') AS forecast_cost,
        count(*) FILTER (WHERE scenario = 'actual') AS actual_lines,
        count(*) FILTER (WHERE scenario = 'budget') AS budget_lines,
        count(*) FILTER (WHERE scenario = 'forecast') AS forecast_lines,
        count(*) FILTER (WHERE fx_missing) AS cost_lines_without_fx
    FROM stg_costs
    GROUP BY investment_id, period
),
benefits AS (
    SELECT
        investment_id,
        period,
        sum(amount_reporting) FILTER (WHERE scenario = 'planned') AS planned_benefit,
        sum(amount_reporting) FILTER (WHERE scenario = 'realized') AS realized_benefit,
        count(*) FILTER (WHERE scenario = 'planned') AS planned_lines,
        count(*) FILTER (WHERE scenario = 'realized') AS realized_lines,
        count(*) FILTER (WHERE fx_missing) AS benefit_lines_without_fx
    FROM stg_benefits
    GROUP BY investment_id, period
)
SELECT
    coalesce(c.investment_id, b.investment_id) AS investment_id,
    coalesce(c.period, b.period) AS period,
    CAST(CASE WHEN coalesce(c.cost_lines_without_fx, 0) = 0 THEN coalesce(c.actual_cost, 0) END
        AS DECIMAL(18, 2)) AS actual_cost,
    CAST(CASE WHEN coalesce(c.cost_lines_without_fx, 0) = 0 THEN coalesce(c.budget_cost, 0) END
        AS DECIMAL(18, 2)) AS budget_cost,
    CAST(CASE WHEN coalesce(c.cost_lines_without_fx, 0) = 0 THEN coalesce(c.forecast_cost, 0) END
        AS DECIMAL(18, 2)) AS forecast_cost,
    CAST(CASE WHEN coalesce(b.benefit_lines_without_fx, 0) = 0 THEN coalesce(b.planned_benefit, 0) END
        AS DECIMAL(18, 2)) AS planned_benefit,
    CAST(CASE WHEN coalesce(b.benefit_lines_without_fx, 0) = 0 THEN coalesce(b.realized_benefit, 0) END
        AS DECIMAL(18, 2)) AS realized_benefit,
    coalesce(c.actual_lines, 0) AS actual_lines,
    coalesce(c.budget_lines, 0) AS budget_lines,
    coalesce(c.forecast_lines, 0) AS forecast_lines,
    coalesce(b.planned_lines, 0) AS planned_lines,
    coalesce(b.realized_lines, 0) AS realized_lines,
    coalesce(c.cost_lines_without_fx, 0) + coalesce(b.benefit_lines_without_fx, 0) AS lines_without_fx
FROM costs AS c
FULL OUTER JOIN benefits AS b
    ON b.investment_id = c.investment_id AND b.period = c.period
