"""Steady load for bench/realtime.sh: conversations arrive at a fixed rate, and the time each takes
to be enriched (and, for the alert rules it fires, to be alerted) is measured.

  realtime_load.py postgres URL RECORDS RATE SECONDS
      inserts one record per transaction into raw.raw_interactions from 4 connections, on an
      open-loop schedule (the i-th at start + i/RATE, whatever the earlier ones took), and LISTENs
      on convlytics_alerts. With the trigger enriching in the inserting transaction, a record's
      latency to its enriched row is from its scheduled time to its COMMIT; to its alert, to the
      NOTIFY's arrival.
  realtime_load.py embedded DIR RECORDS RATE SECONDS
      appends records as lines to DIR/inbox/arriving.jsonl on the same schedule while
      `convlytics watch` follows the directory; a record's latency is from its append to the
      publication of the batch that holds it (the watcher's checkpoint passing its end), by which
      its enriched rows, the marts and its alerts are written.

  realtime_load.py load URL DIR
      creates raw.raw_interactions and the crm tables from the generated inbox in DIR.

Prints one line per measure and, last, `realtime: p50 X ms, p95 Y ms, p99 Z ms at N
conversations/s (ENGINE)`; exits 2 when the load was not sustained (p99 over the engine's budget,
1 s on PostgreSQL and 5 s embedded, records missing, or latencies that keep growing).
"""

import json
import os
import statistics
import sys
import threading
import time


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def records(path, count, tag):
    """`count` records of the file, each a new conversation (a fresh source_id); email aside
    (a thread's Message-ID would join copies of one thread into one conversation)."""
    pool = []
    with open(path) as f:
        for line in f:
            value = json.loads(line)
            if value.get("format") not in ("email", "eml", "mbox"):
                pool.append(value)
    out = []
    for i in range(count):
        value = dict(pool[i % len(pool)])
        value["source_id"] = f"{value['source_id']}-{tag}-{i}"
        out.append(value)
    return out


# The latency a sustained load keeps its p99 under: a trigger enriches within the insert, so a
# second is already late; the watcher publishes micro-batches, and the target is five seconds.
BUDGET_MS = {"postgres": 1000, "embedded": 5000}


def report(engine, rate, seconds, sent, latencies, alert_latencies, late):
    ms = [1000 * x for x in latencies]
    print(f"{engine}: {len(ms)} conversations at {rate}/s for {seconds} s; {late} sent more than 100 ms late")
    if alert_latencies:
        a = [1000 * x for x in alert_latencies]
        print(f"{engine}: to alert ({len(a)} alerts): p50 {percentile(a, 50):.0f} ms, p95 {percentile(a, 95):.0f} ms, "
              f"p99 {percentile(a, 99):.0f} ms")
    half = len(ms) // 2
    growing = half > 10 and statistics.median(ms[half:]) > 3 * statistics.median(ms[:half]) + 50
    sustained = percentile(ms, 99) < BUDGET_MS[engine] and not growing and len(ms) == sent
    print(f"realtime: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
          f"p99 {percentile(ms, 99):.0f} ms at {rate} conversations/s ({engine})"
          + ("" if sustained else " NOT SUSTAINED"))
    return 0 if sustained else 2


def postgres(url, path, rate, seconds):
    import psycopg

    count = int(rate * seconds)
    batch = records(path, count, f"pg{rate}x{int(time.time())}")
    columns = ["source", "source_id", "channel", "format", "contact_email", "contact_phone",
               "contact_name", "campaign", "payload", "received_at"]
    insert = (f"insert into raw.raw_interactions ({', '.join(columns)}) values "
              f"({', '.join(['%s'] * len(columns))})")
    sent_at = {}
    latencies = [None] * count
    late = [0]
    alerts = {}
    listening = threading.Event()

    def listen():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("listen convlytics_alerts")
            listening.set()
            for notify in conn.notifies(timeout=seconds + 30):
                payload = json.loads(notify.payload)
                alerts.setdefault(payload["conversation_id"], time.monotonic())

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    listening.wait(10)
    lock = threading.Lock()
    next_index = [0]
    begin = [0.0]
    go = threading.Event()

    warm = records(path, 4, f"warm{rate}x{int(time.time())}")
    ready = threading.Barrier(5)

    def worker():
        with psycopg.connect(url, autocommit=True) as conn:
            # A pooled connection has loaded the models before it serves: one insert first, unmeasured.
            with lock:
                own = warm.pop()
            conn.execute(insert, [own.get(c) for c in columns])
            ready.wait()
            go.wait()
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= count:
                    return
                due = begin[0] + i / rate
                now = time.monotonic()
                if now < due:
                    time.sleep(due - now)
                elif now - due > 0.1:
                    late[0] += 1
                value = batch[i]
                conn.execute(insert, [value.get(c) for c in columns])
                latencies[i] = time.monotonic() - due
                sent_at[value["source_id"]] = due

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for w in workers:
        w.start()
    ready.wait()
    begin[0] = time.monotonic() + 0.2
    go.set()
    for w in workers:
        w.join()
    time.sleep(2)
    alert_latencies = []
    with psycopg.connect(url) as conn:
        ids = list(alerts)
        if ids:
            rows = conn.execute(
                "select cast(conversation_id as text), source_id from analytics.interactions "
                "where cast(conversation_id as text) = any(%s)", [ids]).fetchall()
            for conversation, source_id in rows:
                if source_id in sent_at:
                    alert_latencies.append(alerts[conversation] - sent_at[source_id])
    return report("postgres", rate, seconds, count, [x for x in latencies if x is not None], alert_latencies, late[0])


def embedded(directory, path, rate, seconds):
    count = int(rate * seconds)
    batch = records(path, count, f"em{rate}x{int(time.time())}")
    target = os.path.join(directory, "inbox", "arriving.jsonl")
    checkpoint = os.path.join(directory, "target", "warehouse", "_realtime", "checkpoint.json")
    ends = []
    appended = []
    published = {}
    stop = threading.Event()

    def poll():
        seen = 0
        while not stop.is_set() or seen < len(ends):
            try:
                with open(checkpoint) as f:
                    offset = json.load(f)["files"].get("arriving.jsonl", 0)
            except (OSError, ValueError):
                offset = 0
            now = time.monotonic()
            while seen < len(ends) and ends[seen] <= offset:
                published[seen] = now
                seen += 1
            time.sleep(0.01)
            if stop.is_set() and time.monotonic() > stop_time[0] + 60:
                return

    stop_time = [0.0]
    poller = threading.Thread(target=poll)
    poller.start()
    start = time.monotonic() + 0.5
    late = 0
    size = os.path.getsize(target) if os.path.exists(target) else 0
    with open(target, "a") as f:
        for i, value in enumerate(batch):
            due = start + i / rate
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            elif now - due > 0.1:
                late += 1
            line = json.dumps(value) + "\n"
            f.write(line)
            f.flush()
            size += len(line.encode())
            appended.append(time.monotonic())
            ends.append(size)
    stop_time[0] = time.monotonic()
    stop.set()
    poller.join()
    latencies = [published[i] - appended[i] for i in range(count) if i in published]
    return report("embedded", rate, seconds, count, latencies, [], late)


def load(url, directory):
    """raw.raw_interactions (every field as text) and the crm tables of a generated inbox."""
    import csv

    import psycopg

    columns = ["source", "source_id", "channel", "format", "contact_email", "contact_phone",
               "contact_name", "campaign", "payload", "received_at"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade; drop schema if exists crm cascade")
        conn.execute("create schema raw; create schema crm")
        conn.execute(f"create table raw.raw_interactions ({', '.join(c + ' text' for c in columns)})")
        with conn.cursor().copy(f"copy raw.raw_interactions ({', '.join(columns)}) from stdin") as copy:
            with open(os.path.join(directory, "raw_interactions.jsonl")) as f:
                for line in f:
                    value = json.loads(line)
                    copy.write_row([None if value.get(c) is None else str(value[c]) for c in columns])
        for table in ["crm_accounts", "orders", "campaigns", "refunds", "churn", "agents"]:
            with open(os.path.join(directory, f"{table}.csv")) as f:
                rows = list(csv.reader(f))
            conn.execute(f"create table crm.{table} ({', '.join(h + ' text' for h in rows[0])})")
            with conn.cursor().copy(f"copy crm.{table} from stdin") as copy:
                for row in rows[1:]:
                    copy.write_row([v if v != "" else None for v in row])


if __name__ == "__main__":
    if sys.argv[1] == "load":
        sys.exit(load(sys.argv[2], sys.argv[3]))
    engine, where, path, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    rate = int(rate) if rate == int(rate) else rate
    if engine == "postgres":
        sys.exit(postgres(where, path, rate, seconds))
    sys.exit(embedded(where, path, rate, seconds))
