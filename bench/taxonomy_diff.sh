#!/usr/bin/env bash
# `convlytics taxonomy diff` throughput on a generated inbox of N conversations (default 5000):
# the preview of a one-keyword edit with the baseline's labels reused from the warehouse (one
# labelling pass), and with both versions labelled afresh (two passes); next to, in the same run,
# what the change costs when it runs: `convlytics run -s conversation_intents` re-labelling every
# conversation under the new version. Release build, best of three for the diffs.
#   bench/taxonomy_diff.sh [N]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
ensure_models
n="${1:-5000}"
cargo build -q --release -p convlytics --bin convlytics
bin="$CARGO_TARGET_DIR/release/convlytics"
cd "$(bench_project taxonomy_diff "$n" 2026-11-25 "$bin")"
"$bin" build >/dev/null
anchor='keywords: \[change the shipping address, change my address'
sed "s/$anchor/&, different size/" models/taxonomies/support.yml >proposed.yml
sed "s/$anchor/&, another size/" models/taxonomies/support.yml >other.yml
cmp -s proposed.yml models/taxonomies/support.yml && { echo "the edit's anchor is gone" >&2; exit 1; }
stored=$("$bin" sql --format csv "select count(*) as n from analytics.conversation_intents" | tail -1)

once() { # the wall time of one run of a command
    python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - start:.3f}")
PY
}
reused=$(best "$bin" taxonomy diff --taxonomy support --to proposed.yml --out reused.md)
fresh=$(best "$bin" taxonomy diff --taxonomy support --from other.yml --to proposed.yml --out fresh.md)
cp models/taxonomies/support.yml support.yml.orig
cp proposed.yml models/taxonomies/support.yml
relabel=$(once "$bin" run -s conversation_intents)
cp support.yml.orig models/taxonomies/support.yml
"$bin" run -s conversation_intents >/dev/null
python3 - "$stored" "$reused" "$fresh" "$relabel" <<'PY'
import sys
n, reused, fresh, relabel = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"{n} stored conversations (release build, 2 cores)")
for name, s in (("diff, baseline as stored", reused), ("diff, both labelled afresh", fresh), ("run re-labelling them", relabel)):
    print(f"{name:<28} {s:>8.2f} s  {n / s:>9.0f} conversations/s")
print(f"ratio: the preview takes {reused / relabel:.2f}x (as stored) and {fresh / relabel:.2f}x (afresh) the run it previews")
PY
