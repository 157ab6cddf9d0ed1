//! The model dependency graph, read from DuckDB's own parse tree.
//!
//! In: the discovered models and a connection (for `json_serialize_sql`). Out: the models in an
//! order where every model comes after the models it reads, or an error that names the cycle or
//! the unknown table with a did-you-mean suggestion.

use std::collections::{BTreeMap, BTreeSet};

use duckdb::Connection;
use serde_json::Value as Json;

use super::Model;
use crate::contract::Entity;
use crate::error::{DidYouMean, Error, ModelGraphError, Result};

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
        let mut depends_on: BTreeSet<String> = model.depends_on.iter().cloned().collect();
        let mut reads = BTreeSet::new();
        for (schema, table) in tables {
            match schema.as_deref() {
                None | Some("main") if names.contains(&table) => {
                    depends_on.insert(table);
                }
                Some("raw") if Entity::ALL.iter().any(|e| e.name() == table) => {
                    reads.insert(format!("raw.{table}"));
                }
                Some(s) if deps.external_schemas.iter().any(|x| x == s) => {
                    reads.insert(format!("{s}.{table}"));
                }
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
        model.reads = reads.into_iter().collect();
    }
    topological(models)
}

/// The `(schema, table)` pairs the model's SELECT reads, without the names of its own CTEs.
fn referenced_tables(
    conn: &Connection,
    model: &Model,
) -> Result<BTreeSet<(Option<String>, String)>> {
    let tree = parse_select(conn, &model.sql).map_err(|message| ModelGraphError::NotOneSelect {
        path: model.path.clone(),
        message,
    })?;
    let mut tables = BTreeSet::new();
    walk(&tree, &[], &mut tables);
    Ok(tables)
}

/// DuckDB's parse tree of `sql`, which must be exactly one SELECT statement: anything else could
/// run more than the query it claims to be.
///
/// # Errors
///
/// A message with DuckDB's parser error, or saying that the text is not one SELECT.
pub(super) fn parse_select(conn: &Connection, sql: &str) -> std::result::Result<Json, String> {
    let json: String = conn
        .query_row("SELECT json_serialize_sql(?)", [sql], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let tree: Json =
        serde_json::from_str(&json).map_err(|e| format!("unreadable parse tree: {e}"))?;
    if tree.get("error").and_then(Json::as_bool) == Some(true) {
        let message = tree
            .get("error_message")
            .and_then(Json::as_str)
            .unwrap_or("the SQL does not parse");
        return Err(if message.contains("Only SELECT") {
            "a model holds exactly one SELECT statement".to_string()
        } else {
            message.to_string()
        });
    }
    let statements = tree.get("statements").and_then(Json::as_array);
    if statements.map_or(0, Vec::len) != 1 {
        return Err("a model holds exactly one SELECT statement".to_string());
    }
    if let Some(kind) = data_change(&tree) {
        return Err(format!(
            "a model only reads: this SELECT holds a data-changing statement ({kind}) in a WITH clause"
        ));
    }
    Ok(tree)
}

/// The first INSERT, UPDATE, DELETE or COPY node in the tree: DuckDB accepts them as CTE bodies,
/// and they would change the warehouse from inside a SELECT.
fn data_change(node: &Json) -> Option<String> {
    match node {
        Json::Object(map) => {
            if let Some(kind) = map.get("type").and_then(Json::as_str)
                && kind.ends_with("_NODE")
                && ["INSERT", "UPDATE", "DELETE", "COPY", "MERGE"]
                    .iter()
                    .any(|verb| kind.contains(verb))
            {
                return Some(kind.to_string());
            }
            map.values().find_map(data_change)
        }
        Json::Array(items) => items.iter().find_map(data_change),
        _ => None,
    }
}

/// The models (unqualified or in `main`) that `sql` reads, for data tests that query models.
pub(super) fn models_read(tree: &Json, names: &BTreeSet<String>) -> Vec<String> {
    let mut tables = BTreeSet::new();
    walk(tree, &[], &mut tables);
    tables
        .into_iter()
        .filter(|(schema, table)| {
            matches!(schema.as_deref(), None | Some("main")) && names.contains(table)
        })
        .map(|(_, table)| table)
        .collect()
}

/// Collects `BASE_TABLE` references. A CTE's name is in scope for the query that defines it and,
/// inside that query's `WITH`, for the CTEs after it; an unqualified reference to a name in scope
/// is the CTE, not a table, while the same name out of scope (or schema-qualified) is the table.
fn walk(node: &Json, scope: &[String], tables: &mut BTreeSet<(Option<String>, String)>) {
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
                    let schema = text("schema_name");
                    if schema.is_some() || !scope.contains(&table) {
                        tables.insert((schema, table));
                    }
                }
            }
            let ctes = map
                .get("cte_map")
                .and_then(|c| c.get("map"))
                .and_then(Json::as_array);
            let mut inner: Vec<String> = scope.to_vec();
            for entry in ctes.into_iter().flatten() {
                let name = entry
                    .get("key")
                    .and_then(Json::as_str)
                    .map(str::to_lowercase);
                // Newer serialisations keep the CTE's node in `query_node`, older in `query.node`.
                let value = entry.get("value");
                let node = value.and_then(|v| v.get("query_node")).or_else(|| {
                    value
                        .and_then(|v| v.get("query"))
                        .and_then(|q| q.get("node"))
                });
                let recursive = node.and_then(|n| n.get("type")).and_then(Json::as_str)
                    == Some("RECURSIVE_CTE_NODE");
                if recursive && let Some(name) = &name {
                    inner.push(name.clone());
                }
                if let Some(body) = entry.get("value") {
                    walk(body, &inner, tables);
                }
                if !recursive && let Some(name) = name {
                    inner.push(name);
                }
            }
            for (key, value) in map {
                if key != "cte_map" {
                    walk(value, &inner, tables);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| walk(v, scope, tables)),
        _ => {}
    }
}

/// The candidate nearest to `wanted` by edit distance, when one is near enough (three edits).
pub(super) fn suggest(wanted: &str, candidates: impl Iterator<Item = String>) -> DidYouMean {
    DidYouMean(
        candidates
            .map(|c| (strsim::levenshtein(wanted, &c), c))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, c)| c),
    )
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
    ModelGraphError::UnknownTable {
        model: model.name.clone(),
        path: model.path.clone(),
        suggestion: suggest(&shown, candidates),
        table: shown,
    }
    .into()
}

/// One cycle among models that all wait on another pending model: following a pending
/// dependency from any of them must come back to a model already seen. Models that only sit
/// downstream of the cycle are left out of the message.
fn find_cycle(pending: &BTreeMap<String, Model>) -> Vec<&Model> {
    let mut path: Vec<&Model> = Vec::new();
    let mut current = pending.values().next();
    while let Some(model) = current {
        if let Some(start) = path.iter().position(|m| m.name == model.name) {
            let mut cycle = path.split_off(start);
            cycle.sort_by(|a, b| a.name.cmp(&b.name));
            return cycle;
        }
        path.push(model);
        current = model.depends_on.iter().find_map(|d| pending.get(d));
    }
    path
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
            let cycle = find_cycle(&pending)
                .iter()
                .map(|m| (m.name.clone(), m.path.clone()))
                .collect();
            return Err(ModelGraphError::Cycle { cycle }.into());
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
    use crate::models::Materialization;
    use crate::models::header::Header;

    fn model(name: &str, sql: &str) -> Model {
        Model {
            name: name.to_string(),
            path: format!("sql/{name}.sql").into(),
            sql: sql.to_string(),
            description: String::new(),
            materialization: Materialization::Table,
            depends_on: Header::parse(sql).depends_on,
            reads: Vec::new(),
        }
    }

    fn names(models: &[Model]) -> Vec<&str> {
        models.iter().map(|m| m.name.as_str()).collect()
    }

    fn ordered(models: Vec<Model>) -> Vec<Model> {
        let conn = Connection::open_in_memory().unwrap();
        let deps = Dependencies {
            external_schemas: vec!["ledger".into()],
        };
        order(&conn, models, &deps).unwrap()
    }

    fn error(models: Vec<Model>) -> String {
        let conn = Connection::open_in_memory().unwrap();
        order(&conn, models, &Dependencies::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn order_follows_joins_subqueries_and_set_operations_but_not_ctes() {
        let models = ordered(vec![
            model(
                "mart",
                "WITH stg_a AS (SELECT 1 AS x) SELECT * FROM stg_a JOIN stg_b USING (x) \
                 WHERE x IN (SELECT x FROM stg_c) UNION ALL SELECT x FROM \"stg_d\"",
            ),
            model("stg_b", "SELECT investment_id AS x FROM raw.investments"),
            model("stg_c", "SELECT 1 AS x"),
            model("stg_d", "SELECT * FROM main.stg_c"),
            model("stg_a", "SELECT 2 AS x"),
        ]);
        assert_eq!(names(&models), ["stg_a", "stg_b", "stg_c", "stg_d", "mart"]);
        assert_eq!(models[4].depends_on, ["stg_b", "stg_c", "stg_d"]);
        assert_eq!(models[1].reads, ["raw.investments"]);
    }

    #[test]
    fn a_cte_shadows_a_model_only_inside_its_own_query() {
        let models = ordered(vec![
            model("stg_a", "SELECT 1 AS x"),
            model("stg_b", "SELECT 1 AS x"),
            model(
                "shadowed",
                "SELECT * FROM (WITH stg_a AS (SELECT 2 AS x) SELECT * FROM stg_a) AS inner_query \
                 JOIN stg_a USING (x)",
            ),
            model(
                "qualified",
                "WITH stg_b AS (SELECT * FROM main.stg_b WHERE x > 0), later AS (SELECT * FROM stg_b) \
                 SELECT * FROM later",
            ),
            model(
                "only_cte",
                "WITH stg_a AS (SELECT 3 AS x) SELECT * FROM stg_a",
            ),
        ]);
        let depends = |name: &str| {
            models
                .iter()
                .find(|m| m.name == name)
                .map(|m| m.depends_on.clone())
                .unwrap()
        };
        assert_eq!(depends("shadowed"), ["stg_a"]);
        assert_eq!(depends("qualified"), ["stg_b"]);
        assert!(depends("only_cte").is_empty());
    }

    #[test]
    fn quoted_and_schema_qualified_names_resolve() {
        let models = ordered(vec![
            model("stg_costs", "SELECT 1 AS x"),
            model(
                "mart",
                "SELECT * FROM \"STG_COSTS\" AS c, \"raw\".\"costs\" AS r, ledger.runs, main.\"stg_costs\"",
            ),
        ]);
        assert_eq!(models[1].depends_on, ["stg_costs"]);
        assert_eq!(models[1].reads, ["ledger.runs", "raw.costs"]);
    }

    #[test]
    fn a_cycle_names_the_files() {
        assert_eq!(
            error(vec![
                model("a", "SELECT * FROM b"),
                model("b", "SELECT * FROM a")
            ]),
            "models: these models depend on each other in a cycle: a (sql/a.sql), b (sql/b.sql)"
        );
    }

    #[test]
    fn an_unknown_table_gets_a_suggestion() {
        assert_eq!(
            error(vec![
                model("stg_costs", "SELECT * FROM raw.costs"),
                model("mart", "SELECT * FROM stg_cost"),
            ]),
            "models: model `mart` (sql/mart.sql) reads `stg_cost`, which no model or raw entity provides; did you mean `stg_costs`?"
        );
        assert_eq!(
            error(vec![model("stg", "SELECT * FROM raw.cost")]),
            "models: model `stg` (sql/stg.sql) reads `raw.cost`, which no model or raw entity provides; did you mean `raw.costs`?"
        );
    }

    #[test]
    fn more_than_one_statement_is_refused() {
        assert_eq!(
            error(vec![model("m", "SELECT 1; SELECT 2")]),
            "models: sql/m.sql: a model holds exactly one SELECT statement"
        );
    }

    #[test]
    fn a_recursive_cte_reads_itself_not_a_table() {
        let models = ordered(vec![
            model("stg_a", "SELECT 1 AS x"),
            model(
                "chain",
                "WITH RECURSIVE chain(n) AS (SELECT x FROM stg_a UNION ALL SELECT n + 1 FROM chain WHERE n < 5) \
                 SELECT * FROM chain",
            ),
        ]);
        assert_eq!(models[1].name, "chain");
        assert_eq!(models[1].depends_on, ["stg_a"]);
    }

    #[test]
    fn a_data_changing_cte_is_refused() {
        for sql in [
            "WITH gone AS (DELETE FROM ledger.runs RETURNING *) SELECT count(*) FROM gone",
            "WITH put AS (INSERT INTO ledger.runs (run_id) VALUES ('x') RETURNING *) SELECT * FROM put",
        ] {
            let message = error(vec![model("m", sql)]);
            assert!(
                message.starts_with("models: sql/m.sql: ")
                    && (message.contains("data-changing") || message.contains("SELECT")),
                "{sql}: {message}"
            );
        }
    }

    #[test]
    fn declared_dependencies_are_added() {
        let models = ordered(vec![
            model("b", "-- depends_on: a\nSELECT 1 AS x"),
            model("a", "SELECT 1 AS x"),
        ]);
        assert_eq!(names(&models), ["a", "b"]);
    }
}
