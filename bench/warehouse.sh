#!/usr/bin/env bash
# The default warehouse at scale: N generated conversations (default 1,000,000) from raw files to
# marts on the embedded engine, release build, both cores.
#   bench/warehouse.sh [CONVERSATIONS]
#   RULES_ONLY=1 bench/warehouse.sh 1000000   # intents by the taxonomy's keywords and patterns only
#   SEMANTIC=static bench/warehouse.sh        # the project's taxonomies with `semantic: static`
#   MEMORY_LIMIT=2GiB bench/warehouse.sh      # build --memory-limit (spilling to disk)
#   PROFILE=profiling bench/warehouse.sh      # another cargo profile (default release)
# Prints the generator's rate, then per model and per layer: seconds, conversations/s and share of
# the run, the peak memory of the build (/usr/bin/time), and the labels' accuracy against the
# generator's ground truth (scripts/report/scorecard.sql).
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
conversations="${1:-1000000}"
work=$(bench_dir "warehouse-$conversations")
ensure_models
[ -n "${RULES_ONLY:-}" ] && export CONVLYTICS_MODEL_DIR="$work/no-model"

profile="${PROFILE:-release}"
cargo build -q --profile "$profile" -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/$profile/convlytics"

# A copy of the default project, so the run writes its warehouse beside the data, not in the clone.
rm -rf "$work/project" && mkdir -p "$work/project"
cp -r dbt_project.yml models macros seeds scripts "$work/project/"
cd "$work/project"
if [ -n "${SEMANTIC:-}" ]; then
    sed -i "s/^    threshold: \(.*\)$/    threshold: \1\n    semantic: $SEMANTIC/" models/taxonomies/*.yml
fi

if [ ! -f "$work/data/truth.csv" ] || [ "$(($(wc -l < "$work/data/truth.csv") - 1))" != "$conversations" ]; then
    "$bin" demo generate --conversations "$conversations" --out "$work/data" --end 2026-11-25
fi
mkdir -p target && ln -sfn "$work/data" target/demo

echo "== build: $conversations conversations, raw to marts${RULES_ONLY:+ (intents by rules only)}${SEMANTIC:+ (semantic: $SEMANTIC)}${MEMORY_LIMIT:+ (--memory-limit $MEMORY_LIMIT)}"
limit=()
[ -n "${MEMORY_LIMIT:-}" ] && limit=(--memory-limit "$MEMORY_LIMIT")
/usr/bin/time -f "%e s elapsed, peak memory %M KB" -o "$work/time.txt" \
    "$bin" build "${limit[@]}" --vars "{data_dir: $work/data, crm_dir: $work/data}" > "$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; exit 1; }
tail -2 "$work/build.log"
cat "$work/time.txt"

python3 - "$conversations" target/run_results.json "$work/time.txt" <<'PY'
import json, sys
conversations = int(sys.argv[1])
results = json.load(open(sys.argv[2]))["results"]
layers = {
    "raw": ["raw_interactions"],
    "normalized": ["interactions", "turns", "conversations", "quarantine"],
    "enriched": ["identity_records", "identity_clusters", "identity_map", "conversation_intents",
                 "conversation_signals", "repeat_contacts"],
}
total = sum(r["seconds"] for r in results)
print(f"\n{'model':32} {'rows':>10} {'seconds':>9} {'conv/s':>10} {'share':>6}")
for r in sorted(results, key=lambda r: -r["seconds"]):
    if r["resource_type"] != "model":
        continue
    rate = conversations / r["seconds"] if r["seconds"] else float("inf")
    print(f"{r['name']:32} {r['rows'] or 0:>10} {r['seconds']:>9.2f} {rate:>10.0f} {r['seconds'] / total:>6.1%}")
print(f"\n{'layer':32} {'':>10} {'seconds':>9} {'conv/s':>10} {'share':>6}")
def layer(name):
    for k, v in layers.items():
        if name in v:
            return k
    return "marts" if name.startswith("mart_") else "tests and seeds"
by = {}
for r in results:
    key = "tests and seeds" if r["resource_type"] != "model" else layer(r["name"])
    by[key] = by.get(key, 0) + r["seconds"]
for k in ["raw", "normalized", "enriched", "marts", "tests and seeds"]:
    s = by.get(k, 0)
    print(f"{k:32} {'':>10} {s:>9.2f} {conversations / s if s else 0:>10.0f} {s / total:>6.1%}")
print(f"{'all':32} {'':>10} {total:>9.2f} {conversations / total:>10.0f}")
PY

echo "== against the ground truth"
"$bin" sql -- "$(cat scripts/report/scorecard.sql)"
