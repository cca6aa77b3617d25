"""The labeled corpus (a copy in tests/fixtures/corpus) scored with the README's rule.

Targets: precision ≥ 0.97, R ≥ 0.92 (without comparative and table labels), R_all ≥ 0.85.
"""

import json
from pathlib import Path

import pytest

from bot.extract import extract, read_corpus_doc
from bot.extract.score import combine, score_doc

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
DOCS = sorted((CORPUS / "docs").glob("*.txt"))


def _run():
    scores, figures = [], []
    for doc in DOCS:
        fields, body = read_corpus_doc(doc.read_text(encoding="utf-8"))
        labels = json.loads((CORPUS / "labels" / f"{doc.stem}.json").read_text())["figures"]
        figs = extract(body, published=fields["published"])
        figures.append((body, figs))
        scores.append(score_doc(doc.stem, [f.to_dict() for f in figs], labels))
    return scores, figures


@pytest.fixture(scope="module")
def run():
    return _run()


def test_corpus_is_complete():
    assert len(DOCS) == 8
    assert all((CORPUS / "labels" / f"{d.stem}.json").exists() for d in DOCS)


def test_corpus_targets(run):
    total, _ = combine(run[0])
    assert total.precision >= 0.97, total
    assert total.recall >= 0.92, total
    assert total.recall_all >= 0.85, total


def test_every_figure_has_valid_evidence(run):
    for body, figs in run[1]:
        for f in figs:
            assert body[f.span[0] : f.span[1]] == f.evidence
            assert 0 < len(f.evidence) <= 200
            assert 0.0 <= f.confidence <= 1.0


def test_scoring_rule_counts_restatements_and_periods():
    label = {"metric": "revenue", "basis": "actual", "value": 1.0e9, "unit": "USD", "period": "FY2026-Q2"}
    exact = dict(label, value=1.004e9)
    rounded = dict(label, value=1.043e9)
    wrong_period = dict(label, period="FY2026-Q1")
    ds = score_doc("x", [exact, rounded, wrong_period], [label])
    assert (ds.total.matched, ds.total.excused, ds.total.predicted) == (1, 1, 3)
    assert ds.total.precision == 0.5 and ds.total.recall_all == 1.0
    unlabeled_period = dict(label, period=None)
    assert score_doc("y", [wrong_period], [unlabeled_period]).total.matched == 1
