#!/usr/bin/env bash
# Parse and compile time of generated projects (bench/generate_project.py: four layers, a macro,
# joins, unions, two data tests per model), for each N given (default 200 and 2000), with the
# release build of convlytics; and, where dbt-core with dbt-duckdb installs from PyPI, dbt's
# `parse` and `compile` on the same project in the same run, with the ratio.
#   bench/compile.sh [N ...]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
sizes=("${@:-200 2000}")
read -r -a sizes <<<"${sizes[*]}"
cargo build -q --release -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/release/convlytics"
dir="$(bench_dir compile)"
dbt_python="$(bench_peer dbt dbt-core==1.11.* dbt-duckdb)"
best() { # best wall time in seconds of three runs of a command
    local best=999999 s e t
    for _ in 1 2 3; do
        s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc); (( $(echo "$t < $best" | bc) )) && best=$t
    done
    echo "$best"
}
printf '%-8s %-22s %-22s %-22s %-12s\n' models "convlytics ls (parse)" "convlytics compile" "dbt parse / compile" ratio
for n in "${sizes[@]}"; do
    project="$dir/project_$n"
    rm -rf "$project"
    python3 bench/generate_project.py "$n" "$project"
    parse=$(best "$bin" ls --project-dir "$project")
    compile=$(best "$bin" compile --project-dir "$project")
    dbt="not installed"; ratio=""
    if [ -n "$dbt_python" ]; then
        dbt_bin="$(dirname "$dbt_python")/dbt"
        (cd "$project" && "$dbt_bin" parse --no-partial-parse --profiles-dir dbt_profiles >/dev/null 2>&1) || true
        dbt_parse=$(cd "$project" && best "$dbt_bin" parse --no-partial-parse --profiles-dir dbt_profiles)
        dbt_compile=$(cd "$project" && best "$dbt_bin" compile --no-partial-parse --profiles-dir dbt_profiles)
        dbt="$dbt_parse / $dbt_compile s"
        ratio="$(echo "scale=1; $dbt_parse / $parse" | bc)x / $(echo "scale=1; $dbt_compile / $compile" | bc)x"
    fi
    printf '%-8s %-22s %-22s %-22s %-12s\n' "$n" "$parse s" "$compile s" "$dbt" "$ratio"
done
