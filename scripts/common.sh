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
        step "installing cargo-pgrx $PGRX_VERSION (once; several minutes)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    local config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
    if ! grep -q "^pg$PG_VERSION = \"$PG_CONFIG\"" "$config" 2>/dev/null; then
        step "cargo pgrx init --pg$PG_VERSION $PG_CONFIG"
        cargo pgrx init --pg$PG_VERSION "$PG_CONFIG"
    fi
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
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
}

stop_cluster() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        as_root rm -rf "$PG_DIR"
    fi
}
