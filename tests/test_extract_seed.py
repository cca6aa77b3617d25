"""The two seed analyses of the corpus, figure by figure (the first milestone)."""

from pathlib import Path

import json
import pytest

from bot.extract import extract, read_corpus_doc

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def _key(d):
    return (d["metric"], d["basis"], d["unit"], d["period"] or "", round(float(d["value"]), 2))


@pytest.mark.parametrize("name", ["seed-000-dell-q1fy27-analysis", "seed-003-dell-q2fy26-analysis"])
def test_seed_document_figures_exactly(name):
    fields, body = read_corpus_doc((CORPUS / "docs" / f"{name}.txt").read_text())
    labels = json.loads((CORPUS / "labels" / f"{name}.json").read_text())["figures"]
    got = extract(body, published=fields["published"])
    assert sorted(_key(f.to_dict()) for f in got) == sorted(_key(d) for d in labels)
    for f in got:
        assert body[f.span[0] : f.span[1]] == f.evidence
