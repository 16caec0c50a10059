#!/usr/bin/env bash
# The static embedding (`semantic: static`) against the encoder (`semantic: encoder`), in one run:
#   bench/static_embedding.sh [REPEAT]
#
# 1. Accuracy on CLINC150 (Larson et al. 2019, CC BY 3.0; ../shared/data/dev/intent), with the
#    full training data and with 10 examples per intent: taxonomies from `convlytics taxonomy
#    from-csv --semantic ...`, scored by `convlytics eval intent` on the 4,500 in-scope and 1,000
#    out-of-scope test texts at the default threshold (0.5).
# 2. Throughput on one core (taskset -c 0, one ONNX thread): core/examples/classify_bench.rs over
#    the test texts, REPEAT times for the static embedding (default 20), once for the encoder.
# classify_bench is built with the `profiling` profile (release without LTO); the accuracy runs use
# the debug CLI (its classification code is optimized in dev builds). The first static run distills the
# table from the encoder (timed here too) and keeps it in the cache; set CONVLYTICS_CACHE_DIR to
# an empty folder to time distillation again.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
ensure_models
repeat="${1:-20}"
data="$(bench_dir static_embedding)"
intent="$DEV_DATA/intent"

cargo build -q -p convlytics --bin convlytics
cargo build -q --profile profiling -p convlytics-core --example classify_bench
bin="$CARGO_TARGET_DIR/debug/convlytics"
bench="$CARGO_TARGET_DIR/profiling/examples/classify_bench"

for shots in all 10; do
    for semantic in encoder static; do
        name="clinc_${shots}_$semantic"
        per_label=()
        [ "$shots" = all ] || per_label=(--examples-per-label "$shots")
        "$bin" taxonomy from-csv --labels "$intent/clinc150_train.csv" --name "$name" --semantic "$semantic" \
            "${per_label[@]}" --out "$data/$name.yml"
        "$bin" eval intent --taxonomy-file "$data/$name.yml" --format json \
            --labels "$intent/clinc150_test.csv" --labels "$intent/clinc150_oos_test.csv" > "$data/$name.json"
    done
done

echo
echo "== accuracy on CLINC150 (threshold 0.5)"
python3 - "$data" <<'PY'
import json, sys
data = sys.argv[1]
metric = lambda name, key: json.load(open(f"{data}/{name}.json"))["metrics"][key]
print(f"{'training data':<22} {'':<22} {'encoder':>8} {'static':>8} {'static - encoder':>17}")
for shots, title in (("all", "full (100 per intent)"), ("10", "10 per intent")):
    for key, label in (("accuracy", "in-scope accuracy"), ("accuracy_before_threshold", "before the threshold"),
                       ("out_of_scope_recall", "out-of-scope recall"), ("macro_f1", "macro F1")):
        e, s = metric(f"clinc_{shots}_encoder", key), metric(f"clinc_{shots}_static", key)
        print(f"{title:<22} {label:<22} {e:>8.4f} {s:>8.4f} {s - e:>+17.4f}")
    report = lambda name: json.load(open(f"{data}/{name}.json"))
    e, s = report(f"clinc_{shots}_encoder"), report(f"clinc_{shots}_static")
    print(f"{title:<22} {'compile seconds':<22} {e['compile_seconds']:>8.1f} {s['compile_seconds']:>8.1f}")
PY

echo
echo "== throughput, one core"
CONVLYTICS_ONNX_THREADS=1 taskset -c 0 "$bench" "$data/clinc_all_static.yml" "$intent/clinc150_test.csv" semantic "$repeat"
CONVLYTICS_ONNX_THREADS=1 taskset -c 0 "$bench" "$data/clinc_all_encoder.yml" "$intent/clinc150_test.csv" semantic 1
