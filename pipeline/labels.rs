//! The words of the pack, in every language it is written in, keyed by name: sheet names,
//! titles, table headers, chart titles and series. A metric's own header and definition are
//! declared with the metric (see `metrics::catalogue`), in the same [`Words`].
//!
//! In: nothing (constants). Out: [`Words`], which the report turns into text for a [`Lang`].

/// A language the pack can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

/// One text in each language; an empty translation falls back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Words {
    /// English and Chinese.
    pub const fn new(en: &'static str, zh: &'static str) -> Words {
        Words { en, zh }
    }

    /// English only (Chinese falls back to it).
    pub const fn en(en: &'static str) -> Words {
        Words { en, zh: "" }
    }

    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh if !self.zh.is_empty() => self.zh,
            _ => self.en,
        }
    }

    /// The text in `lang` with `{name}` placeholders filled from `values`.
    pub fn fill(self, lang: Lang, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.get(lang).to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

// Sheets.
pub const SUMMARY: Words = Words::new("Summary", "摘要");
pub const PORTFOLIO: Words = Words::new("Portfolio", "投资组合");
pub const MONTHLY: Words = Words::new("Monthly", "月度");
pub const CASH_FLOWS: Words = Words::new("Cash Flows", "现金流");
pub const DATA_QUALITY: Words = Words::new("Data Quality", "数据质量");
pub const DEFINITIONS: Words = Words::new("Definitions", "指标定义");
pub const RUN_INFO: Words = Words::new("Run Info", "运行信息");
pub const VALUE_STREAM: Words = Words::new("Value Stream", "价值流");
pub const DELIVERY: Words = Words::new("Delivery", "交付");
pub const RELIABILITY: Words = Words::new("Reliability", "可靠性");

// Titles; {period}, {currency}, {run_id} and {rejects} are filled in.
pub const SUMMARY_TITLE: Words = Words::new(
    "The month for the committee: {period} (amounts in {currency})",
    "投资委员会月度摘要：{period}（金额单位：{currency}）",
);
pub const DOCUMENT_SUBJECT: Words = Words::new(
    "IT investment committee pack, {period}",
    "IT 投资委员会月度报告，{period}",
);
pub const DECISIONS: Words = Words::new(
    "Investments that need a decision, and why",
    "需要决策的投资项目及原因",
);
pub const PORTFOLIO_TITLE: Words = Words::new(
    "Portfolio as of {period} (amounts in {currency})",
    "投资组合，截至 {period}（金额单位：{currency}）",
);
pub const MONTHLY_TITLE: Words = Words::new(
    "Portfolio cost by month, 12 months to {period} ({currency})",
    "投资组合月度成本，截至 {period} 的 12 个月（{currency}）",
);
pub const CASH_FLOWS_TITLE: Words = Words::new(
    "Cash flows by investment and month as of {period} ({currency})",
    "各投资项目按月现金流，截至 {period}（{currency}）",
);
pub const CASH_FLOWS_NOTE: Words = Words::new(
    "Each month is dated on its last day: realized benefits and actual costs up to {period}, planned benefits and forecast (else budget) costs after it. The Portfolio's NPV and IRR are XNPV and XIRR over an investment's row of net cash flows.",
    "每月现金流记在该月最后一天：{period} 及之前为已实现收益与实际成本，之后为计划收益与预测（否则为预算）成本。投资组合表中的 NPV 与 IRR 是对该项目净现金流行的 XNPV 与 XIRR。",
);
pub const NET_CASH_FLOW: Words = Words::new(
    "Net cash flow (benefits − costs)",
    "净现金流（收益 − 成本）",
);
pub const COSTS: Words = Words::new("Costs", "成本");
pub const BENEFITS: Words = Words::new("Benefits", "收益");
pub const INVESTMENT: Words = Words::new("Investment", "投资项目");
pub const NAME: Words = Words::new("Name", "名称");
pub const ACTUAL_MONTH: Words = Words::new("actual", "实际");
pub const PLAN_MONTH: Words = Words::new("plan", "计划");
pub const VALUE_STREAM_TITLE: Words = Words::new(
    "The value funnel by value stream and team as of {period} (amounts in {currency})",
    "截至 {period} 各价值流与团队的需求价值漏斗（金额单位：{currency}）",
);
pub const DELIVERY_TITLE: Words = Words::new(
    "Delivery (DORA) by application, team and release strategy as of {period}",
    "截至 {period} 按应用、团队与发布策略的交付表现（DORA）",
);
pub const RELIABILITY_TITLE: Words = Words::new(
    "Reliability, service levels and incident cost as of {period} (amounts in {currency})",
    "截至 {period} 的可靠性、服务水平与事件成本（金额单位：{currency}）",
);
pub const FLOW_BY_STREAM: Words = Words::new(
    "Flow, lead time and money by value stream and team",
    "各价值流与团队的流动、交付周期与成本",
);
pub const FUNNEL: Words = Words::new(
    "The funnel: arrivals, conversion of the last twelve months' proposals, drop-off and stage times",
    "漏斗：本月进入、近十二个月提案的转化、流失与阶段时长",
);
pub const OLDEST_WIP: Words = Words::new("The oldest work in progress", "最久的在制品");
pub const FLOW_TREND: Words = Words::new(
    "Twelve months: arrivals, throughput, lead time and the cumulative flow",
    "近十二个月：进入、吞吐、交付周期与累积流",
);
pub const DORA_BY_LEVEL: Words = Words::new(
    "DORA figures and tiers for the portfolio, each application, team and release strategy",
    "组合、各应用、团队与发布策略的 DORA 指标与等级",
);
pub const DELIVERY_TREND: Words = Words::new(
    "Twelve months: change failure rate by release strategy",
    "近十二个月：各发布策略的变更失败率",
);
pub const FAILED_DEPLOYMENTS: Words = Words::new(
    "Failed deployments of the month and the rules that failed them",
    "本月失败的部署及判定规则",
);
pub const SERVICE_LEVELS: Words = Words::new(
    "Incidents, time to restore, incident cost and service levels by application",
    "各应用的事件、恢复时间、事件成本与服务水平",
);
pub const TIME_QUADRANT: Words = Words::new(
    "TIME quadrant: technical fit against business fit",
    "TIME 象限：技术适配度与业务适配度",
);
pub const BY_SEVERITY: Words = Words::new("Incidents by severity", "按严重级别的事件");
pub const COST_BY_INVESTMENT: Words = Words::new(
    "Incident cost rolled up to the investments",
    "按投资项目汇总的事件成本",
);
pub const PROBLEMS: Words = Words::new(
    "Problems: recurring incidents and open problems",
    "问题管理：反复发生的事件与未关闭的问题",
);
pub const RELIABILITY_TREND: Words = Words::new(
    "Twelve months: incidents, impact, incident cost and SLA attainment",
    "近十二个月：事件、影响、事件成本与 SLA 达成率",
);
pub const DATA_QUALITY_TITLE: Words = Words::new(
    "Data quality of run {run_id}: {rejects} rejected value(s)",
    "运行 {run_id} 的数据质量：{rejects} 个被拒绝的值",
);
pub const DEFINITIONS_TITLE: Words = Words::new("Definitions of every figure", "各项指标的定义");
pub const RUN_INFO_TITLE: Words = Words::new("Run information", "运行信息");
pub const MODEL_SHEET_TITLE: Words = Words::new(
    "{title} ({period}, model {model})",
    "{title}（{period}，模型 {model}）",
);

// The Summary's headline figures, their details and statuses.
pub const H_SPEND: Words = Words::new("Spend against budget, year to date", "年初至今支出相对预算");
pub const H_NPV: Words = Words::new("Portfolio NPV", "投资组合净现值 (NPV)");
pub const H_NPV_P50: Words = Words::new(
    "Risk-adjusted NPV (Σ of the investments' P50)",
    "风险调整后净现值（各项目 P50 之和）",
);
pub const H_BENEFITS: Words = Words::new("Benefit realization to date", "累计收益实现率");
pub const H_LEAD_TIME: Words = Words::new("Lead time p85 (days)", "交付周期 P85（天）");
pub const H_THROUGHPUT: Words = Words::new("Throughput (demands released)", "吞吐量（已发布需求）");
pub const H_FAILURE_RATE: Words = Words::new("Change failure rate", "变更失败率");
pub const H_RESTORE: Words = Words::new(
    "Time to restore business p50 (hours)",
    "业务恢复时间 P50（小时）",
);
pub const H_INCIDENT_COST: Words = Words::new("Incident cost", "事件成本");
pub const H_SLA: Words = Words::new("SLA attainment", "SLA 达成率");
pub const H_DATA_QUALITY: Words =
    Words::new("Data quality (rows accepted)", "数据质量（接受的行）");
pub const H_NOT_COMPUTED: Words = Words::new(
    "The {figures} figures were not computed (Run Info says why)",
    "未计算{figures}类指标（原因见运行信息）",
);
pub const H_SPEND_DETAIL: Words = Words::new(
    "Actual {actual} against budget {budget} {currency}, January to the month: actual / budget − 1",
    "实际 {actual}，预算 {budget} {currency}（一月至本月）：实际 / 预算 − 1",
);
pub const H_SUM_DETAIL: Words = Words::new(
    "The sum over the {known} investments valued; {missing} without a figure (Portfolio's notes say why)",
    "已估值的 {known} 个投资项目之和；{missing} 个无此指标（原因见投资组合表的说明）",
);
pub const H_BENEFITS_DETAIL: Words = Words::new(
    "Realized {realized} of planned {planned} {currency} up to the month",
    "截至本月已实现 {realized}，计划 {planned} {currency}",
);
pub const H_FROM: Words = Words::new("The portfolio row of {column}", "{column} 的组合行");
pub const H_EMPTY: Words = Words::new(
    "Empty: {column} has no figure for the portfolio (its notes say why)",
    "为空：{column} 没有组合层面的数值（原因见其说明）",
);
pub const H_QUALITY_DETAIL: Words = Words::new(
    "1 − rejected rows / rows read, over every source of the run",
    "1 − 被拒绝行数 / 读取行数（本次运行的全部来源）",
);
pub const GREEN: Words = Words::new("green", "绿");
pub const AMBER: Words = Words::new("amber", "黄");
pub const RED: Words = Words::new("red", "红");
pub const NO_STATUS: Words = Words::new("no thresholds", "未设阈值");
pub const THIS_MONTH: Words = Words::new("This month", "本月");
pub const PREVIOUS_MONTH: Words = Words::new("Previous month", "上月");
pub const TARGET: Words = Words::new("Target", "目标");
pub const HOW: Words = Words::new("How it is made", "计算方式");

// Charts.
pub const ACTUAL_VS_BUDGET: Words = Words::new(
    "Actual vs budget, 12 months to {period} ({currency})",
    "实际与预算对比，截至 {period} 的 12 个月（{currency}）",
);
pub const CHART_FUNNEL: Words = Words::new(
    "The demand funnel: how far the last twelve months' proposals got, as of {period}",
    "需求漏斗：近十二个月的提案走到了哪一步（截至 {period}）",
);
pub const CHART_CUMULATIVE_FLOW: Words = Words::new(
    "Cumulative flow: demands by stage at each month's end, 12 months to {period}",
    "累积流：各月末处于各阶段的需求，截至 {period} 的 12 个月",
);
pub const CHART_LEAD_TIME: Words = Words::new(
    "Lead time of the demands released each month (days), 12 months to {period}",
    "各月发布需求的交付周期（天），截至 {period} 的 12 个月",
);
pub const CHART_FAILURE_RATE: Words = Words::new(
    "Change failure rate by release strategy, {period}",
    "各发布策略的变更失败率，{period}",
);
pub const CHART_INCIDENT_COST: Words = Words::new(
    "Incident cost by month, 12 months to {period} ({currency})",
    "各月事件成本，截至 {period} 的 12 个月（{currency}）",
);
pub const CHART_ERROR_BUDGET: Words = Words::new(
    "Error budget consumed in {period}: the applications that spent most",
    "{period} 错误预算消耗：消耗最多的应用",
);
pub const ERROR_BUDGET_MOST: Words = Words::new(
    "The applications that spent most of their error budget in {period}",
    "{period} 错误预算消耗最多的应用",
);
pub const CHART_PORTFOLIO_MAP: Words = Words::new(
    "Portfolio map: cost to date against NPV, bubble size the budget ({currency})",
    "投资组合地图：累计成本与 NPV，气泡大小为预算（{currency}）",
);
pub const PORTFOLIO_MAP_DATA: Words = Words::new(
    "The portfolio map's investments, by category",
    "投资组合地图中的投资项目（按类别）",
);
pub const CHART_NPV_RANGE: Words = Words::new(
    "Risk-adjusted NPV, P10 to P90 with P50, of the largest investments ({currency})",
    "最大投资项目的风险调整 NPV：P10 至 P90 及 P50（{currency}）",
);
pub const NPV_RANGE_DATA: Words = Words::new(
    "The largest investments by budget at completion, with their NPV range",
    "按完工预算排列的最大投资项目及其 NPV 区间",
);
pub const DEMANDS: Words = Words::new("Demands", "需求数");
pub const DAYS: Words = Words::new("Days", "天");
pub const SHARE: Words = Words::new("Share", "比例");
pub const ACTUAL: Words = Words::new("Actual", "实际");
pub const BUDGET: Words = Words::new("Budget", "预算");

// Headings within sheets.
pub const INPUT_FILES: Words = Words::new("Input files", "输入文件");
pub const REJECTED_VALUES: Words = Words::new("Rejected values", "被拒绝的值");
pub const REJECTED_VALUES_CUT: Words = Words::new(
    "Rejected values: the first {shown} of {total}; Excel's limit of {limit} rows per sheet leaves no room for the other {rest}, which ledger.rejects holds for run {run_id}",
    "被拒绝的值：显示 {total} 个中的前 {shown} 个；Excel 每个工作表最多 {limit} 行，其余 {rest} 个见运行 {run_id} 的 ledger.rejects",
);
pub const LEFT_OUT: Words = Words::new("Left out of this pack", "本报告未包含");
pub const MODELS: Words = Words::new("Models", "模型");
pub const DATA_TESTS: Words = Words::new("Data tests", "数据测试");

// Definitions sheet headers.
pub const FIGURE: Words = Words::new("Figure", "指标");
pub const COLUMN_IN_METRICS: Words = Words::new("Column in metrics", "metrics 中的列");
pub const DEFINITION: Words = Words::new("Definition", "定义");
pub const WHEN_EMPTY: Words = Words::new("When empty", "为空时");

// Run Info rows.
pub const RUN_ID: Words = Words::new("Run ID", "运行编号");
pub const PERIOD: Words = Words::new("Period", "期间");
pub const STARTED_UTC: Words = Words::new("Started (UTC)", "开始时间（UTC）");
pub const VERSION: Words = Words::new("itvalue version", "itvalue 版本");
pub const CONFIGURATION: Words = Words::new("Configuration", "配置");
pub const WAREHOUSE: Words = Words::new("Warehouse", "数据仓库");
pub const REPORTING_CURRENCY: Words = Words::new("Reporting currency", "报告货币");
pub const INPUTS: Words = Words::new("Inputs", "输入");
pub const REJECTS: Words = Words::new("Rejected values", "被拒绝的值");
pub const FX_RATES: Words = Words::new("FX rates", "汇率");
pub const FAILED_OUTSIDE: Words = Words::new("Failed outside the pack", "报告以外的失败");
pub const NOTHING: Words = Words::new("nothing", "无");
pub const NO_AMOUNTS: Words = Words::new("no amounts to convert", "无需换算的金额");
pub const NONE: Words = Words::new("none", "无");

// Column headers of the Data Quality and Run Info tables.
pub const SOURCE: Words = Words::new("Source", "来源");
pub const ENTITY: Words = Words::new("Entity", "实体");
pub const ROWS: Words = Words::new("Rows", "行数");
pub const LOADED: Words = Words::new("Loaded", "已加载");
pub const REJECTED: Words = Words::new("Rejected", "已拒绝");
pub const SUPERSEDED: Words = Words::new("Superseded", "已被取代");
pub const COMPLETENESS: Words = Words::new("Completeness", "完整性");
pub const ACCURACY: Words = Words::new("Accuracy", "准确性");
pub const INTEGRITY: Words = Words::new("Integrity", "关联完整性");
pub const REJECT_RATE: Words = Words::new("Reject rate", "拒绝率");
pub const THRESHOLD: Words = Words::new("Threshold", "阈值");
pub const VERDICT: Words = Words::new("Verdict", "结论");
pub const FILE: Words = Words::new("File", "文件");
pub const ROWS_READ: Words = Words::new("Rows read", "读取行数");
pub const ROWS_LOADED: Words = Words::new("Rows loaded", "加载行数");
pub const ROWS_REJECTED: Words = Words::new("Rows rejected", "拒绝行数");
pub const SHA256: Words = Words::new("SHA-256", "SHA-256");
pub const LOCATION: Words = Words::new("Location", "位置");
pub const ROW_KEY: Words = Words::new("Row key", "行键");
pub const COLUMN: Words = Words::new("Column", "列");
pub const VALUE: Words = Words::new("Value", "值");
pub const RULE_BROKEN: Words = Words::new("Rule broken", "违反的规则");
pub const MODEL: Words = Words::new("Model", "模型");
pub const STATUS: Words = Words::new("Status", "状态");
pub const MATERIALIZED: Words = Words::new("Materialized", "物化方式");
pub const TIME_MS: Words = Words::new("Time (ms)", "耗时（毫秒）");
pub const MESSAGE: Words = Words::new("Message", "信息");
pub const TEST: Words = Words::new("Test", "测试");
pub const SEVERITY: Words = Words::new("Severity", "严重级别");
pub const FAILING_ROWS: Words = Words::new("Failing rows", "失败行数");
pub const KIND: Words = Words::new("Kind", "类型");
pub const FAILING_ROWS_KEPT_IN: Words = Words::new("Failing rows kept in", "失败行保存于");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fall_back_to_english_and_fill_their_placeholders() {
        let title = PORTFOLIO_TITLE.fill(Lang::En, &[("period", "2026-10"), ("currency", "EUR")]);
        assert_eq!(title, "Portfolio as of 2026-10 (amounts in EUR)");
        assert_eq!(
            PORTFOLIO_TITLE.fill(Lang::Zh, &[("period", "2026-10"), ("currency", "EUR")]),
            "投资组合，截至 2026-10（金额单位：EUR）"
        );
        assert_eq!(Words::en("CPI").get(Lang::Zh), "CPI");
    }
}
