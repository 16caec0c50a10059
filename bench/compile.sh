#!/usr/bin/env bash
# Parse and compile time of generated projects (bench/generate_project.py: four layers, a macro,
# joins, unions, two data tests per model), for each N given (default 200 and 2000), with the
# release build of convlytics: `ls` (load, render, analyse) and `compile` (the same, writing the
# compiled SQL and the manifest), best of three, and a first compile with no target/ yet; and,
# where dbt-core with dbt-duckdb installs from PyPI, dbt's `parse` and `compile` (best of three,
# no partial parsing) on the same project in the same run, with the ratios.
#   bench/compile.sh [N ...]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
sizes=("${@:-200 2000}")
read -r -a sizes <<<"${sizes[*]}"
cargo build -q --release -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/release/convlytics"
dir="$(bench_dir compile)"
dbt_python="$(bench_peer dbt dbt-core==1.11.* dbt-duckdb)"
cold() { # the wall time in seconds of a first compile, with no target/ yet
    rm -rf "$1/target"
    python3 - "$bin" compile --project-dir "$1" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - start:.3f}")
PY
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.0f}x')" "$1" "$2"; }
printf '%-7s %-15s %-22s %-15s %-15s %-12s\n' models "convlytics ls" "convlytics compile" "dbt parse" "dbt compile" "ratio (parse / compile)"
for n in "${sizes[@]}"; do
    project="$dir/project_$n"
    rm -rf "$project"
    python3 bench/generate_project.py "$n" "$project"
    first=$(cold "$project")
    parse=$(best "$bin" ls --project-dir "$project")
    compile=$(best "$bin" compile --project-dir "$project")
    dbt_parse="-"; dbt_compile="-"; ratios="dbt not installed"
    if [ -n "$dbt_python" ]; then
        dbt_bin="$(dirname "$dbt_python")/dbt"
        dbt_parse=$(cd "$project" && best "$dbt_bin" parse --no-partial-parse --profiles-dir dbt_profiles)
        dbt_compile=$(cd "$project" && best "$dbt_bin" compile --no-partial-parse --profiles-dir dbt_profiles)
        ratios="$(ratio "$dbt_parse" "$parse") / $(ratio "$dbt_compile" "$compile")"
    fi
    printf '%-7s %-15s %-22s %-15s %-15s %-12s\n' "$n" "$parse s" "$compile s ($first cold)" "$dbt_parse s" "$dbt_compile s" "$ratios"
done
