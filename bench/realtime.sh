#!/usr/bin/env bash
# Real time under a steady load (docs/realtime.md), release builds, this machine:
# * PostgreSQL: the default project built on a generated inbox of N conversations (default 2000)
#   in a throwaway cluster with the extension's release build, `realtime enable`, then one
#   conversation per INSERT from 4 pooled connections (each warmed by one insert, unmeasured) at
#   10, 25, 50, 75, 100 and 150 conversations/s (30 s each, or SECONDS) while a connection
#   LISTENs: latency from each insert's scheduled time to its commit (the trigger enriches in the
#   inserting transaction) and to its alert's NOTIFY; the highest rate sustained (p99 under 1 s,
#   latencies not growing).
# * Embedded: `convlytics watch` on the same inbox (its first batch builds everything), then lines
#   appended to a JSON-lines file at EMBEDDED_RATE conversations/s (default 10): latency from a
#   line's append to the publication of the batch holding it (enriched rows, marts, alerts).
# The last two lines read `realtime: p50 X ms, p95 Y ms, p99 Z ms at N conversations/s (ENGINE)`.
#   bench/realtime.sh [N] [SECONDS]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
n="${1:-2000}"
seconds="${2:-30}"
embedded_rate="${EMBEDDED_RATE:-10}"
ensure_apt postgresql-$PG_VERSION postgresql-server-dev-$PG_VERSION libclang-dev sudo
ensure_pgrx
ensure_models
python=$(bench_peer realtime "psycopg[binary]==3.2.*")
[ -n "$python" ] || { echo "psycopg is needed for the load" >&2; exit 1; }
cargo build -q --release -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/release/convlytics"
step "installing the extension's release build"
(cd pg_convlytics && cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null)
start_cluster
url="postgres://postgres@127.0.0.1:$PG_PORT/bench"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres bench
"$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench -c "create extension pg_convlytics"
project="$(bench_project realtime "$n" "$(date -u +%F)" "$bin")"
"$python" bench/realtime_load.py load "$url" "$project/inbox"
(cd "$project" && "$bin" build --target-url "$url" >/dev/null && "$bin" realtime enable --target-url "$url")
step "PostgreSQL: $n conversations stored, one conversation per insert"
sustained=0
last=""
for rate in 10 25 50 75 100 150; do
    if out=$("$python" bench/realtime_load.py postgres "$url" "$project/inbox/raw_interactions.jsonl" "$rate" "$seconds"); then
        sustained=$rate
    fi
    echo "$out"
    [ "$rate" = 50 ] && last=$(echo "$out" | tail -1)
done
echo "postgres: highest load sustained: $sustained conversations/s"
stop_cluster

step "embedded: convlytics watch on $n conversations, lines appended at $embedded_rate conversations/s"
log="$project/watch.log"
(cd "$project" && exec "$bin" watch --interval-ms 100 >"$log" 2>&1) &
watcher=$!
until [ -f "$project/target/warehouse/_realtime/checkpoint.json" ]; do sleep 0.2; done
embedded=$("$python" bench/realtime_load.py embedded "$project" "$project/inbox/raw_interactions.jsonl" "$embedded_rate" "$seconds" || true)
kill -INT "$watcher"; wait "$watcher" || true
grep '^Batch' "$log" | python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
first = float(re.search(r"in ([0-9.]+)s", lines[0]).group(1))
later = [(int(re.search(r"(\d+) record", l).group(1)), float(re.search(r"in ([0-9.]+)s", l).group(1))) for l in lines[1:]]
print(f"embedded: first batch (the whole project) {first:.2f} s; then {len(later)} batches of "
      f"{sum(r for r, _ in later) / max(1, len(later)):.1f} records, {sum(s for _, s in later) / max(1, len(later)):.2f} s each on average")
'
echo "$embedded" | head -n -1
echo "$last"
echo "$embedded" | tail -1
