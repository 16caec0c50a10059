"""Builds labelled sentiment sets (`text,label` CSV, negative/neutral/positive) from public data
that the package registries carry, for `bench/sentiment.sh`:

* uci_{amazon,yelp,imdb}.csv: "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015, UCI),
  1,000 review sentences each, positive or negative, as shipped in the npm package `sentiment`
  5.0.2 (test/fixtures, MIT).
* vader_{tweets,amazon,movies,nyt}.csv: the human-rated sentences of Hutto & Gilbert (ICWSM 2014),
  as shipped in the PyPI sdist of vaderSentiment 3.3.2 (MIT). Mean rating on [-4, 4]: at or below
  -0.5 negative, at or above 0.5 positive, between them neutral. VADER's lexicon and rules were
  built against these sentences: they favour VADER.

Usage: python3 sentiment_data.py DOWNLOAD_DIR OUT_DIR (DOWNLOAD_DIR holds the two archives).
"""
import csv
import io
import json
import pathlib
import sys
import tarfile

downloads, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)


def write(name, rows):
    with open(out / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"{name}: {len(rows)} texts", file=sys.stderr)


npm = tarfile.open(next(downloads.glob("sentiment-*.tgz")))
for name in ["amazon", "yelp", "imdb"]:
    data = json.load(npm.extractfile(f"package/test/fixtures/{name}.json"))
    write(f"uci_{name}.csv", [(d["text"].strip(), "positive" if d["class"] == 1 else "negative") for d in data
                              if d["text"].strip()])

sdist = tarfile.open(next(downloads.glob("vaderSentiment-*.tar.gz")))
inner = sdist.extractfile(next(m for m in sdist.getnames() if m.endswith("hutto_ICWSM_2014.tar.gz")))
ratings = tarfile.open(fileobj=io.BytesIO(inner.read()))
for name, file in [("tweets", "tweets"), ("amazon", "amazonReviewSnippets"), ("movies", "movieReviewSnippets"),
                   ("nyt", "nytEditorialSnippets")]:
    rows = []
    for line in ratings.extractfile(f"hutto_ICWSM_2014/{file}_GroundTruth.txt").read().decode("utf-8", "replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) < 3:
            continue
        mean = float(parts[1])
        label = "negative" if mean <= -0.5 else "positive" if mean >= 0.5 else "neutral"
        if parts[2].strip():
            rows.append((parts[2].strip(), label))
    write(f"vader_{name}.csv", rows)
