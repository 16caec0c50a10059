"""What the language-detection set builders share: writing the labelled set as CSV."""
import csv
import sys


def write_set(out, rows):
    """Writes (text, language, kind) rows to `out` with a header, and says how many on stderr."""
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "language", "kind"])
        writer.writerows(rows)
    print(f"{len(rows)} rows, {len(set(r[1] for r in rows))} languages -> {out}", file=sys.stderr)
