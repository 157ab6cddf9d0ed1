//! Lineage diagrams of the model graph, for `itvalue models graph`.
//!
//! In: the ordered models (with the raw tables each reads). Out: the graph as Mermaid or Graphviz
//! DOT text, raw tables drawn as cylinders and models as boxes, edges from what is read to what
//! reads it.

use std::collections::BTreeSet;

use super::Model;

/// The text formats of a lineage diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

/// The lineage of `models` as a diagram.
pub fn render(models: &[Model], format: Format) -> String {
    let sources: BTreeSet<&str> = models
        .iter()
        .flat_map(|m| m.reads.iter().map(String::as_str))
        .collect();
    let mut edges: Vec<(&str, &str)> = Vec::new();
    for model in models {
        for from in model.reads.iter().chain(&model.depends_on) {
            edges.push((from.as_str(), model.name.as_str()));
        }
    }
    match format {
        Format::Mermaid => mermaid(models, &sources, &edges),
        Format::Dot => dot(models, &sources, &edges),
    }
}

/// Mermaid node ids cannot hold dots, so `raw.costs` becomes `raw_costs` with its label kept.
fn mermaid_id(name: &str) -> String {
    name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
}

fn mermaid(models: &[Model], sources: &BTreeSet<&str>, edges: &[(&str, &str)]) -> String {
    let mut out = String::from("flowchart LR\n");
    for source in sources {
        out.push_str(&format!("    {}[(\"{source}\")]\n", mermaid_id(source)));
    }
    for model in models {
        out.push_str(&format!(
            "    {}[\"{}\"]\n",
            mermaid_id(&model.name),
            model.name
        ));
    }
    for (from, to) in edges {
        out.push_str(&format!(
            "    {} --> {}\n",
            mermaid_id(from),
            mermaid_id(to)
        ));
    }
    out
}

fn dot(models: &[Model], sources: &BTreeSet<&str>, edges: &[(&str, &str)]) -> String {
    let mut out = String::from("digraph models {\n    rankdir=LR;\n");
    for source in sources {
        out.push_str(&format!("    \"{source}\" [shape=cylinder];\n"));
    }
    for model in models {
        out.push_str(&format!("    \"{}\" [shape=box];\n", model.name));
    }
    for (from, to) in edges {
        out.push_str(&format!("    \"{from}\" -> \"{to}\";\n"));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Materialization;

    fn models() -> Vec<Model> {
        let model = |name: &str, depends_on: &[&str], reads: &[&str]| Model {
            name: name.into(),
            path: format!("sql/{name}.sql").into(),
            sql: String::new(),
            description: String::new(),
            materialization: Materialization::Table,
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            reads: reads.iter().map(|d| d.to_string()).collect(),
        };
        vec![
            model("stg_costs", &[], &["raw.costs"]),
            model("mart", &["stg_costs"], &["ledger.runs"]),
        ]
    }

    #[test]
    fn mermaid_draws_raw_tables_as_cylinders() {
        assert_eq!(
            render(&models(), Format::Mermaid),
            "flowchart LR\n    ledger_runs[(\"ledger.runs\")]\n    raw_costs[(\"raw.costs\")]\n    \
             stg_costs[\"stg_costs\"]\n    mart[\"mart\"]\n    raw_costs --> stg_costs\n    \
             ledger_runs --> mart\n    stg_costs --> mart\n"
        );
    }

    #[test]
    fn dot_quotes_every_node() {
        assert_eq!(
            render(&models(), Format::Dot),
            "digraph models {\n    rankdir=LR;\n    \"ledger.runs\" [shape=cylinder];\n    \
             \"raw.costs\" [shape=cylinder];\n    \"stg_costs\" [shape=box];\n    \"mart\" [shape=box];\n    \
             \"raw.costs\" -> \"stg_costs\";\n    \"ledger.runs\" -> \"mart\";\n    \"stg_costs\" -> \"mart\";\n}\n"
        );
    }
}
