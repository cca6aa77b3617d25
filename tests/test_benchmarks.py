"""The benchmark scripts still run against the code they measure (they print figures; no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_extract_stages_matches_figures_of_and_prints_every_stage():
    # The script re-runs figures_of stage by stage and exits 1 when its figures differ from
    # figures_of's: a change to figures_of that the script does not follow fails here.
    run = subprocess.run([sys.executable, "benchmarks/extract_stages.py", "--docs", "30", "--repeat", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    stages = dict(re.findall(r"^(\w[\w +]*?)\s+(\d+\.\d{3}) ms/doc", run.stdout, re.MULTILINE))
    assert set(stages) == {"reporting period", "tables", "numbers", "sentences", "periods", "headings",
                           "narrative", "fill + dedupe", "total"}
    assert float(stages["total"]) > 0
    assert float(stages["narrative"]) > 0


def test_ingest_prints_each_stage_and_a_second_ingest_adds_nothing():
    run = subprocess.run([sys.executable, "benchmarks/ingest.py", "--items", "60", "--batch", "25",
                          "--docs", str(ROOT / "tests" / "fixtures" / "corpus" / "docs")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    stages = dict(re.findall(r"^  (extract|store|analyse|total)\s+(\d+\.\d+)", run.stdout, re.MULTILINE))
    assert set(stages) == {"extract", "store", "analyse", "total"}
    assert "first poll: ok, 60 new items" in run.stdout
    assert "second ingest of the same items: 0 new items, rows added {'item': 0, 'figure': 0, " \
           "'alert': 0}" in run.stdout
