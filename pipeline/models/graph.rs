//! The model dependency graph, read from DuckDB's own parse tree.
//!
//! In: the discovered models and a connection (for `json_serialize_sql`). Out: the models in an
//! order where every model comes after the models it reads, or an error that names the cycle or
//! the unknown table with a did-you-mean suggestion.

use std::collections::{BTreeMap, BTreeSet};

use duckdb::Connection;
use serde_json::Value as Json;

use super::Model;
use crate::error::{Error, Result};
use crate::ingest::contract::Entity;

/// Tables a model may read that no model builds: the raw entities and the pipeline's own schemas.
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    /// Schemas whose tables are provided outside the models (`metrics`, `ledger`).
    pub external_schemas: Vec<String>,
}

/// Infers each model's dependencies and returns the models in build order.
///
/// # Errors
///
/// [`Error::ModelGraph`] when a model's SQL does not parse, reads a table that neither a model nor
/// a raw entity provides, or when the models form a cycle.
pub fn order(conn: &Connection, mut models: Vec<Model>, deps: &Dependencies) -> Result<Vec<Model>> {
    let names: BTreeSet<String> = models.iter().map(|m| m.name.clone()).collect();
    for model in &mut models {
        let tables = referenced_tables(conn, model)?;
        let mut depends_on: BTreeSet<String> = declared_dependencies(&model.sql).collect();
        for (schema, table) in tables {
            match schema.as_deref() {
                None | Some("main") if names.contains(&table) => {
                    depends_on.insert(table);
                }
                Some("raw") if Entity::ALL.iter().any(|e| e.name() == table) => {}
                Some(s) if deps.external_schemas.iter().any(|x| x == s) => {}
                _ => return Err(unknown_table(model, schema.as_deref(), &table, &names)),
            }
        }
        for d in &depends_on {
            if !names.contains(d) {
                return Err(unknown_table(model, None, d, &names));
            }
        }
        depends_on.remove(&model.name);
        model.depends_on = depends_on.into_iter().collect();
    }
    topological(models)
}

/// Names listed in a `-- depends_on: a, b` comment line.
fn declared_dependencies(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.lines()
        .filter_map(|l| l.trim().strip_prefix("--"))
        .filter_map(|l| l.trim().strip_prefix("depends_on:"))
        .flat_map(|l| l.split(','))
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
}

/// The `(schema, table)` pairs the model's SELECT reads, without the names of its own CTEs.
fn referenced_tables(
    conn: &Connection,
    model: &Model,
) -> Result<BTreeSet<(Option<String>, String)>> {
    let json: String = conn
        .query_row("SELECT json_serialize_sql(?)", [&model.sql], |r| r.get(0))
        .map_err(|e| Error::Model {
            name: model.name.clone(),
            path: model.path.clone(),
            source: e,
        })?;
    let tree: Json = serde_json::from_str(&json).map_err(|e| {
        Error::ModelGraph(format!(
            "{}: unreadable parse tree: {e}",
            model.path.display()
        ))
    })?;
    if tree.get("error").and_then(Json::as_bool) == Some(true) {
        let message = tree
            .get("error_message")
            .and_then(Json::as_str)
            .unwrap_or("the SQL does not parse");
        return Err(Error::ModelGraph(format!(
            "{}: {message}",
            model.path.display()
        )));
    }
    let statements = tree.get("statements").and_then(Json::as_array);
    if statements.map_or(0, Vec::len) != 1 {
        return Err(Error::ModelGraph(format!(
            "{}: a model holds exactly one SELECT statement",
            model.path.display()
        )));
    }
    let mut tables = BTreeSet::new();
    let mut ctes = BTreeSet::new();
    walk(&tree, &mut tables, &mut ctes);
    tables.retain(|(schema, table)| !(schema.is_none() && ctes.contains(table)));
    Ok(tables)
}

fn walk(node: &Json, tables: &mut BTreeSet<(Option<String>, String)>, ctes: &mut BTreeSet<String>) {
    match node {
        Json::Object(map) => {
            if map.get("type").and_then(Json::as_str) == Some("BASE_TABLE") {
                let text = |k: &str| {
                    map.get(k)
                        .and_then(Json::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_lowercase)
                };
                if let Some(table) = text("table_name") {
                    tables.insert((text("schema_name"), table));
                }
            }
            if let Some(entries) = map
                .get("cte_map")
                .and_then(|c| c.get("map"))
                .and_then(Json::as_array)
            {
                for entry in entries {
                    if let Some(name) = entry.get("key").and_then(Json::as_str) {
                        ctes.insert(name.to_lowercase());
                    }
                }
            }
            map.values().for_each(|v| walk(v, tables, ctes));
        }
        Json::Array(items) => items.iter().for_each(|v| walk(v, tables, ctes)),
        _ => {}
    }
}

fn unknown_table(
    model: &Model,
    schema: Option<&str>,
    table: &str,
    names: &BTreeSet<String>,
) -> Error {
    let shown = match schema {
        Some(s) => format!("{s}.{table}"),
        None => table.to_string(),
    };
    let candidates = names
        .iter()
        .cloned()
        .chain(Entity::ALL.iter().map(|e| format!("raw.{}", e.name())));
    let suggestion = candidates
        .map(|c| (edit_distance(&shown, &c), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default();
    Error::ModelGraph(format!(
        "model `{}` ({}) reads `{shown}`, which no model or raw entity provides{suggestion}",
        model.name,
        model.path.display()
    ))
}

/// Levenshtein distance, for did-you-mean suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Kahn's algorithm, taking ready models in name order so the build order is stable.
fn topological(models: Vec<Model>) -> Result<Vec<Model>> {
    let mut pending: BTreeMap<String, Model> =
        models.into_iter().map(|m| (m.name.clone(), m)).collect();
    let mut ordered: Vec<Model> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .values()
            .filter(|m| m.depends_on.iter().all(|d| !pending.contains_key(d)))
            .map(|m| m.name.clone())
            .collect();
        if ready.is_empty() {
            let cycle: Vec<String> = pending
                .values()
                .map(|m| format!("{} ({})", m.name, m.path.display()))
                .collect();
            return Err(Error::ModelGraph(format!(
                "these models depend on each other in a cycle: {}",
                cycle.join(", ")
            )));
        }
        for name in ready {
            if let Some(model) = pending.remove(&name) {
                ordered.push(model);
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Model {
        Model {
            name: name.to_string(),
            path: format!("sql/{name}.sql").into(),
            sql: sql.to_string(),
            depends_on: Vec::new(),
        }
    }

    fn names(models: &[Model]) -> Vec<&str> {
        models.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn order_follows_joins_subqueries_and_set_operations_but_not_ctes() {
        let conn = Connection::open_in_memory().unwrap();
        let models = vec![
            model(
                "mart",
                "WITH stg_a AS (SELECT 1 AS x) SELECT * FROM stg_a JOIN stg_b USING (x) \
                 WHERE x IN (SELECT x FROM stg_c) UNION ALL SELECT x FROM \"stg_d\"",
            ),
            model("stg_b", "SELECT investment_id AS x FROM raw.investments"),
            model("stg_c", "SELECT 1 AS x"),
            model("stg_d", "SELECT * FROM main.stg_c"),
            model("stg_a", "SELECT 2 AS x"),
        ];
        let ordered = order(&conn, models, &Dependencies::default()).unwrap();
        assert_eq!(
            names(&ordered),
            ["stg_a", "stg_b", "stg_c", "stg_d", "mart"]
        );
        assert_eq!(ordered[4].depends_on, ["stg_b", "stg_c", "stg_d"]);
    }

    #[test]
    fn a_cycle_names_the_files() {
        let conn = Connection::open_in_memory().unwrap();
        let models = vec![model("a", "SELECT * FROM b"), model("b", "SELECT * FROM a")];
        let err = order(&conn, models, &Dependencies::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "models: these models depend on each other in a cycle: a (sql/a.sql), b (sql/b.sql)"
        );
    }

    #[test]
    fn an_unknown_table_gets_a_suggestion() {
        let conn = Connection::open_in_memory().unwrap();
        let models = vec![
            model("stg_costs", "SELECT * FROM raw.costs"),
            model("mart", "SELECT * FROM stg_cost"),
        ];
        let err = order(&conn, models, &Dependencies::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "models: model `mart` (sql/mart.sql) reads `stg_cost`, which no model or raw entity provides; did you mean `stg_costs`?"
        );
    }

    #[test]
    fn declared_dependencies_are_added() {
        let conn = Connection::open_in_memory().unwrap();
        let models = vec![
            model("b", "-- depends_on: a\nSELECT 1 AS x"),
            model("a", "SELECT 1 AS x"),
        ];
        let ordered = order(&conn, models, &Dependencies::default()).unwrap();
        assert_eq!(names(&ordered), ["a", "b"]);
    }
}
