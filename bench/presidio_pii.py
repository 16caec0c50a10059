"""Presidio's analyzer on the same texts as core/examples/pii_bench.rs, one core.

    python bench/presidio_pii.py TEXTS.jsonl

Prints texts/s and MB/s for AnalyzerEngine.analyze (and, with the anonymizer, for analyze +
anonymize), the best of a few passes as the Rust driver does. No spaCy English model is
installable from PyPI here, so the NLP engine is a blank spaCy pipeline: Presidio runs its
pattern, checksum and context recognizers, and no NER (no PERSON, no locations).
"""
import json
import logging
import sys
import time

import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_anonymizer import AnonymizerEngine


class BlankSpacy(SpacyNlpEngine):
    """Presidio's spaCy engine over a blank English pipeline (tokenizer only)."""

    def load(self):
        self.nlp = {"en": spacy.blank("en")}


def main():
    # tldextract tries to download the public-suffix list and falls back to its bundled copy.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    texts = [json.loads(l)["text"] for l in open(sys.argv[1]) if l.strip()]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    engine = BlankSpacy(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    analyzer.analyze(text="warm up 4111 1111 1111 1111", language="en")
    passes = 3 if len(texts) < 5000 else 1
    best_analyze = best_both = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        results = [analyzer.analyze(text=t, language="en") for t in texts]
        best_analyze = min(best_analyze, time.perf_counter() - start)
        start = time.perf_counter()
        for t in texts:
            anonymizer.anonymize(text=t, analyzer_results=analyzer.analyze(text=t, language="en"))
        best_both = min(best_both, time.perf_counter() - start)
    found = sum(len(r) for r in results)
    print(f"presidio analyze     {best_analyze:.3f} s  {len(texts) / best_analyze:>9.0f} texts/s  {mb / best_analyze:>7.3f} MB/s  ({found} spans)")
    print(f"presidio anonymize   {best_both:.3f} s  {len(texts) / best_both:>9.0f} texts/s  {mb / best_both:>7.3f} MB/s  (analyze + anonymize)")


if __name__ == "__main__":
    main()
