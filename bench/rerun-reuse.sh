#!/usr/bin/env bash
# Benchmark of reruns that skip what has not changed (issue 14): on the scale-10 sample with its
# cost lines filed one workbook per month (`itvalue sample --costs-by-month`), compares
#   cold:  a first run on an empty warehouse with every file, and
#   rerun: a run after a run without the newest month's cost file, once that file is added
#          (every other file is unchanged, so only the new file is read and typed).
# Both report 2026-10 from the same files. The goal is a rerun under 10% of a cold run. Prints
# each run's time and steps, RUNS times (default 3), and the medians. A figure to report, not a
# test: it depends on the machine and on what else runs on it.
#
#   cargo build --release && bench/rerun-reuse.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
bin="${ITVALUE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}/release/itvalue}"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r sql "$work/"
sed 's|^path = "notebooks-data/sample/costs.xlsx"|path = "notebooks-data/sample/costs/costs-*.xlsx"|' pipeline.toml > "$work/pipeline.toml"
grep -q 'costs/costs-\*.xlsx' "$work/pipeline.toml" || { echo "could not point costs at the monthly files" >&2; exit 1; }
# The shipped portfolio scenario names investments of the scale-1 sample (see metrics-stage.sh).
sed -i '/^\[\[scenario\]\]/,$d' "$work/pipeline.toml"
mkdir -p "$work/notebooks-data" "$work/aside"
"$bin" sample --scale 10 --costs-by-month --out "$work/notebooks-data/sample" -q
cd "$work"
newest="notebooks-data/sample/costs/costs-2026-10.xlsx"
files="$(find notebooks-data/sample -name '*.xlsx' | wc -l)"
bytes="$(du -sb notebooks-data/sample | cut -f1)"

seconds() { # run the monthly job; print its wall time in seconds and keep its step log
    local start end
    start="$(date +%s.%N)"
    "$bin" run --period 2026-10 -v --log-format json >/dev/null 2>"$work/log.json"
    end="$(date +%s.%N)"
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}'
}
steps() {
    grep '"message":"step"' "$work/log.json" | grep -o '"step":"[^"]*","ms":[0-9]*' \
        | sed 's/"step":"\([^"]*\)","ms":\([0-9]*\)/\1 \2 ms/' | paste -sd, - | sed 's/,/, /g'
}
fresh() { rm -rf notebooks-data/warehouse.duckdb* reports; }

cold=(); rerun=()
for i in $(seq 1 "$runs"); do
    fresh
    c="$(seconds)"; cold+=("$c")
    echo "run $i: cold  $(printf '%6.2f' "$c") s  ($(steps))"
    fresh
    mv "$newest" aside/
    "$bin" run --period 2026-10 -q
    mv "aside/$(basename "$newest")" "$newest"
    r="$(seconds)"; rerun+=("$r")
    echo "run $i: rerun $(printf '%6.2f' "$r") s  ($(steps))"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc="$(median "${cold[@]}")"; mr="$(median "${rerun[@]}")"
echo "inputs: $files files, $bytes bytes; rows loaded: $("$bin" history --limit 1 --format json | grep -o '"rows_loaded": [0-9]*' | cut -d' ' -f2)"
echo "median of $runs: cold $mc s, rerun with one new month's file $mr s = $(awk -v r="$mr" -v c="$mc" 'BEGIN {printf "%.1f", 100 * r / c}')% of cold"
