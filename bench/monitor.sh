#!/usr/bin/env bash
# What the observability checks cost: `convlytics monitor` (the source contract, every monitor of
# models/monitors.yml, drift and the PII leak scan) on a generated inbox of N conversations
# (default 20000) ending today, against the build it follows, in the same run. Release build,
# best of three for the monitors.
#   bench/monitor.sh [N]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
ensure_models
n="${1:-20000}"
cargo build -q --release -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/release/convlytics"
cd "$(bench_project monitor "$n" "$(date -u +%F)" "$bin")"
start=$(date +%s.%N)
"$bin" run >/dev/null
build=$(python3 -c "import time; print(f'{time.time() - $start:.3f}')")
monitor=$(best "$bin" monitor)
raw=$(wc -l <inbox/raw_interactions.jsonl)
checks=$("$bin" monitor | tail -1)
python3 - "$n" "$raw" "$build" "$monitor" "$checks" <<'PY'
import sys
n, raw, build, monitor, checks = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
print(f"{n} conversations, {raw} raw records (release build, 2 cores)")
print(f"run (every model)  {build:>8.2f} s  {n / build:>9.0f} conversations/s")
print(f"monitor            {monitor:>8.2f} s  {raw / monitor:>9.0f} raw records/s")
print(checks)
print(f"ratio: the checks take {monitor / build:.2f}x the run they follow")
PY
