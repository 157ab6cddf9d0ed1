#!/usr/bin/env bash
# Benchmark of the metrics stage on the scale-10 sample (about 2,000 investments, 10,000 Monte
# Carlo draws each): generates the sample in a temporary folder, runs the monthly job RUNS times
# (default 5) and prints the metrics step's time of each run, with its parts, and the median.
# The goal (issue 11) is under 3 s on a two-core machine. A figure to report, not a test: it
# depends on the machine and on what else runs on it.
#
#   cargo build --release && bench/metrics-stage.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}/release/itvalue"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r pipeline.toml sql "$work/"
# The shipped portfolio scenario names investments and amounts of the scale-1 sample; on the
# scale-10 one it has no selection (the run would end with 65). bench/scenarios.sh measures
# scenarios; this measures the stage without them.
sed -i '/^\[\[scenario\]\]/,$d' "$work/pipeline.toml"
mkdir -p "$work/notebooks-data"
"$bin" sample --scale 10 --out "$work/notebooks-data/sample" -q
cd "$work"
times=()
for i in $(seq 1 "$runs"); do
    log="$("$bin" run --period 2026-10 -vv --log-format json 2>&1 >/dev/null)"
    ms="$(grep '"message":"step","step":"metrics"' <<<"$log" | grep -o '"ms":[0-9]*' | cut -d: -f2)"
    parts="$(grep '"message":"metrics part"' <<<"$log" | grep -o '"part":"[^"]*","ms":[0-9]*' \
        | sed 's/"part":"\([^"]*\)","ms":\([0-9]*\)/\1 \2 ms/' | paste -sd, - | sed 's/,/, /g')"
    echo "run $i: metrics stage $ms ms ($parts)"
    times+=("$ms")
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
investments="$("$bin" check 2>/dev/null | awk '$1 == "investments" {print $3}')"
echo "median of $runs runs: $median ms for $investments investments"
