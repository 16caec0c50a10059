"""The Python peer of bench/transcript.sh: each payload into (speaker, text) turns with the
standard library (json, re, email) and webvtt-py, best of 5 passes, one thread."""
import email
import email.policy
import io
import json
import re
import sys
import time

import webvtt

PREFIX = re.compile(r"^([^:\n]{1,40}):\s+(.*)$")
QUOTE = re.compile(r"^On .*wrote:$", re.M)


def plain(payload):
    turns = []
    for line in payload.splitlines():
        m = PREFIX.match(line)
        if m:
            turns.append((m.group(1), m.group(2)))
        elif turns:
            turns[-1] = (turns[-1][0], turns[-1][1] + "\n" + line)
    return turns


def vtt(payload):
    return [(c.voice, c.text) for c in webvtt.from_buffer(io.StringIO(payload))]


def mails(payload):
    turns = []
    for chunk in re.split(r"^From \S+ .*$", payload, flags=re.M):
        if not chunk.strip():
            continue
        msg = email.message_from_string(chunk.lstrip("\n"), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain", "html")).get_content()
        m = QUOTE.search(body)
        turns.append((msg["From"], (body[: m.start()] if m else body).strip()))
    return turns


def jsonl(payload):
    return [(m.get("sender"), m.get("text")) for m in map(json.loads, payload.splitlines())]


def sgd(payload):
    return [(t["speaker"], t["text"]) for t in json.loads(payload)["turns"]]


READERS = {"plain": plain, "vtt": vtt, "email": mails, "jsonl": jsonl, "sgd": sgd}


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    size = sum(len(r["payload"].encode()) for r in rows)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for r in rows:
            READERS[r["format"]](r["payload"])
        best = min(best, time.perf_counter() - started)
    print(f"python               {len(rows) / best:>10.0f} conversations/s {size / 1e6 / best:>8.2f} MB/s")


main()
