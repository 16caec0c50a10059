#!/usr/bin/env python3
"""A public labelled multilingual set for detect_language: the test data lingua ships in its
language-model crates on crates.io (lingua-<language>-language-model 1.3.0, Apache-2.0; held out
from lingua's training text), for the 36 languages detect_language knows.

    bench/lingua_testdata_set.py CARGO_REGISTRY_SRC OUT.csv

Writes `text,language,kind`, `kind` being `single-words`, `word-pairs` or `sentences` (1,000 of
each per language).
"""
from language_set import write_set
import glob
import os
import sys

CRATES = {
    "arabic": "ar", "bengali": "bn", "bokmal": "nb", "bulgarian": "bg", "catalan": "ca",
    "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da", "dutch": "nl",
    "english": "en", "finnish": "fi", "french": "fr", "german": "de", "greek": "el",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "indonesian": "id", "italian": "it",
    "japanese": "ja", "korean": "ko", "malay": "ms", "persian": "fa", "polish": "pl",
    "portuguese": "pt", "romanian": "ro", "russian": "ru", "slovak": "sk", "spanish": "es",
    "swedish": "sv", "tagalog": "tl", "thai": "th", "turkish": "tr", "ukrainian": "uk",
    "vietnamese": "vi",
}


def main(registry, out):
    rows = []
    for crate, language in CRATES.items():
        found = sorted(glob.glob(os.path.join(registry, f"lingua-{crate}-language-model-1.3.0")))
        if not found:
            sys.exit(f"lingua-{crate}-language-model-1.3.0 is not under {registry}: run cargo fetch")
        for kind in ("single-words", "word-pairs", "sentences"):
            with open(os.path.join(found[-1], "testdata", f"{kind}.txt"), encoding="utf-8") as f:
                rows += [(line.strip(), language, kind) for line in f if line.strip()]
    write_set(out, rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
