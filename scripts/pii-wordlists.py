"""Regenerates the word lists in core/src/pii/data/ (run by hand; the lists are committed).

first_names.txt / last_names.txt: the US Census 1990 name lists (public domain, through the
`names` package) joined with the person-name lists of every Latin, Greek and Cyrillic locale in
`Faker` (MIT). common_words.txt: the 8,000 most frequent English words from `wordfreq`
(data CC BY-SA 4.0) that the SCOWL dictionary (Debian `wamerican`) spells in lower case, which
name detection treats as words rather than names: "will" and "young" are words, "shane" is not.

    pip download --no-deps names==0.3.0 faker==40.63.0 && pip install wordfreq==3.1.1 && apt-get install wamerican
    python scripts/pii-wordlists.py NAMES_SRC_DIR FAKER_WHEEL_DIR
"""
import importlib, pkgutil, sys, unicodedata, pathlib

names_dir, faker_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, faker_dir)
import wordfreq
import faker.providers.person as person

def ok(n):
    return len(n) >= 2 and all(c.isalpha() or c in "'-" for c in n) and n[0].isalpha() and n[0].isupper()

first, last = set(), set()
for f in ("dist.male.first", "dist.female.first"):
    for line in open(f"{names_dir}/{f}"):
        first.add(line.split()[0].capitalize())
for i, line in enumerate(open(f"{names_dir}/dist.all.last")):
    if i < 40000:
        last.add(line.split()[0].capitalize())
for m in pkgutil.iter_modules(person.__path__):
    mod = importlib.import_module(f"faker.providers.person.{m.name}")
    p = mod.Provider
    for attr, target in (("first_names", first), ("first_names_male", first), ("first_names_female", first),
                         ("first_names_nonbinary", first), ("last_names", last), ("last_names_male", last),
                         ("last_names_female", last)):
        values = getattr(p, attr, ())
        if not isinstance(values, (tuple, list, dict)):
            continue
        for n in values:
            for part in str(n).split():
                if ok(part):
                    target.add(unicodedata.normalize("NFC", part))
common = set(wordfreq.top_n_list("en", 8000))
lower_case_words = {w.strip() for w in open("/usr/share/dict/american-english") if w[:1].islower()}
common = {w for w in common if w.isalpha() and len(w) >= 2 and w in lower_case_words} | {"i"}
out = pathlib.Path(__file__).resolve().parent.parent / "core/src/pii/data"
(out / "first_names.txt").write_text("\n".join(sorted(first)) + "\n")
(out / "last_names.txt").write_text("\n".join(sorted(last)) + "\n")
(out / "common_words.txt").write_text("\n".join(sorted(common)) + "\n")
print(len(first), len(last), len(common))
