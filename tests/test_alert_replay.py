"""benchmarks/alert_replay.py judges alerts as the corpus README scores figures.

A two-text corpus in our own words whose labels are chosen to make each verdict certain:
a figure the text states and the labels hold (right), one the text states and the labels
leave out (wrong), and backlog figures only the labels hold (an alert the extracted run
cannot send: missed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e

def release(day: str, quarter: str, sentences: list[str]) -> str:
    """A short press release in the corpus format, every sentence naming its quarter."""
    body = " ".join(f"{s} in the {quarter}." for s in sentences)
    return (f"source: https://ir.example.com/{day}\npublished: {day}\nkind: press-release\n"
            f"---\nDell Technologies reports {quarter} results\n\n"
            f"Dell Technologies reported results for the {quarter}. {body}\n")


Q4 = release("2026-02-26", "fourth quarter of fiscal 2026",
             ["Gross margin was 19.0%", "AI server orders were $34.1 billion"])
Q1 = release("2026-05-28", "first quarter of fiscal 2027",
             ["Gross margin was 17.8%", "AI server orders were $24.4 billion",
              "ISG operating margin was 8.5%"])

RULES = {
    "feeds": [{"name": "x", "url": "http://127.0.0.1:9/x.xml"}],
    "rules": [
        {"name": "gm-down", "metric": "gross_margin", "change_bps": 50, "direction": "down"},
        {"name": "orders-move", "metric": "ai_orders", "change_pct": 15},
        {"name": "backlog-move", "metric": "ai_backlog", "change_pct": 10},
        {"name": "isg-floor", "metric": "isg_operating_margin", "below": 10},
    ],
    "slack": {"channel": "#alerts"},
}


def label(metric: str, value: float, unit: str, period: str, evidence: str) -> dict:
    return {"metric": metric, "basis": "actual", "value": value, "unit": unit,
            "period": period, "approx": False, "low": None, "high": None,
            "accounting": None, "comparative": False, "table": False, "evidence": evidence}


def corpus(tmp: Path) -> tuple[Path, Path]:
    docs, labels = tmp / "docs", tmp / "labels"
    docs.mkdir()
    labels.mkdir()
    texts = {
        "2026-02-26_ir-dell-q4fy26-press-release": (Q4, [
            label("gross_margin", 19.0, "%", "FY2026-Q4", "Gross margin was 19.0%"),
            label("ai_orders", 34.1e9, "USD", "FY2026-Q4", "AI server orders were $34.1 billion"),
            # Held by the labels only: the text never says it.
            label("ai_backlog", 43e9, "USD", "FY2026-Q4", "Dell Technologies reported"),
        ]),
        "2026-05-28_ir-dell-q1fy27-press-release": (Q1, [
            label("gross_margin", 17.8, "%", "FY2027-Q1", "Gross margin was 17.8%"),
            label("ai_orders", 24.4e9, "USD", "FY2027-Q1", "AI server orders were $24.4 billion"),
            label("ai_backlog", 51.3e9, "USD", "FY2027-Q1", "Dell Technologies reported"),
            # The ISG margin is left out on purpose: an alert built on it is wrong.
        ]),
    }
    for name, (text, figures) in texts.items():
        (docs / f"{name}.txt").write_text(text)
        (labels / f"{name}.json").write_text(json.dumps({"doc": f"{name}.txt",
                                                         "figures": figures}))
    return docs, labels


def test_precision_recall_and_the_lists(tmp_path) -> None:
    docs, labels = corpus(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(RULES))
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, "benchmarks/alert_replay.py", str(docs), str(labels),
                          "--rules", str(rules), "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert (result["sent"], result["expected"]) == (3, 3)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    (wrong,) = result["wrong"]
    assert (wrong["rule"], wrong["metric"], wrong["value"]) == ("isg-floor",
                                                                "isg_operating_margin", 8.5)
    assert wrong["rests"][0]["why"].startswith("not labeled")
    (missed,) = result["missed"]
    assert (missed["rule"], missed["period"]) == ("backlog-move", "FY2027-Q1")
    assert [r["role"] for r in missed["rests"]] == ["figure", "compared with"]
    assert "precision 0.667 (2/3 alerts rest on labeled figures)" in run.stdout
    assert "recall 0.667 (2/3 expected alerts sent)" in run.stdout
    assert "WRONG #" in run.stdout and '"ISG operating margin was 8.5%"' in run.stdout
    assert "MISSED #" in run.stdout


def test_a_missing_directory_is_an_error(tmp_path) -> None:
    run = subprocess.run([sys.executable, "benchmarks/alert_replay.py", str(tmp_path / "no"),
                          str(tmp_path / "no")], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2
    assert "is not a directory" in run.stderr
