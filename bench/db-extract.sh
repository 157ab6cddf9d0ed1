#!/usr/bin/env bash
# A large database extract, extracted, typed and loaded, from PostgreSQL and from MariaDB: wall
# time, rows per second and peak RSS (issue 15's goal: ten million rows of six columns under
# 512 MiB at 300,000 rows per second or more on two cores).
#
# Usage: bench/db-extract.sh [rows]   (default 10000000)
#
# Makes a six-column deployments table (`bench_deployments`) in the database of
# ITVALUE_TEST_POSTGRES and of ITVALUE_TEST_MYSQL, then runs `itvalue run` on a configuration with
# that one source, stopped dead by the `raw-loaded` failpoint right after the load has written the
# raw table inside its transaction: what is measured is the extraction, typing, checks, spill and
# load, not the models and figures that would follow. /usr/bin/time -v gives wall time and peak
# RSS; the run's log gives the time of each part. The tables are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${1:-10000000}"
pg="${ITVALUE_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}"
my="${ITVALUE_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}"
bin="${ITVALUE_BIN:-$target/release/itvalue}"
[ -x "$bin" ] || { echo "build first: cargo build --release ($bin is missing)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

work="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/sql" "$work/data"

# Every row is valid and its application exists nowhere (no applications source: nothing to
# check the foreign key against), so every row is loaded.
echo "== making $rows rows in PostgreSQL and MariaDB ($(date -u +%H:%M:%S))"
psql -q "$pg" <<SQL
DROP TABLE IF EXISTS bench_deployments;
CREATE TABLE bench_deployments AS
SELECT 'DEP-' || lpad(i::text, 9, '0') AS deployment_id,
       'APP-' || lpad((i % 500)::text, 3, '0') AS application_id,
       timestamp '2025-01-01' + i * interval '3 seconds' AS finished_at,
       (ARRAY['success', 'failed', 'rolled_back'])[1 + i % 3] AS result,
       'production' AS environment,
       (ARRAY['blue_green', 'canary', 'rolling', 'recreate'])[1 + i % 4] AS strategy
FROM generate_series(1, $rows) AS i;
SQL
mysql_db="${my##*/}"
mysql -h 127.0.0.1 -u root "$mysql_db" <<SQL
DROP TABLE IF EXISTS bench_deployments;
CREATE TABLE bench_deployments (deployment_id VARCHAR(16), application_id VARCHAR(8),
  finished_at DATETIME, result VARCHAR(12), environment VARCHAR(12), strategy VARCHAR(12));
INSERT INTO bench_deployments
SELECT CONCAT('DEP-', LPAD(seq, 9, '0')), CONCAT('APP-', LPAD(seq % 500, 3, '0')),
       TIMESTAMPADD(SECOND, seq * 3, '2025-01-01'),
       ELT(1 + seq % 3, 'success', 'failed', 'rolled_back'), 'production',
       ELT(1 + seq % 4, 'blue_green', 'canary', 'rolling', 'recreate')
FROM seq_1_to_$rows;
SQL

run() {
    local kind="$1" url="$2"
    rm -rf "$work/data/"*
    cat > "$work/pipeline.toml" <<TOML
reporting_currency = "EUR"
default_discount_rate = 0.08
warehouse = "data/warehouse.duckdb"
reports = "reports"
models = "sql"

[[source]]
name = "deployments"
entity = "deployments"
kind = "$kind"
connection_env = "BENCH_URL"
table = "bench_deployments"
batch_rows = 10000
TOML
    echo
    echo "== $kind: $rows rows ($(date -u +%H:%M:%S))"
    set +e
    BENCH_URL="$url" ITVALUE_FAILPOINT=raw-loaded \
        /usr/bin/time -v "$bin" -vv --config "$work/pipeline.toml" run --period 2025-06 \
        > "$work/$kind.out" 2> "$work/$kind.err"
    set -e
    # The failpoint stops the run with SIGABRT right after the load; anything else is a failure.
    grep -q "Command terminated by signal 6" "$work/$kind.err" || { cat "$work/$kind.err"; exit 1; }
    local wall rss
    wall="$(grep 'Elapsed (wall clock)' "$work/$kind.err" | awk '{print $NF}')"
    rss="$(grep 'Maximum resident' "$work/$kind.err" | awk '{print $NF}')"
    python3 - "$wall" "$rss" "$rows" "$kind" <<'PY'
import sys
wall, rss, rows, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(f"{kind}: {seconds:.1f} s wall, {rows / seconds:,.0f} rows/s, peak RSS {rss / 1024:,.0f} MiB")
PY
    grep -E "ingest part|extracted" "$work/$kind.err" | sed -E 's/^.*(INFO|DEBUG) //' || true
}

run postgres "$pg"
run mysql "$my"

psql -q "$pg" -c "DROP TABLE bench_deployments"
mysql -h 127.0.0.1 -u root "$mysql_db" -e "DROP TABLE bench_deployments"
