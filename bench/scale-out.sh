#!/usr/bin/env bash
# Scale-out: the default project on one generated inbox (default 20,000 conversations), release
# build, built four ways on this machine's cores:
#   embedded engine on 1 core, embedded on 2 cores,
#   a Ballista cluster of 1 executor (1 core), of 2 executors (1 core each),
# each executor pinned to its own core with taskset (the scheduler and the client share them).
#   bench/scale-out.sh [CONVERSATIONS]
#   PROFILE=debug bench/scale-out.sh 300    # the script itself, quickly, on the debug build
# Prints each build's seconds and conversations/s, and the ratios 2-vs-1 executor and
# cluster-vs-embedded on the same cores.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
conversations="${1:-20000}"
ensure_models
# PROFILE=debug for a quick check of the script itself; the figures are the release build's.
# BIN=PATH measures that binary instead of building one.
profile="${PROFILE:-release}"
if [ -z "${BIN:-}" ] && [ "$profile" = release ]; then cargo build -q --release -p convlytics --bin convlytics; fi
bin="${BIN:-$CARGO_TARGET_DIR/$profile/convlytics}"
project=$(bench_project scale-out "$conversations" 2026-11-25 "$bin")
work="$project/work"
mkdir -p "$work"
port=50450

cat > "$project/profiles.yml" <<EOF
convlytics:
  target: dev
  outputs:
    dev:
      type: embedded
    cluster:
      type: ballista
      url: df://127.0.0.1:$port
      path: $project/cluster
EOF

pids=()
stop_cluster() {
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null && wait "${pids[@]}" 2>/dev/null
    pids=()
}
trap stop_cluster EXIT

# start_cluster N: a scheduler and N executors of one task each, executor i on core i-1.
start_cluster() {
    stop_cluster
    RUST_LOG=warn "$bin" scheduler --bind "127.0.0.1:$port" > "$work/scheduler.log" 2>&1 &
    pids+=($!)
    for i in $(seq 1 "$1"); do
        RUST_LOG=warn taskset -c $((i - 1)) "$bin" executor --scheduler "127.0.0.1:$port" \
            --bind "127.0.0.1:$((port + 10 * i))" --flight-port "$((port + 10 * i + 1))" \
            --concurrent-tasks 1 --work-dir "$work/executor-$i" > "$work/executor-$i.log" 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 1 100); do
        "$bin" sql --project-dir "$project" --target cluster "select 1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "the cluster did not start: $work/*.log" >&2
    exit 1
}

# timed NAME CORES [ARGS...]: a full build with the release binary pinned to CORES (a taskset
# list, or "all"), its seconds in $work/NAME.seconds.
timed() {
    local name="$1" cores="$2"; shift 2
    local pin=()
    [ "$cores" != all ] && pin=(taskset -c "$cores")
    rm -rf "$project/target/warehouse" "$project/target/generations" "$project/cluster"
    local start end
    start=$(date +%s.%N)
    (cd "$project" && "${pin[@]}" "$bin" build --full-refresh "$@" > "$work/$name.log" 2>&1) \
        || { tail -20 "$work/$name.log"; exit 1; }
    end=$(date +%s.%N)
    local seconds
    seconds=$(python3 -c "print($end - $start)")
    echo "$seconds" > "$work/$name.seconds"
    printf '%-34s %8.1f s %10.0f conversations/s\n' "$name" "$seconds" "$(python3 -c "print($conversations / $seconds)")"
}

echo "== $conversations conversations, raw to marts ($profile build; $(nproc) cores)"
timed "embedded, 1 core" 0
timed "embedded, 2 cores" all
start_cluster 1
timed "ballista, 1 executor x 1 core" all --target cluster
start_cluster 2
timed "ballista, 2 executors x 1 core" all --target cluster
stop_cluster

python3 - "$work" <<'PY'
import sys
s = lambda name: float(open(f"{sys.argv[1]}/{name}.seconds").read())
one, two = s("ballista, 1 executor x 1 core"), s("ballista, 2 executors x 1 core")
print()
print(f"ballista, 2 executors against 1:           {one / two:.2f}x faster")
print(f"ballista, 1 executor against embedded 1 core:  {one / s('embedded, 1 core'):.2f}x the time")
print(f"ballista, 2 executors against embedded 2 cores: {two / s('embedded, 2 cores'):.2f}x the time")
PY
