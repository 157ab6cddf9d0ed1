#!/usr/bin/env bash
# Renders the pictures of the pack in docs/images/ from the shipped sample, so a reader sees what
# the committee gets before building anything: the top of the Summary and of the Portfolio sheet
# as LibreOffice prints them (headless conversion to PDF, then pdftoppm), and two chart images as
# itvalue draws them. Needs a built itvalue, LibreOffice (soffice) and poppler-utils (pdftoppm,
# pdftotext). Run it again when the pack changes:
#
#   cargo build --release && scripts/render-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-$HOME/.cache/itvalue/target}/release/itvalue"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
for tool in soffice pdftoppm pdftotext; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (LibreOffice, poppler-utils)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r pipeline.toml sql "$work/"
mkdir -p "$work/notebooks-data"
cp -r notebooks-data/sample "$work/notebooks-data/"
period=2026-10
(cd "$work" && "$bin" run --period 2026-09 -q && "$bin" run --period "$period" -q)
pack="$work/reports/$period"
soffice "-env:UserInstallation=file://$work/lo" --headless --convert-to pdf --outdir "$work" \
    "$pack/itvalue-$period.xlsx" >/dev/null 2>&1
pdf="$work/itvalue-$period.pdf"
pages="$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')"
# The first page whose text starts a sheet's title.
page_of() {
    for p in $(seq 1 "$pages"); do
        text="$(pdftotext -f "$p" -l "$p" "$pdf" - 2>/dev/null)"
        if grep -q "$1" <<<"$text"; then echo "$p"; return; fi
    done
    echo "no page shows '$1'" >&2
    return 1
}
render() {  # page, output name
    pdftoppm -png -r 110 -f "$1" -l "$1" -singlefile "$pdf" "$work/page"
    cp "$work/page.png" "docs/images/$2.png"
}
summary_page="$(page_of 'The month for the committee')"
portfolio_page="$(page_of 'Portfolio as of')"
render "$summary_page" summary
render "$portfolio_page" portfolio
cp "$pack/portfolio-map-$period.png" docs/images/chart-portfolio-map.png
cp "$pack/cumulative-flow-$period.png" docs/images/chart-cumulative-flow.png
ls -l docs/images
