#!/usr/bin/env bash
# Transcript parse + normalize throughput on one core, per format, next to a Python peer on the
# same payloads in the same run.
#   bench/transcript.sh
# Payloads: the dev set's 1,331 SGD dialogues (CC BY-SA 4.0), read through a JSON mapping alone
# (settings in bench/transcript_settings.json), and the same dialogues written out as a plain
# transcript, a WebVTT call (5 s per turn), JSON-lines bot logs and an mbox email thread (one
# message per turn, each quoting the one before). "roles right" compares each turn's role with
# the dialogue's: for plain and VTT the speakers are named "Agent"/"Customer"; for "plain, named"
# they are first names, so only what agents say (and the other side) can tell them apart.
# The convlytics side is the release build of core/examples/transcript_bench.rs (best of 5, one
# thread); the peer is bench/python_transcript.py (json, re, the standard library's email
# parser and webvtt-py, turning each payload into (speaker, text) turns). SKIP_PEER=1 skips it.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
data=$(bench_dir transcript)
dev="$DEV_DATA"

python3 - "$dev" "$data" <<'PY'
import json, re, sys, email.utils, datetime
dev, out = sys.argv[1], sys.argv[2]
dialogues = [json.loads(l) for l in open(f"{dev}/conversations/sgd_dialogues.jsonl")]
names = ["Sam", "Priya", "Lee", "Maria", "Jordan", "Dana", "Alex", "Kim", "Noor", "Tomas"]
def roles(d): return [t["speaker"] for t in d["turns"]]
def clock(ms): return f"{ms // 3600000:02}:{ms // 60000 % 60:02}:{ms // 1000 % 60:02}.{ms % 1000:03}"
sets = {k: open(f"{out}/{k}.jsonl", "w") for k in ("json_mapping", "plain", "plain_named", "vtt", "jsonl", "email")}
def write(k, fmt, payload, r): sets[k].write(json.dumps({"format": fmt, "payload": payload, "roles": r}) + "\n")
for i, d in enumerate(dialogues):
    r = roles(d)
    write("json_mapping", "sgd", json.dumps(d), r)
    write("plain", "plain", "\n".join(f'{t["speaker"].capitalize()}: {t["text"]}' for t in d["turns"]), r)
    who = {"agent": names[i % 10], "customer": names[(i + 3) % 10]}
    write("plain_named", "plain", "\n".join(f'{who[t["speaker"]]}: {t["text"]}' for t in d["turns"]), r)
    cues = ["WEBVTT", ""]
    for k, t in enumerate(d["turns"]):
        cues += [str(k + 1), f"{clock(k * 5000)} --> {clock(k * 5000 + 4000)}", f'<v {t["speaker"].capitalize()}>{t["text"]}', ""]
    write("vtt", "vtt", "\n".join(cues), r)
    start = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.timezone.utc)
    write("jsonl", "jsonl", "\n".join(json.dumps({"ts": (start + datetime.timedelta(seconds=20 * k)).isoformat(),
        "sender": "user" if t["speaker"] == "customer" else "agent", "text": t["text"]}) for k, t in enumerate(d["turns"])), r)
    msgs, prev, refs = [], None, []
    for k, t in enumerate(d["turns"]):
        addr = "customer@example.com" if t["speaker"] == "customer" else "help@shop.example"
        mid = f"{d['id']}-{k}@example.com"
        body = t["text"] + ("\n\nOn an earlier day, someone wrote:\n> " + prev if prev else "")
        body = re.sub(r"^From ", ">From ", body, flags=re.M)  # mbox escaping
        head = [f"From {addr} Mon Nov  2 09:00:00 2026", f"From: {addr}", "Subject: Re: your request",
                "Date: " + email.utils.format_datetime(start + datetime.timedelta(minutes=10 * k)), f"Message-ID: <{mid}>"]
        if refs:
            head += [f"In-Reply-To: <{refs[-1]}>", "References: " + " ".join(f"<{x}>" for x in refs)]
        msgs.append("\n".join(head) + "\n\n" + body + "\n")
        refs.append(mid); prev = t["text"]
    write("email", "email", "\n".join(msgs), r)
for f in sets.values(): f.close()
PY

cargo build -q --release -p convlytics-core --example transcript_bench
bin="$CARGO_TARGET_DIR/release/examples/transcript_bench"

peer=""
[ -n "${SKIP_PEER:-}" ] || peer=$(bench_peer transcript webvtt-py)

settings="$ROOT/bench/transcript_settings.json"
for set in json_mapping plain plain_named vtt jsonl email; do
    echo "== $set"
    ours=$(taskset -c 0 "$bin" "$data/$set.jsonl" "$settings")
    echo "$ours"
    if [ -n "$peer" ]; then
        theirs=$(taskset -c 0 "$peer" "$ROOT/bench/python_transcript.py" "$data/$set.jsonl")
        echo "$theirs"
        python3 - "$ours" "$theirs" <<'PY'
import sys
def rate(text, key):
    line = next(l for l in text.splitlines() if l.startswith(key))
    return float(line.split("conversations/s")[0].split()[-1])
a, b = rate(sys.argv[1], "info"), rate(sys.argv[2], "python")
print(f"ratio                {a / b:>7.1f}x  info vs python ({a:.0f} vs {b:.0f} conversations/s)")
PY
    fi
done
