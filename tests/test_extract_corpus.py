"""The project's own labeled texts (tests/fixtures/corpus) scored with the corpus README's rule.

These eight texts stand in for real ones of ../shared/corpus (same figures, shape and difficulty,
our words); the extractor was first written on the real ones, so the scores here are regression
floors, not a measure of accuracy: the measure is benchmarks/extraction.py on ../shared/corpus.
Floors are the scores reached; raise them when the extractor improves, never lower them to pass.
Known errors are listed below, each with the class of language it belongs to (issue 10), and
each is an expected failure of its own: fixing one makes its test pass and fail as XPASS.
"""

import json
from datetime import date
from pathlib import Path

import pytest

from bot.extract import extract, read_corpus_doc
from bot.extract.score import combine, matches, restates, score_doc

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
DOCS = sorted((CORPUS / "docs").glob("*.txt"))

# (doc, metric, basis, value) of a figure the extractor reports and the labels do not.
KNOWN_FALSE_POSITIVES = {
    ("2026-06-06_dell-q1fy27-analysis", "ai_backlog", "guidance", 51.3e9):
        "class 5: a guidance verb's scope ('lifted its … guidance to ~$60B,') runs on past the "
        "list comma into the next item ('and now holds a $51.3B AI server backlog')",
}


def _load(doc: Path):
    fields, body = read_corpus_doc(doc.read_text(encoding="utf-8"))
    labels = json.loads((CORPUS / "labels" / f"{doc.stem}.json").read_text())["figures"]
    return fields, body, labels


def _run():
    scores, figures = [], {}
    for doc in DOCS:
        fields, body, labels = _load(doc)
        figs = extract(body, published=fields["published"])
        figures[doc.stem] = (body, figs, labels)
        scores.append(score_doc(doc.stem, [f.to_dict() for f in figs], labels))
    return scores, figures


@pytest.fixture(scope="module")
def run():
    return _run()


def _false_positives(figs, labels):
    return [f for f in (g.to_dict() for g in figs)
            if not any(matches(f, lab) or restates(f, lab) for lab in labels)]


def _key(doc, f):
    return (doc, f["metric"], f["basis"], round(f["value"], 2))


def test_corpus_is_complete():
    assert len(DOCS) == 8
    assert all((CORPUS / "labels" / f"{d.stem}.json").exists() for d in DOCS)


def test_corpus_floors(run):
    total, _ = combine(run[0])
    assert total.labels == 93, total
    assert total.precision >= 0.989, total  # 97 of 98: the known error
    assert total.recall >= 1.0, total
    assert total.recall_all >= 1.0, total


@pytest.mark.parametrize("doc", [d.stem for d in DOCS])
def test_every_label_is_found(run, doc):
    _, figs, labels = run[1][doc]
    preds = [f.to_dict() for f in figs]
    assert [lab for lab in labels if not any(matches(p, lab) for p in preds)] == []


@pytest.mark.parametrize("doc", [d.stem for d in DOCS])
def test_nothing_else_is_reported_but_the_known_errors(run, doc):
    _, figs, labels = run[1][doc]
    wrong = {_key(doc, f) for f in _false_positives(figs, labels)}
    assert wrong <= set(KNOWN_FALSE_POSITIVES), wrong - set(KNOWN_FALSE_POSITIVES)


@pytest.mark.parametrize("known", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=why), id=f"{k[0]}:{k[1]}")
    for k, why in KNOWN_FALSE_POSITIVES.items()
])
def test_known_error_is_fixed(run, known):
    _, figs, labels = run[1][known[0]]
    assert known not in {_key(known[0], f) for f in _false_positives(figs, labels)}


@pytest.mark.xfail(strict=True, reason="class 3: the segment of the clause before (', and' after "
                   "'a ~12% ISG average') taken by a company-only metric, which is then dropped")
def test_company_gross_margin_after_a_segment_clause_joined_by_and():
    # The own analysis separates the two clauses with a semicolon, as its real text does; the
    # same sentence joined by ", and" must give the company's gross margin just the same.
    text = ("Margins are the worry: AI servers are aimed at mid-single-digit operating margins "
            "against a ~12% ISG average, and gross margin slipped to 20% in 2024 and 17.8% in Q1.")
    got = {(f.metric, f.value, f.period) for f in extract(text, published=date(2026, 6, 6))}
    assert {("gross_margin", 20.0, None), ("gross_margin", 17.8, "FY2027-Q1")} <= got


def test_comparatives_carry_their_labels_flag(run):
    for doc, (_, figs, labels) in run[1].items():
        for f in (g.to_dict() for g in figs):
            hits = [lab for lab in labels if matches(f, lab)]
            if hits:
                assert f["comparative"] == any(lab["comparative"] for lab in hits), (doc, f)


def test_every_figure_has_valid_evidence(run):
    for body, figs, _ in run[1].values():
        for f in figs:
            assert body[f.span[0] : f.span[1]] == f.evidence
            assert 0 < len(f.evidence) <= 200
            assert 0.0 <= f.confidence <= 1.0


def test_scoring_rule_counts_restatements_and_periods():
    label = {"metric": "revenue", "basis": "actual", "value": 1.0e9, "unit": "USD",
             "period": "FY2026-Q2"}
    exact = dict(label, value=1.004e9)
    rounded = dict(label, value=1.043e9)
    wrong_period = dict(label, period="FY2026-Q1")
    ds = score_doc("x", [exact, rounded, wrong_period], [label])
    assert (ds.total.matched, ds.total.excused, ds.total.predicted) == (1, 1, 3)
    assert ds.total.precision == 0.5 and ds.total.recall_all == 1.0
    unlabeled_period = dict(label, period=None)
    assert score_doc("y", [wrong_period], [unlabeled_period]).total.matched == 1
