#!/usr/bin/env bash
# Throughput and answer mix of detect_language() on the embedded engine, over a CSV with a `text`
# column (default: the CLINC150 test utterances, short English requests).
#   bench/detect_language.sh [FILE.csv] [REPEAT]
# Prints texts/s and MB/s for the whole query (scan + detect), and how often each language (or
# NULL) was answered. Uses the dev build, where the language models are compiled with opt-level 3.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
file="$(realpath "${1:-../shared/data/dev/intent/clinc150_test.csv}")"
repeat="${2:-5}"
cargo build -q -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/debug/convlytics"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The same texts several times, so the run is long enough to time; each copy is a separate row.
for i in $(seq "$repeat"); do "$bin" sql --format csv --project-dir "$tmp" \
    "select concat(text, repeat(' ', $i - 1)) as text from '$file'" | tail -n +2; done > "$tmp/body.csv"
{ echo text; cat "$tmp/body.csv"; } > "$tmp/texts.csv"
rows=$(($(wc -l < "$tmp/texts.csv") - 1))
bytes=$(stat -c %s "$tmp/texts.csv")
start=$(date +%s.%N)
"$bin" sql --project-dir "$tmp" --format csv \
    "select coalesce(detect_language(text), 'NULL') as language, count(*) as texts from '$tmp/texts.csv' group by 1 order by 2 desc" > "$tmp/mix.csv"
end=$(date +%s.%N)
python3 - "$rows" "$bytes" "$start" "$end" "$tmp/mix.csv" <<'PY'
import sys, csv
rows, size, start, end, mix = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
s = end - start
print(f"detect_language: {rows} texts, {size/1e6:.2f} MB in {s:.2f} s: {rows/s:,.0f} texts/s, {size/1e6/s:.2f} MB/s (2 cores, DataFusion partitions)")
top = list(csv.DictReader(open(mix)))
print("answers:", ", ".join(f"{r['language']} {int(r['texts'])/rows:.1%}" for r in top[:6]))
PY
