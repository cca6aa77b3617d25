"""Bad input gives an empty list and never raises; the corpus document reader."""

import random
from datetime import date

import pytest

from bot.extract import MAX_CHARS, extract, read_corpus_doc

_rng = random.Random(7)
JUNK = bytes(_rng.randrange(256) for _ in range(20_000)).decode("latin-1")
BIG = ("Dell revenue was $29.8 billion in Q2 FY26. " * 120_000)[: 5_000_000]

BAD = {
    "empty": "",
    "whitespace": " \n\t ",
    "five-megabytes": BIG,
    "binary-junk": JUNK,
    "nul-bytes": "\x00" * 1000 + "$5 billion" + "\x00" * 1000,
    "german": "Dell meldete einen Umsatz von 29,8 Milliarden Dollar und eine Bruttomarge von 18,3 Prozent.",
    "chinese": "戴尔第二季度营收为298亿美元，同比增长19%。",
    "numbers-no-metric": "Shares rose 5% to $120.50 on volume of 12 million; the index added 1.2% and oil hit $80.",
    "only-punctuation": "$$$ %%% --- ||| ... $ % $",
    "unclosed-html": "<table><tr><td>Net revenue<td>$ 29,776",
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_returns_empty_list(name):
    assert extract(BAD[name], published=date(2025, 8, 28)) == []


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_as_html_returns_empty_list(name):
    assert extract(BAD[name], published=date(2025, 8, 28), html=True) == []


def test_size_cap_is_what_refuses_the_big_text():
    assert len(BIG) > MAX_CHARS
    assert extract(BIG[:5000], published=date(2025, 8, 28))  # the same text, small, has figures


@pytest.mark.parametrize("value", [None, 42, b"bytes"])
def test_non_text_input(value):
    assert extract(value) == []  # type: ignore[arg-type]


def test_read_corpus_doc():
    raw = "source: x\npublished: 2026-06-06\nkind: analysis\n---\nBody line: one\n---\nmore"
    fields, body = read_corpus_doc(raw)
    assert fields == {"source": "x", "published": date(2026, 6, 6), "kind": "analysis"}
    assert body == "Body line: one\n---\nmore"
    assert read_corpus_doc("published: unknown\n---\nx")[0]["published"] is None
    assert read_corpus_doc("no header here") == ({}, "no header here")


def test_random_cuts_and_shuffles_of_real_texts_never_raise():
    """Slices, word shuffles and calendars the code did not plan for, through the unguarded path."""
    from pathlib import Path

    from bot.extract.document import figures_of
    from bot.fiscal import DELL, FiscalCalendar

    root = Path(__file__).parent / "fixtures"
    texts = [read_corpus_doc(p.read_text())[1] for p in sorted((root / "corpus" / "docs").glob("*.txt"))]
    cals = [DELL, FiscalCalendar(9, "last_weekday", 5), FiscalCalendar(6, "month_end")]
    rng = random.Random(11)
    for _ in range(300):
        t = rng.choice(texts)
        a = rng.randrange(len(t))
        s = t[a : a + rng.randrange(1, 4000)]
        if rng.random() < 0.3:
            words = s.split(" ")
            rng.shuffle(words)
            s = " ".join(words)
        pub = rng.choice([None, date(2025, 8, 28), date(2023, 2, 3)])
        for f in figures_of(s, pub, rng.choice(cals)):
            assert s[f.span[0] : f.span[1]] == f.evidence
