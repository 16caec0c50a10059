#!/usr/bin/env bash
# Identity stitching: throughput, peak memory and pairwise F1, side by side with Splink 5
# (DuckDB backend, from PyPI) on the same records in the same run.
#   bench/identity.sh [RECORDS]        # default 1000000 generated FEBRL-like records
# Runs, for each data set (FEBRL dataset1 and dataset2 from ../shared when present, and the
# generated set): convlytics (release build of bench driver core/examples/identity_bench.rs, both
# cores) and Splink (bench/splink_identity.py; skipped when it cannot be installed), then prints
# the ratio of their end-to-end times. Set SKIP_SPLINK=1 to measure convlytics alone.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
records="${1:-1000000}"
data=$(bench_dir "identity-$records")

cargo build -q --release -p convlytics-core --example identity_bench
bin="$CARGO_TARGET_DIR/release/examples/identity_bench"
[ -f "$data/records.csv" ] || "$bin" generate --records "$records" --out "$data"

splink=""
[ -n "${SKIP_SPLINK:-}" ] || splink=$(bench_peer splink "splink==5.0.0" duckdb pandas)

sets=()
dev="$DEV_DATA/identity"
for n in 1 2; do [ -f "$dev/dataset$n.csv" ] && sets+=("$dev/dataset$n.csv:$dev/dataset${n}_true_links.csv"); done
sets+=("$data/records.csv:$data/true_links.csv")

for set in "${sets[@]}"; do
    csv="${set%%:*}"; truth="${set##*:}"
    echo "== $(basename "$(dirname "$csv")")/$(basename "$csv") ($(($(wc -l < "$csv") - 1)) records)"
    ours=$("$bin" run "$csv" "$truth")
    echo "$ours"
    if [ -n "$splink" ]; then
        theirs=$("$splink" "$ROOT/bench/splink_identity.py" "$csv" "$truth")
        echo "$theirs"
        python3 - "$ours" "$theirs" <<'PY'
import sys
def seconds(text, key):
    return float(next(l for l in text.splitlines() if l.startswith(key)).split()[-2])
ours, theirs = seconds(sys.argv[1], "end to end"), seconds(sys.argv[2], "splink end to end")
print(f"ratio                {theirs / ours:.1f}x faster than Splink end to end ({ours:.2f} s vs {theirs:.2f} s)")
PY
    fi
    echo
done
