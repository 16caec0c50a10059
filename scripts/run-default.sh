#!/usr/bin/env bash
# The main job: builds convlytics, generates a demo support inbox (10,000 conversations, or
# $CONVERSATIONS) with its ground truth, runs the default project (models/ at the repository root)
# on it on the embedded engine, prints what the marts found and how right the labels are, and
# writes the documentation site (target/docs/index.html).
source "$(dirname "$0")/common.sh"
cd "$ROOT"
require_cargo
ensure_models

step "building convlytics"
cargo build -p convlytics --bin convlytics
CONVLYTICS="$CARGO_TARGET_DIR/debug/convlytics"

# How many conversations the demo inbox has (CONVERSATIONS=100000 scripts/run-default.sh).
conversations="${CONVERSATIONS:-10000}"
step "generating a demo support inbox: $conversations conversations in every channel and format, with CRM exports and the ground truth (target/demo)"
"$CONVLYTICS" demo generate --conversations "$conversations" --out target/demo

step "building the default project on the embedded engine: seeds, models and their data tests"
"$CONVLYTICS" build --vars '{data_dir: target/demo, crm_dir: target/demo}' "$@"

step "what it found (one line per mart; docs/warehouse.md says what each answers)"
"$CONVLYTICS" sql -- "$(cat scripts/report/findings.sql)"

step "how right it is, against the generator's ground truth (target/demo/truth.csv)"
"$CONVLYTICS" sql -- "$(cat scripts/report/scorecard.sql)"

step "how right people found the labels (mart_label_quality, from convlytics review import)"
reviews=$("$CONVLYTICS" sql --format csv "select count(*) as n from analytics.mart_label_quality" | tail -n 1)
if [ "$reviews" != "0" ]; then
    "$CONVLYTICS" sql "select field, label, taxonomy_version, reviews, round(precision, 3) as precision, round(precision_low, 3) as low, round(precision_high, 3) as high, round(recall, 3) as recall, confusions from analytics.mart_label_quality order by field, label"
else
    echo "  no reviews yet: convlytics review sample --per-label 10 --out review.csv --html review.html,"
    echo "  review in the page, then convlytics review import review-reviewed.csv --reviewer NAME (docs/validation.md)"
fi

step "the documentation site: models, columns, lineage, test and monitor results, the KPI charts"
"$CONVLYTICS" docs generate --vars '{data_dir: target/demo, crm_dir: target/demo}' "$@"

step "query it yourself"
cat <<EOF
  $CONVLYTICS sql "select * from analytics.mart_resolution order by conversations desc limit 10"
  $CONVLYTICS sql "select * from analytics.mart_topic_trends where is_spike"
  $CONVLYTICS sql "select agent, check_name, pass_rate from analytics.mart_agent_qa order by pass_rate limit 10"
  The marts as Parquet files, for a BI tool: target/warehouse/analytics/*.parquet
  The documentation site (open it in a browser, or: $CONVLYTICS docs serve): $ROOT/target/docs/index.html
EOF
