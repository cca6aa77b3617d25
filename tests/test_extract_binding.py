"""Binding cases from tests/fixtures/extract/binding.json (issue 10's classes 3, 5, 6, 7 and
its false alerts): each text's figures, exactly, in the format of test_extract_sentences."""

import json
from pathlib import Path

import pytest

from tests.test_extract_sentences import test_sentence_case as check_case

CASES = json.loads(
    (Path(__file__).parent / "fixtures" / "extract" / "binding.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"c{c['class']}-{c['id']}" for c in CASES])
def test_binding_case(case):
    check_case(case)
