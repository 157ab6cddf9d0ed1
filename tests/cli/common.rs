//! Shared helpers for the integration tests: a temporary working directory with a copy of the
//! sample, a way to run the real binary in it, and read-only queries of its warehouse.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use duckdb::{AccessMode, Config, Connection};

/// The workbooks `itvalue sample` writes.
pub const SAMPLE_FILES: [&str; 11] = [
    "investments.xlsx",
    "applications.xlsx",
    "costs.xlsx",
    "benefits.xlsx",
    "progress.xlsx",
    "fx_rates.xlsx",
    "demands.xlsx",
    "demand_events.xlsx",
    "deployments.xlsx",
    "incidents.xlsx",
    "slo_measurements.xlsx",
];

/// The rejects of a run on the committed sample: `location | column | value | rule`.
pub const SAMPLE_REJECTS: [&str; 3] = [
    "costs.xlsx!Costs!A18106 | investment_id | INV-0201 | investment_id INV-0201 does not match any row of investments",
    "costs.xlsx!Costs!D9276 | amount | 12,5OO.00 | expected an amount with at most 2 decimals, found the text \"12,5OO.00\"",
    "incidents.xlsx!Incidents!C1002 | severity |  | a value is required",
];

/// What `itvalue check --show 2` prints for the committed sample.
pub const SAMPLE_CHECK: &str = concat!(
    "source             entity               rows  rejected  superseded  completeness  accuracy  integrity  verdict\n",
    "investments        investments           200         0           0       100.00%   100.00%          —       ok\n",
    "applications       applications          150         0           0       100.00%   100.00%    100.00%       ok\n",
    "costs              costs               18105         2           0       100.00%   100.00%     99.99%       ok\n",
    "benefits           benefits             7559         0           0       100.00%   100.00%    100.00%       ok\n",
    "progress           progress             2348         0           0       100.00%   100.00%    100.00%       ok\n",
    "demands            demands              5000         0           0       100.00%   100.00%    100.00%       ok\n",
    "demand_events      demand_events         932         0           0       100.00%   100.00%    100.00%       ok\n",
    "deployments        deployments          3000         0           0       100.00%   100.00%    100.00%       ok\n",
    "incidents          incidents            2000         1           0        99.99%   100.00%    100.00%       ok\n",
    "slo_measurements   slo_measurements     3572         0           0       100.00%   100.00%    100.00%       ok\n",
    "fx_rates           fx_rates              120         0           0       100.00%   100.00%          —       ok\n",
    "rejected values (3 in all; the workbook's Data Quality sheet and ledger.rejects hold every one):\n",
    "  costs.xlsx!Costs!D9276  amount = \"12,5OO.00\": expected an amount with at most 2 decimals, found the text \"12,5OO.00\"\n",
    "  costs.xlsx!Costs!A18106  investment_id = \"INV-0201\": investment_id INV-0201 does not match any row of investments\n",
    "  … and 1 more\n",
);

/// The `itvalue` binary under test: `ITVALUE_TEST_BIN` when set (a copy of this worktree's
/// binary, where several worktrees share one target directory and so one `target/release/itvalue`),
/// else the one cargo built for these tests.
pub fn binary() -> PathBuf {
    std::env::var_os("ITVALUE_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_itvalue")))
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A temporary working directory, removed when dropped.
pub struct Workspace {
    dir: tempfile::TempDir,
}

/// What a run of the binary printed and returned.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
    }
}

impl Workspace {
    pub fn empty() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// A copy of the configuration, the SQL models and the sample inputs.
    pub fn with_sample() -> Workspace {
        let ws = Workspace::empty();
        fs::copy(repo_path("pipeline.toml"), ws.path("pipeline.toml")).expect("copy config");
        copy_dir(&repo_path("sql"), &ws.path("sql"));
        copy_dir(
            &repo_path("notebooks-data/sample"),
            &ws.path("notebooks-data/sample"),
        );
        ws
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Runs `itvalue` with `args` in the workspace.
    pub fn itvalue(&self, args: &[&str]) -> Outcome {
        self.itvalue_with_env(args, &[])
    }

    /// Writes a second, smaller sample (scale 0.05, seed 9) into `out`: inputs that load well
    /// and differ from the shipped sample's, for reruns whose files changed.
    pub fn write_other_sample(&self, out: &str) {
        self.itvalue(&["sample", "--scale", "0.05", "--seed", "9", "--out", out])
            .assert_code(0);
    }

    /// Runs `itvalue` with `args` and extra environment variables (connection strings).
    pub fn itvalue_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let output = Command::new(binary())
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .output()
            .expect("the binary runs");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The workspace's warehouse, opened read-only as an analyst would.
    pub fn warehouse(&self) -> Connection {
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .expect("read-only config");
        Connection::open_with_flags(self.path("notebooks-data/warehouse.duckdb"), config)
            .expect("warehouse opens")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

pub fn query_f64(db: &Connection, sql: &str) -> f64 {
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

pub fn query_i64(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

pub fn query_strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut statement = db.prepare(sql).expect(sql);
    statement
        .query_map([], |r| r.get::<_, String>(0))
        .expect(sql)
        .collect::<Result<_, _>>()
        .expect(sql)
}

/// `schema.table=rows:checksum` for every table of the given schemas, in name order; the
/// checksum sums a hash of every row, so equal lines mean equal contents.
pub fn row_counts(db: &Connection, schemas: &[&str]) -> Vec<String> {
    let list = schemas
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let tables = query_strings(
        db,
        &format!(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() \
             WHERE schema_name IN ({list}) ORDER BY 1"
        ),
    );
    tables
        .into_iter()
        .map(|t| {
            let summary = query_strings(
                db,
                &format!(
                    "SELECT count(*) || ':' || coalesce(sum(hash(r)::HUGEINT), 0) FROM {t} AS r"
                ),
            );
            format!("{t}={}", summary[0])
        })
        .collect()
}

/// The texts of a sheet's row (0-based), a table's headers typically.
pub fn row_texts(range: &calamine::Range<calamine::Data>, row: usize) -> Vec<String> {
    range
        .rows()
        .nth(row)
        .unwrap_or_else(|| panic!("the sheet has a row {}", row + 1))
        .iter()
        .map(|cell| cell.to_string())
        .collect()
}
