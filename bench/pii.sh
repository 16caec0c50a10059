#!/usr/bin/env bash
# PII detection and redaction throughput on one core, side by side with Microsoft Presidio's
# analyzer (from PyPI) on the same texts in the same run.
#   bench/pii.sh
# Texts: every turn of the dev set's SGD dialogues as one text each ("Customer: ..."), the same
# dialogues as one text per conversation, and the presidio-research synthetic dev texts (dense in
# PII). The convlytics side is the release build of core/examples/pii_bench.rs (best of 5
# passes of at least 0.25 s each, one thread); Presidio runs bench/presidio_pii.py (pattern
# recognizers on a blank spaCy pipeline: no English spaCy model installs from PyPI). Set
# SKIP_PRESIDIO=1 to measure convlytics alone.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
data=$(bench_dir pii)
dev="$DEV_DATA"

python3 - "$dev" "$data" <<'PY'
import json, sys
dev, out = sys.argv[1], sys.argv[2]
dialogues = [json.loads(l) for l in open(f"{dev}/conversations/sgd_dialogues.jsonl")]
with open(f"{out}/chat_turns.jsonl", "w") as turns, open(f"{out}/chat_conversations.jsonl", "w") as convs:
    for d in dialogues:
        lines = [f'{t["speaker"].capitalize()}: {t["text"]}' for t in d["turns"]]
        for line in lines:
            turns.write(json.dumps({"text": line}) + "\n")
        convs.write(json.dumps({"text": "\n".join(lines)}) + "\n")
PY
cp "$dev/pii/presidio_synth_dev.jsonl" "$data/presidio_synth_dev.jsonl"

cargo build -q --release -p convlytics-core --example pii_bench
bin="$CARGO_TARGET_DIR/release/examples/pii_bench"

presidio=""
[ -n "${SKIP_PRESIDIO:-}" ] || presidio=$(bench_peer presidio presidio-analyzer presidio-anonymizer)

for set in chat_turns chat_conversations presidio_synth_dev; do
    echo "== $set"
    ours=$(taskset -c 0 "$bin" "$data/$set.jsonl")
    echo "$ours"
    if [ -n "$presidio" ]; then
        theirs=$(taskset -c 0 "$presidio" "$ROOT/bench/presidio_pii.py" "$data/$set.jsonl")
        echo "$theirs"
        python3 - "$ours" "$theirs" <<'PY'
import sys
def rate(text, key):
    line = next(l for l in text.splitlines() if l.startswith(key))
    return float(line.split("MB/s")[0].split()[-1])
for ours, theirs, what in (("detect", "presidio analyze", "detect vs analyze"), ("redact", "presidio anonymize", "redact vs analyze+anonymize")):
    a, b = rate(sys.argv[1], ours), rate(sys.argv[2], theirs)
    print(f"ratio                {a / b:>7.0f}x  {what} ({a:.2f} vs {b:.3f} MB/s)")
PY
    fi
    echo
done
