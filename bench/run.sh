#!/usr/bin/env bash
# Benchmark of itvalue against the Python scripts its users would write instead (issue 17).
#
# For each scale it generates the sample with `itvalue sample --scale N`, checks that every peer's
# figures equal itvalue's (bench/check.py; the run stops on a mismatch), then times, in rounds
# (one warm-up round, then RUNS counted ones; in each round every tool once, in turn: A B C A B C):
#   itvalue          a cold full run of the period (empty warehouse, no reports or extracts)
#   floor            bench/floor.rs: read every input with calamine, write the same cells
#   polars           bench/peers/polars_peer.py (Polars + fastexcel, XlsxWriter)
#   pandas-calamine  bench/peers/pandas_peer.py --engine calamine (XlsxWriter)
#   pandas-openpyxl  bench/peers/pandas_peer.py --engine openpyxl (XlsxWriter)
# and the monthly rerun (with --rerun): costs filed one workbook per month; last month's run is
# in the warehouse and only this month's cost file is new; itvalue's rerun, a cold itvalue run and
# the polars peer on the same files. Each run is measured by /usr/bin/time -v. Prints (and writes
# to OUT/summary.md) medians of wall time, CPU (user + sys) and peak RSS, the paired ratios, and
# itvalue's per-step times from its run ledger.
#
#   bench/run.sh [--scales "1 10 50"] [--runs 5] [--warmup 1] [--rerun | --rerun-scales "10"]
#                [--tools "itvalue floor polars ..."] [--period 2026-10] [--out DIR] [--keep]
#
# bench/summarise.py DIR... summarises several runs of the driver together (e.g. scale 50 run
# separately with fewer rounds).
#
# Needs a release build (`cargo build --release --bin itvalue --example floor`; the script builds
# them when missing), python3 with venv, and /usr/bin/time. A figure to report, not a test: it
# depends on the machine and on what else runs on it (the summary records the load average).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

scales="1 10 50"
runs=5
warmup=1
rerun=0
rerun_scales=""
keep=0
period="2026-10"
tools="itvalue floor polars pandas-calamine pandas-openpyxl"
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --scales) scales="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --tools) tools="$2"; shift 2 ;;
        --period) period="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --rerun) rerun=1; shift ;;
        --rerun-scales) rerun=1; rerun_scales="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

target="${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}"
bin="${ITVALUE_BIN:-$target/release/itvalue}"
floor="${FLOOR_BIN:-$target/release/examples/floor}"
if [ ! -x "$bin" ] || [ ! -x "$floor" ]; then
    CARGO_TARGET_DIR="$target" cargo build --release --locked --bin itvalue --example floor
fi
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

venv="${BENCH_VENV:-$HOME/.cache/itvalue/bench-venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum bench/requirements.txt | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -r bench/requirements.txt
    echo "$want" > "$stamp"
fi
py="$venv/bin/python"

out="${out:-$(mktemp -d /tmp/itvalue-bench.XXXXXX)}"
mkdir -p "$out"
times="$out/times.tsv"      # scale, setting, tool, round, wall s, user s, sys s, peak RSS KiB
steps="$out/steps.tsv"      # scale, setting, round, step, ms
printf 'scale\tsetting\ttool\tround\twall\tuser\tsys\trss_kb\n' > "$times"
printf 'scale\tsetting\tround\tstep\tms\n' > "$steps"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
    echo "itvalue: $("$bin" --version 2>/dev/null | head -1), rustc: $(rustc -V 2>/dev/null || echo unknown)"
    echo "python: $("$py" -V 2>&1); $("$py" -m pip freeze 2>/dev/null | grep -iE '^(pandas|polars|polars-runtime-32|fastexcel|openpyxl|python-calamine|xlsxwriter|numpy)==' | paste -sd' ' -)"
    echo "runs: $warmup warm-up and $runs counted per tool and scale, tools in turn within each round"
} > "$out/machine.txt"
cat "$out/machine.txt"

# Runs one command under /usr/bin/time -v; appends its line to times.tsv.
measure() { # scale setting tool round command...
    local scale="$1" setting="$2" tool="$3" round="$4"; shift 4
    local tv="$out/time.txt"
    if ! /usr/bin/time -v -o "$tv" "$@" >"$out/last.out" 2>"$out/last.err"; then
        echo "FAILED: $tool at scale $scale ($setting): $*" >&2
        tail -20 "$out/last.err" >&2
        exit 1
    fi
    awk -F': ' -v s="$scale" -v set="$setting" -v t="$tool" -v r="$round" '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time/ { u = $2 } /System time/ { y = $2 } /Maximum resident set size/ { m = $2 }
        END { printf "%s\t%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%d\n", s, set, t, r, w, u, y, m }' "$tv" >> "$times"
}

# itvalue's per-step times of its latest run, from the run ledger.
ledger_steps() { # scale setting round
    "$py" "$repo/bench/ledger.py" "$bin" "$1" "$2" "$3" >> "$steps"
}

cmd=()
fresh() { rm -rf notebooks-data/warehouse.duckdb* notebooks-data/exports reports; }

peer_cmd() { # tool -> cmd, the command that runs it (its workbook goes to $work)
    case "$1" in
        polars) cmd=("$py" "$repo/bench/peers/polars_peer.py" --config pipeline.toml --period "$period" --out "$work/peer-polars.xlsx") ;;
        pandas-calamine) cmd=("$py" "$repo/bench/peers/pandas_peer.py" --engine calamine --config pipeline.toml --period "$period" --out "$work/peer-pandas-calamine.xlsx") ;;
        pandas-openpyxl) cmd=("$py" "$repo/bench/peers/pandas_peer.py" --engine openpyxl --config pipeline.toml --period "$period" --out "$work/peer-pandas-openpyxl.xlsx") ;;
        floor) cmd=("$floor" notebooks-data/sample "$work/floor.xlsx") ;;
        *) echo "unknown tool $1" >&2; exit 2 ;;
    esac
}

# Every figure of every peer must equal itvalue's before any time is reported.
check_peers() { # scale
    fresh
    "$bin" run --period "$period" -q
    for tool in $tools; do
        case "$tool" in itvalue|floor) continue ;; esac
        peer_cmd "$tool"
        "${cmd[@]}" 2>/dev/null
        "$py" "$repo/bench/check.py" "notebooks-data/exports/$period" "$work/peer-$tool.xlsx" --name "$tool" \
            || { echo "FAILED: $tool's figures differ from itvalue's at scale $1; no times reported" >&2; exit 1; }
    done
}

setup() { # scale dir [costs-by-month]
    mkdir -p "$2/notebooks-data"
    cp -r sql "$2/"
    # The shipped scenario names investments of the scale-1 sample (see bench/metrics-stage.sh).
    sed '/^\[\[scenario\]\]/,$d' pipeline.toml > "$2/pipeline.toml"
    if [ "${3:-}" = "by-month" ]; then
        sed -i 's|^path = "notebooks-data/sample/costs.xlsx"|path = "notebooks-data/sample/costs/costs-*.xlsx"|' "$2/pipeline.toml"
        "$bin" sample --scale "$1" --costs-by-month --out "$2/notebooks-data/sample" -q
    else
        "$bin" sample --scale "$1" --out "$2/notebooks-data/sample" -q
    fi
}

for scale in $scales; do
    work="$out/scale-$scale"
    rm -rf "$work"
    setup "$scale" "$work"
    (
        cd "$work"
        echo "scale $scale: $(find notebooks-data/sample -name '*.xlsx' | wc -l) files, $(du -sb notebooks-data/sample | cut -f1) bytes; load average $(cut -d' ' -f1-3 /proc/loadavg)"
        check_peers "$scale"
        for round in $(seq 1 $((warmup + runs))); do
            r=$((round - warmup))
            for tool in $tools; do
                if [ "$tool" = itvalue ]; then
                    fresh
                    measure "$scale" cold itvalue "$r" "$bin" run --period "$period" -q
                    ledger_steps "$scale" cold "$r"
                else
                    peer_cmd "$tool"
                    measure "$scale" cold "$tool" "$r" "${cmd[@]}"
                    if [ "$tool" = floor ]; then # its read time apart, to set against ingest
                        sed -n 's/.*; read \([0-9]*\) ms, cells and write \([0-9]*\) ms$/\1 \2/p' "$out/last.err" \
                            | awk -v s="$scale" -v r="$r" '{printf "%s\tfloor\t%s\tread\t%s\n%s\tfloor\t%s\tcells and write\t%s\n", s, r, $1, s, r, $2}' >> "$steps"
                    fi
                fi
            done
            echo "  round $round of $((warmup + runs)) done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
        done
        echo "scale $scale: load average after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
    )
    [ "$keep" = 1 ] || rm -rf "$work/notebooks-data/sample"
done

if [ "$rerun" = 1 ]; then
    for scale in ${rerun_scales:-$scales}; do
        work="$out/rerun-$scale"
        rm -rf "$work"
        setup "$scale" "$work" by-month
        (
            cd "$work"
            newest="notebooks-data/sample/costs/costs-$period.xlsx"
            previous="$("$py" -c "import sys; y, m = map(int, sys.argv[1].split('-')); y, m = (y, m - 1) if m > 1 else (y - 1, 12); print(f'{y}-{m:02d}')" "$period")"
            mkdir -p aside
            echo "rerun at scale $scale: load average $(cut -d' ' -f1-3 /proc/loadavg)"
            check_peers "$scale"
            for round in $(seq 1 $((warmup + runs))); do
                r=$((round - warmup))
                fresh
                measure "$scale" rerun itvalue-cold "$r" "$bin" run --period "$period" -q
                ledger_steps "$scale" rerun-cold "$r"
                # Last month's run: the warehouse holds it; this month's cost file then arrives.
                fresh
                mv "$newest" aside/
                "$bin" run --period "$previous" -q
                mv "aside/$(basename "$newest")" "$newest"
                measure "$scale" rerun itvalue-rerun "$r" "$bin" run --period "$period" -q
                ledger_steps "$scale" rerun "$r"
                peer_cmd polars
                measure "$scale" rerun polars "$r" "${cmd[@]}"
                echo "  rerun round $round of $((warmup + runs)) done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
            done
        )
        [ "$keep" = 1 ] || rm -rf "$work/notebooks-data/sample"
    done
fi

"$py" bench/summarise.py "$out" | tee "$out/summary.md"
echo "raw measurements: $times, $steps"
