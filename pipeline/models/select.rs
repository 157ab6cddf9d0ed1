//! Model selection as analysts know it from dbt: `name`, `name+` (it and everything downstream),
//! `+name` (it and everything upstream), `+name+`, several separated by spaces or commas.
//!
//! In: a selection text and the ordered models. Out: the selected model names, or an error naming
//! an unknown model with a did-you-mean suggestion.

use std::collections::BTreeSet;

use super::Model;
use super::graph::suggest;
use crate::error::{DidYouMean, ModelGraphError, Result};

/// The names of the models `selection` picks, from `models` in build order.
///
/// # Errors
///
/// [`crate::Error::ModelGraph`] when a term names no model, or the selection is empty.
pub fn select(models: &[Model], selection: &str) -> Result<BTreeSet<String>> {
    let mut chosen = BTreeSet::new();
    let terms: Vec<&str> = selection
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return Err(ModelGraphError::Selection {
            term: selection.to_string(),
            message: "names no model".into(),
            suggestion: DidYouMean::default(),
        }
        .into());
    }
    for term in terms {
        let upstream = term.starts_with('+');
        let downstream = term.ends_with('+');
        let name = term.trim_matches('+').to_lowercase();
        if !models.iter().any(|m| m.name == name) {
            let names = models.iter().map(|m| m.name.clone());
            return Err(ModelGraphError::Selection {
                term: term.to_string(),
                message: format!("no model is named `{name}`"),
                suggestion: suggest(&name, names),
            }
            .into());
        }
        chosen.insert(name.clone());
        if upstream {
            chosen.extend(reachable(&name, |n| {
                models
                    .iter()
                    .filter(|m| m.name == n)
                    .flat_map(|m| m.depends_on.clone())
                    .collect()
            }));
        }
        if downstream {
            chosen.extend(reachable(&name, |n| {
                models
                    .iter()
                    .filter(|m| m.depends_on.iter().any(|d| d == n))
                    .map(|m| m.name.clone())
                    .collect()
            }));
        }
    }
    Ok(chosen)
}

/// Every model reachable from `start` by following `neighbours` (its dependencies for upstream,
/// its dependents for downstream).
fn reachable(start: &str, neighbours: impl Fn(&str) -> Vec<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut frontier = vec![start.to_string()];
    while let Some(current) = frontier.pop() {
        for next in neighbours(&current) {
            if found.insert(next.clone()) {
                frontier.push(next);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Materialization;

    fn model(name: &str, depends_on: &[&str]) -> Model {
        Model {
            name: name.into(),
            path: format!("sql/{name}.sql").into(),
            sql: String::new(),
            description: String::new(),
            materialization: Materialization::Table,
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            reads: Vec::new(),
        }
    }

    fn graph() -> Vec<Model> {
        vec![
            model("stg_a", &[]),
            model("stg_b", &[]),
            model("mart_ab", &["stg_a", "stg_b"]),
            model("mart_top", &["mart_ab"]),
            model("mart_other", &["stg_b"]),
        ]
    }

    fn picked(selection: &str) -> Vec<String> {
        select(&graph(), selection).unwrap().into_iter().collect()
    }

    #[test]
    fn plus_follows_the_graph_on_its_side() {
        assert_eq!(picked("mart_ab"), ["mart_ab"]);
        assert_eq!(picked("stg_a+"), ["mart_ab", "mart_top", "stg_a"]);
        assert_eq!(
            picked("+mart_top"),
            ["mart_ab", "mart_top", "stg_a", "stg_b"]
        );
        assert_eq!(
            picked("+mart_ab+"),
            ["mart_ab", "mart_top", "stg_a", "stg_b"]
        );
        assert_eq!(picked("mart_other, stg_a"), ["mart_other", "stg_a"]);
    }

    #[test]
    fn an_unknown_name_gets_a_suggestion() {
        assert_eq!(
            select(&graph(), "mart_abb+").unwrap_err().to_string(),
            "models: --select mart_abb+: no model is named `mart_abb`; did you mean `mart_ab`?"
        );
    }
}
