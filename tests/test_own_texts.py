"""The project's texts are its own: no sentence of the real texts in ../shared/corpus is copied.

Every text file of the repository is compared with the real texts word by word (lowercased, tags
and punctuation dropped). A run of words it shares with one of them is copied prose when it holds
eight words in a row that are not figures, or twelve words of which at most three are figures and
at least three are function words ("the", "of", "was", …). Figures ($, %, numbers, month names)
are facts and may be shared: a table row ("Net revenue $ 29,776 $ 25,026 19%") or a date line is
not prose. Our own texts in tests/fixtures/corpus stand in for real ones (their `mirrors:` header);
each keeps its real text's figures, which is checked label by label.

The real texts are not part of the project: the tests that read them skip when ../shared/corpus
is absent. The demo's feeds and the seed test feed carry the own texts word for word.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from bot.extract import read_corpus_doc
from bot.parser import parse_feed

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
OWN = ROOT / "tests" / "fixtures" / "corpus"
RUN = 8  # words in a row
WINDOW, MAX_FIGURES, MIN_FUNCTION = 12, 3, 3

needs_shared = pytest.mark.skipif(not (SHARED / "docs").is_dir(),
                                  reason="../shared/corpus is absent")

_WORD = re.compile(r"[A-Za-z0-9$%]+(?:[.,'’][A-Za-z0-9]+)*")
_TAG = re.compile(r"<[^>]+>")
_MONTHS = frozenset("january february march april may june july august september october november "
                    "december".split())
_FUNCTION = frozenset("a an the of and or to in on at for with by from as is was were are be been "
                      "it its our we this that than up down over".split())
_SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules"}


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(html.unescape(_TAG.sub(" ", text)))]


def is_figure(word: str) -> bool:
    return word in ("$", "%") or word in _MONTHS or any(c.isdigit() for c in word)


def is_prose(run: list[str]) -> bool:
    """Whether a shared run of words is copied prose rather than figures, dates and table rows."""
    figure = [is_figure(w) for w in run]
    in_a_row = 0
    for f in figure:
        in_a_row = 0 if f else in_a_row + 1
        if in_a_row >= RUN:
            return True
    for i in range(len(run) - WINDOW + 1):
        part = run[i : i + WINDOW]
        few_figures = sum(figure[i : i + WINDOW]) <= MAX_FIGURES
        if few_figures and sum(w in _FUNCTION for w in part) >= MIN_FUNCTION:
            return True
    return False


Shingles = dict[tuple[str, ...], str]  # every RUN words of a real text -> that text's name


def shared_runs(text: list[str], shingles: Shingles) -> list[tuple[list[str], str]]:
    """The maximal runs of `text` whose every RUN consecutive words occur in a real text."""
    out, i = [], 0
    while i <= len(text) - RUN:
        first = shingles.get(tuple(text[i : i + RUN]))
        if first is None:
            i += 1
            continue
        j = i + RUN
        while j < len(text) and tuple(text[j - RUN + 1 : j + 1]) in shingles:
            j += 1
        out.append((text[i:j], first))
        i = j
    return out


def copied_runs(text: str, shingles: Shingles) -> list[str]:
    return [f"{' '.join(run)[:160]!r} (as in {source})"
            for run, source in shared_runs(words(text), shingles) if is_prose(run)]


@pytest.fixture(scope="module")
def shingles() -> Shingles:
    out: Shingles = {}
    for path in sorted((SHARED / "docs").glob("*.txt")):
        w = words(read_corpus_doc(path.read_text(encoding="utf-8"))[1])
        for i in range(len(w) - RUN + 1):
            out.setdefault(tuple(w[i : i + RUN]), path.stem)
    return out


def project_texts() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT).parts
        if any(p.startswith(".") or p in _SKIP_DIRS or p.endswith(".egg-info") for p in rel[:-1]):
            continue
        if path.is_file() and not rel[-1].startswith(".") and path.stat().st_size < 2_000_000:
            out.append(path)
    return out


@needs_shared
@pytest.mark.parametrize("path", project_texts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_file_of_the_project_copies_a_real_text(shingles, path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return  # binary
    assert copied_runs(text, shingles) == []


@needs_shared
@pytest.mark.parametrize(("text", "copied"), [
    # a real sentence, and the same facts in other words
    ("Revenue was $22.9 billion, down 13% year-over-year and up 10% sequentially. The company "
     "generated operating income of $1.2 billion", True),
    ("Revenue was $22.9 billion, 13% lower year-over-year and 10% higher sequentially.", False),
    # a real table's rows and column dates are figures, not prose
    ("Three Months Ended Six Months Ended August 1, 2025 August 2, 2024 Change Net revenue "
     "$ 29,776 $ 25,026 19% $ 53,154 $ 47,270 12%", False),
    # a real heading and boilerplate are prose
    ("Dell's AI Factory Is Booming With a Backlog of $51 Billion, But Will It Lift Margins?", True),
])
def test_the_rule_tells_copied_prose_from_shared_figures(shingles, text, copied):
    assert bool(copied_runs(text, shingles)) is copied


def _key(f: dict) -> tuple:
    return (f["metric"], f["basis"], f["unit"], round(f["value"], 4), f["period"], f["approx"],
            f["accounting"], bool(f.get("comparative")), bool(f.get("table")), f.get("low"),
            f.get("high"))


@needs_shared
@pytest.mark.parametrize("doc", sorted(p.stem for p in (OWN / "docs").glob("*.txt")))
def test_each_own_text_keeps_its_real_texts_figures(doc):
    fields, _ = read_corpus_doc((OWN / "docs" / f"{doc}.txt").read_text(encoding="utf-8"))
    own = json.loads((OWN / "labels" / f"{doc}.json").read_text(encoding="utf-8"))
    real = json.loads((SHARED / "labels" / f"{fields['mirrors']}.json").read_text(encoding="utf-8"))
    left_out = {(d["metric"], d["value"]) for d in own.get("not_carried_over", [])}
    expected = sorted(_key(f) for f in real["figures"] if (f["metric"], f["value"]) not in left_out)
    assert sorted(_key(f) for f in own["figures"]) == expected
    assert all(d["why"] for d in own.get("not_carried_over", []))
    assert fields["published"] == read_corpus_doc(
        (SHARED / "docs" / f"{fields['mirrors']}.txt").read_text(encoding="utf-8"))[0]["published"]


@pytest.mark.parametrize(("feed", "docs"), [
    ("bot/samples/demo-ir.xml", ["2025-05-29_dell-q1fy26-press-release",
                                 "2025-08-28_dell-q2fy26-press-release",
                                 "2025-11-25_dell-q3fy26-press-release",
                                 "2026-05-28_dell-q1fy27-press-release"]),
    ("bot/samples/demo-news.xml", ["2026-06-06_dell-q1fy27-analysis"]),
    ("tests/fixtures/feeds/seed-q1fy27.xml", ["2026-06-06_dell-q1fy27-analysis"]),
])
def test_the_demo_and_seed_feeds_carry_the_own_texts(feed, docs):
    items = parse_feed((ROOT / feed).read_bytes(), feed="t").items
    assert len(items) == len(docs)
    for item, doc in zip(items, docs, strict=True):
        fields, body = read_corpus_doc((OWN / "docs" / f"{doc}.txt").read_text(encoding="utf-8"))
        text = " ".join(words(item.text))
        assert " ".join(words(body.split("\n", 1)[1])) in text  # the headline is the title
        assert item.published.date() == fields["published"]
