"""VADER (vaderSentiment, the baseline of `bench/sentiment.sh`) on labelled `text,label` CSVs:
accuracy, macro-F1 and macro-recall per file, as `convlytics eval sentiment` computes them, plus
texts/s. Labels: compound >= 0.05 positive, <= -0.05 negative, else neutral (VADER's own rule).

Usage: python3 vader_eval.py FILE.csv...   (prints one JSON document)
"""
import csv
import json
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def label(compound):
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def metrics(gold, predicted):
    labels = sorted(set(gold) | set(predicted))
    f1s, recalls = [], []
    for lab in labels:
        support = sum(g == lab for g in gold)
        if support == 0:
            continue
        hits = sum(g == p == lab for g, p in zip(gold, predicted))
        predicted_n = sum(p == lab for p in predicted)
        precision = hits / predicted_n if predicted_n else 0.0
        recall = hits / support
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        recalls.append(recall)
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    return {"texts": len(gold), "accuracy": accuracy, "macro_f1": sum(f1s) / len(f1s),
            "macro_recall": sum(recalls) / len(recalls)}


analyzer = SentimentIntensityAnalyzer()
files, all_gold, all_pred, seconds = [], [], [], 0.0
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    started = time.perf_counter()
    predicted = [label(analyzer.polarity_scores(r["text"])["compound"]) for r in rows]
    seconds += time.perf_counter() - started
    gold = [r["label"] for r in rows]
    files.append({"path": path, "metrics": metrics(gold, predicted)})
    all_gold += gold
    all_pred += predicted
print(json.dumps({"files": files, "overall": metrics(all_gold, all_pred) if len(files) > 1 else None,
                  "seconds": seconds, "texts_per_second": len(all_gold) / seconds}))
