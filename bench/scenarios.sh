#!/usr/bin/env bash
# Benchmark of a large portfolio scenario (issue 16): CANDIDATES synthetic candidates (default
# 2,000) over two years with a total, yearly and quarterly budgets, a category cap, 20 exclusive
# groups, 30 prerequisites and must-funds; prints, RUNS times (default 3), the time of the
# greedy start, the main solve, the shadow prices and the whole scenario (the main selection and
# nine frontier levels, prices, reasons and rows), and the median. A figure to report, not a
# test: it depends on the machine and on what else runs on it.
#
#   bench/scenarios.sh [CANDIDATES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}"
cargo build --release --example scenarios-bench -q
"$CARGO_TARGET_DIR/release/examples/scenarios-bench" "${1:-2000}" "${2:-3}"
