"""The two seed analyses of the corpus, figure by figure (the first milestone).

Compared with the corpus scoring rule: every label is found and every prediction matches
a label (a label without a period accepts any period).
"""

import json
from pathlib import Path

import pytest

from bot.extract import extract, read_corpus_doc
from bot.extract.score import matches

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.mark.parametrize("name", ["seed-000-dell-q1fy27-analysis", "seed-003-dell-q2fy26-analysis"])
def test_seed_document_figures_exactly(name):
    fields, body = read_corpus_doc((CORPUS / "docs" / f"{name}.txt").read_text())
    labels = json.loads((CORPUS / "labels" / f"{name}.json").read_text())["figures"]
    got = [f.to_dict() for f in extract(body, published=fields["published"])]
    assert [lab for lab in labels if not any(matches(p, lab) for p in got)] == []
    assert [p for p in got if not any(matches(p, lab) for lab in labels)] == []
    assert len(got) == len(labels)
    for f in got:
        assert body[f["span"][0] : f["span"][1]] == f["evidence"]
        assert f["comparative"] == any(
            matches(f, lab) and lab["comparative"] for lab in labels
        )
