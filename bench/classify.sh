#!/usr/bin/env bash
# Intent classification throughput: rules only (one and two threads) and the semantic model (one
# and two ONNX threads), next to plain ONNX Runtime on the same model and batches in the same run.
#   bench/classify.sh
# Texts: the dev set's CLINC150 test utterances (4,500; Larson et al. 2019, CC BY 3.0).
# Taxonomies, built from clinc150_train.csv: for the semantic runs `convlytics taxonomy from-csv`
# (150 intents, 100 examples each); for the rules runs one keyword phrase per intent, its name
# ("change accent", "meaning of life"), and two patterns.
# The convlytics side is the release build of core/examples/classify_bench.rs; the peer is
# bench/python_onnx.py (onnxruntime and tokenizers from PyPI, batches of 32 in file order, and
# sorted by length as convlytics batches them). SKIP_PEER=1 skips it.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
ensure_models
data=$(bench_dir classify)
intent="$DEV_DATA/intent"

cargo build -q -p convlytics --bin convlytics
"$CARGO_TARGET_DIR/debug/convlytics" taxonomy from-csv --labels "$intent/clinc150_train.csv" --name clinc --out "$data/clinc.yml"
python3 - "$intent/clinc150_train.csv" "$data/rules.yml" <<'PY'
import csv, sys
labels = sorted({r["label"] for r in csv.DictReader(open(sys.argv[1], newline="")) if r["label"] != "oos"})
with open(sys.argv[2], "w") as out:
    out.write("name: clinc_rules\nintents:\n")
    for label in labels:
        out.write(f"  - name: {label}\n    keywords: [{label.replace('_', ' ')}]\n")
    out.write("  - name: card_number\n    patterns: ['\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b', '(?i)\\bcard ending in \\d{4}\\b']\n")
PY

cargo build -q --release -p convlytics-core --example classify_bench
bin="$CARGO_TARGET_DIR/release/examples/classify_bench"
texts="$intent/clinc150_test.csv"

echo "== rules only"
taskset -c 0,1 "$bin" "$data/rules.yml" "$texts" rules

peer=""
[ -n "${SKIP_PEER:-}" ] || peer=$(bench_peer onnx onnxruntime==1.32.0 tokenizers numpy)
for threads in 1 2; do
    cpus=$([ "$threads" = 1 ] && echo 0 || echo 0,1)
    echo "== semantic, $threads core(s)"
    ours=$(CONVLYTICS_ONNX_THREADS=$threads taskset -c "$cpus" "$bin" "$data/clinc.yml" "$texts" semantic)
    echo "$ours"
    if [ -n "$peer" ]; then
        plain=$(taskset -c "$cpus" "$peer" bench/python_onnx.py "$CONVLYTICS_MODEL_DIR" "$texts" "$threads")
        sorted=$(taskset -c "$cpus" "$peer" bench/python_onnx.py "$CONVLYTICS_MODEL_DIR" "$texts" "$threads" sorted)
        echo "$plain"
        echo "$sorted"
        python3 - "$ours" "$plain" "$sorted" <<'PY'
import sys
rate = lambda line: float(line.split("texts/s")[0].split()[-1])
ours = rate(sys.argv[1].splitlines()[-1])
for name, line in (("file order", sys.argv[2]), ("sorted by length", sys.argv[3])):
    print(f"ratio                {ours / rate(line):>5.2f}x  convlytics vs onnxruntime, {name}")
PY
    fi
done
