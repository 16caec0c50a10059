#!/usr/bin/env bash
# Every test suite, from a fresh machine: checks formatting, installs what the tests need
# (Debian packages, cargo-pgrx, the embedding model, dbt-core with dbt-postgres from PyPI, and
# playwright-core from npm for the review page in headless chromium),
# runs clippy on every crate with warnings as errors, installs the extension (and its earlier
# versions' scripts) into the system PostgreSQL 15 after its #[pg_test]s (whose build installs
# itself too), starts a throwaway cluster on a loopback port, and runs core, adapter and
# compiler tests, the .slt suite on DataFusion and on PostgreSQL, and the extension's upgrade
# and hostile-input tests. The real build stays installed. Tests that need the embedding
# model or PostgreSQL fail here when either is missing (plain `cargo test` skips them). Exits
# non-zero on any failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS

require_cargo
step "cargo fmt --check"
cargo fmt --all --check

ensure_apt postgresql-$PG_VERSION postgresql-server-dev-$PG_VERSION libclang-dev sudo chromium nodejs
ensure_pgrx
ensure_models
ensure_dbt
ensure_playwright

step "cargo clippy -- -D warnings (every crate, the extension included)"
cargo clippy --workspace --all-targets -- -D warnings

# The #[pg_test] build installs itself (with its `tests` schema) into the system PostgreSQL, so
# it runs first and the real build is installed after it, for the suites below and for whoever
# uses the server next.
step "#[pg_test]s of pg_convlytics"
PGRX_DATA="$(mktemp -d /tmp/convlytics-pgrx.XXXXXX)"
as_root chown postgres:postgres "$PGRX_DATA"
(cd pg_convlytics && cargo pgrx test pg$PG_VERSION --runas postgres --pgdata "$PGRX_DATA")
as_root rm -rf "$PGRX_DATA"

install_extension

step "starting a throwaway PostgreSQL $PG_VERSION cluster"
# The hash key tests/pii.slt uses, in the server's environment (compiler/tests/conformance.rs
# gives DataFusion the same).
export CONVLYTICS_PII_TEST_KEY="convlytics conformance key, not a secret"
start_cluster
export CONVLYTICS_TEST_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/convlytics_test"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres convlytics_test
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d convlytics_test \
    -c "create extension pg_convlytics"
echo "cluster on port $PG_PORT, database convlytics_test, extension pg_convlytics"

step "core, compiler, .slt (DataFusion and PostgreSQL) and end-to-end tests (compiler/tests/ballista.rs starts a loopback Ballista cluster: a scheduler and two executors)"
export CONVLYTICS_REQUIRE_PG=1 CONVLYTICS_REQUIRE_MODEL=1
# dbt_utils, for the test that builds a project using it (test data beside the clone, not in it).
if [ -f "$ROOT/../shared/third_party/dbt-utils/dbt_project.yml" ]; then
    export CONVLYTICS_TEST_DBT_UTILS="$ROOT/../shared/third_party/dbt-utils"
    echo "dbt_utils: $CONVLYTICS_TEST_DBT_UTILS"
else
    echo "dbt_utils: not beside the clone (../shared/third_party/dbt-utils); its tests will say they did not run"
fi
cargo test --no-fail-fast

step "all tests passed in $((SECONDS - started))s"
