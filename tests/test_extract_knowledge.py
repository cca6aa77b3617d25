"""The extractor's data files (bot/extract/data): checked when loaded, and the only copy.

A bad entry is a clear error naming the file, the line and the key; a word added to a data
file is read everywhere, prefilters included; a new phrasing is a data edit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.extract import knowledge, vocab
from bot.extract.cues import EndCue, StemCue, final_literals, necessary_factors

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(knowledge.DATA, d)
    return d


def _edit(d: Path, name: str, old: str, new: str) -> None:
    text = (d / name).read_text(encoding="utf-8")
    assert old in text, old
    (d / name).write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_data_loads():
    k = knowledge.load()
    assert k.pack("DELL") is not None and k.pack("HPE").fiscal_year.end_month == 10
    assert set(knowledge.CUES) <= set(k.cues.cues)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "metrics.yaml",
            "metric: ai_backlog, unit: USD}",
            "metric: ai_backlogg, unit: USD}",
            r"metrics\.yaml:\d+: phrases\[\d+\]\.metric: Input should be",
        ),
        (
            "metrics.yaml",
            '{words: "backlog", metric: ai_backlog',
            '{words: "back|", metric: ai_backlog',
            r"metrics\.yaml:\d+: phrases\[\d+\]\.words: bad alternative",
        ),
        (
            "metrics.yaml",
            '"ai {aim}? {aim}? backlog"',
            '"ai {aims}? backlog"',
            r"metrics\.yaml:\d+: phrases\[\d+\]\.words: unknown group \{aims\}",
        ),
        (
            "metrics.yaml",
            "metric: storage_revenue, unit: USD}",
            "metric: storage_revenue}",
            r"metrics\.yaml:\d+: phrases\[\d+\]\.unit: a phrase of storage_revenue needs its unit",
        ),
        ("cues.yaml", "  guidance:\n", "  guidanse:\n", r"cues\.yaml:\d+: cues\.guidanse"),
        (
            "cues.yaml",
            "    - sees\n",
            "    - sees?\n",
            r"cues\.yaml:\d+: cues\.guidance\[\d+\]: no required word",
        ),
        (
            "companies.yaml",
            "  - ticker: HPE\n",
            "  - ticker: hpe\n",
            r"companies\.yaml:\d+: companies\[1\]\.ticker: String should match",
        ),
        (
            "companies.yaml",
            "        parent: isg\n",
            "        parent: isgg\n",
            r"companies\.yaml:\d+: companies\[0\]\.segments\.sn\.parent: unknown segment 'isgg'",
        ),
        (
            "companies.yaml",
            "    name: NetApp\n",
            "    name: NetApp\n    colour: blue\n",
            r"companies\.yaml:\d+: companies\[3\]\.colour: unknown key",
        ),
        ("companies.yaml", "others: [", "others: [[", r"companies\.yaml:\d+: YAML syntax"),
    ],
)
def test_a_bad_data_file_names_file_line_and_key(tmp_path, name, old, new, message):
    d = _copy(tmp_path)
    _edit(d, name, old, new)
    with pytest.raises(ConfigError) as err:
        knowledge.load(d)
    assert re.search(message, str(err.value)), str(err.value)
    assert str(err.value).startswith(str(d / name))


@pytest.mark.parametrize(
    ("spec", "matches", "misses"),
    [
        ("compared with|to", ["compared with", "compared-to"], ["compared"]),
        ("up|down? from", ["from", "up from"], ["upfrom"]),
        (
            "from a|the prior !forecast|guidance",
            ["from the prior year"],
            ["from the prior forecast"],
        ),
        ("more_than|over {h}?", ["more than", "over about"], ["more"]),
    ],
)
def test_word_specs(spec, matches, misses):
    rx = re.compile(rf"^{knowledge.spec_regex(spec, {'h': ['about']})}", re.IGNORECASE)
    for m in matches:
        assert rx.match(m), m
    for m in misses:
        assert not (rx.match(m) and rx.match(m).end() == len(m)), m


def test_prefilters_are_read_off_the_patterns():
    assert set(vocab.COMPARE_WORDS) == {"from", "compared", "versus", "vs", "against", "over"}
    assert {"than", "up", "grew"} <= set(vocab.CHANGE_BEFORE_RE.ends)
    assert {"vs", "vs."} <= set(final_literals(r"\b(?:vs\.?)\s*$"))
    assert set(necessary_factors(r"\bguid(?:e|ance)\b")) == {"guide", "guidance"}
    assert final_literals(r"\bexceed\w*\s*$") is None  # too loose for a test: the regex decides
    assert EndCue(r"\bexceed\w*\s*$").ends == ("",)
    assert StemCue(r"\w+").stems == ("",)


def test_every_cue_word_is_in_its_prefilter():
    """Each alternative of every data cue, written out, passes the word test of its cue."""
    k = knowledge.KNOWLEDGE
    for cue, obj in [
        ("guidance", vocab.GUIDANCE_RE),
        ("change_before", vocab.CHANGE_BEFORE_RE),
        ("compare_before", vocab.COMPARE_BEFORE_RE),
        ("hedge_before", vocab.HEDGE_BEFORE_RE),
        ("not_figure_before", vocab.NOT_FIGURE_BEFORE_RE),
        ("level_before", vocab.LEVEL_BEFORE_RE),
    ]:
        for spec in k.cues.cues[cue]:
            for words in knowledge.spec_sequences(spec, k.cues.groups):
                text = "Revenue was " + " ".join(words)
                if obj.regex.search(text):
                    if isinstance(obj, EndCue):
                        assert obj.search(text), (cue, text)
                    else:
                        assert obj.search(text), (cue, text)


def test_a_new_phrasing_is_a_data_edit(tmp_path):
    text = "Profit per diluted share was $1.10 in the second quarter of fiscal 2024."
    d = _copy(tmp_path)

    def run():
        env = {**os.environ, "MARKETBOT_EXTRACT_DATA": str(d)}
        out = subprocess.run(
            [sys.executable, "-m", "bot", "extract", "-"],
            input=text,
            text=True,
            capture_output=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return [(f["metric"], f["value"], f["period"]) for f in json.loads(out.stdout)]

    assert run() == []
    _edit(
        d,
        "metrics.yaml",
        '  - {words: "diluted? earnings|eps per',
        '  - {words: "profit per diluted? share", metric: eps, unit: USD/share}\n'
        '  - {words: "diluted? earnings|eps per',
    )
    assert run() == [("eps", 1.10, "FY2024-Q2")]


def test_a_bad_data_directory_stops_the_cli_with_exit_code_2(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "cues.yaml", "  guidance:\n", "  guidanse:\n")
    env = {**os.environ, "MARKETBOT_EXTRACT_DATA": str(d)}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "extract", "-"],
        input="x",
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "cues.yaml" in out.stderr and "guidanse" in out.stderr
