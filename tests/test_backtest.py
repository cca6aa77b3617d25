"""Rules tried before they are saved: `marketbot backtest` over a fixture history made by
`marketbot run --once` (subprocesses, loopback feed and Slack). It prints what candidate
rules would have sent and changes nothing. The texts are ours, with Dell's figures."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from tests import database
from tests.fixtures.feeds.make import rss
from tests.loopback import Reply

pytestmark = pytest.mark.e2e

RSS = {"Content-Type": "application/rss+xml"}
Q2 = ("q2fy26", "Dell second quarter fiscal 2026",
      "In the second quarter of fiscal 2026 Dell's gross margin was 18.3%, compared with 21.4% "
      "a year earlier.", "2025-08-28")
Q4 = ("q4fy26", "Dell fourth quarter fiscal 2026",
      "In the fourth quarter of fiscal 2026 Dell's gross margin was 18.9%.", "2026-02-26")
Q1 = ("q1fy27", "Dell first quarter fiscal 2027",
      "In the first quarter of fiscal 2027 Dell's gross margin was 17.8%. Dell's AI server "
      "orders for the first quarter of fiscal 2027 came to $24.4 billion.", "2026-05-28")
# A text outside the history, for --corpus: the quarter before's AI orders.
ORDERS_Q4 = """source: https://news.example.com/orders-q4fy26
published: 2026-02-27
kind: news
---
Dell's AI server orders

Dell booked $34.1 billion of AI server orders in the fourth quarter of fiscal 2026.
"""


def rules(gm_qoq_bps: float) -> list[dict]:
    return [{"name": "gm-qoq", "metric": "gross_margin", "change_bps": gm_qoq_bps,
             "direction": "down"},
            {"name": "gm-yoy", "metric": "gross_margin", "change_bps": 100, "compare": "yoy"},
            {"name": "orders-move", "metric": "ai_orders", "change_pct": 15}]


@pytest.fixture
def history(bot, feeds, slack):
    """Three quarters stored by the live bot, whose own config has no rules."""
    url = feeds.route("/news.xml", Reply(200, rss(Q2, Q4, Q1), RSS))
    bot.config({"feeds": [{"name": "dell-news", "url": url}], "rules": [],
                "slack": {"channel": "#dell-alerts"}})
    assert bot("run", "--once").code == 0
    assert slack.messages == []
    return bot


def fingerprint(url: str) -> tuple:
    """Every row of every table; and, on SQLite, the database file's bytes."""
    rows = tuple((t, tuple(map(tuple, database.query(url, f"SELECT * FROM {t} ORDER BY 1"))))
                 for t in ("item", "figure", "alert", "feed_state"))
    if not url.startswith("sqlite:///"):
        return rows, None
    path = url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    con.close()
    with open(path, "rb") as f:
        return rows, hashlib.sha256(f.read()).hexdigest()


@pytest.mark.parametrize("bps,qoq_alerts", [(50, 1), (150, 0)])
def test_backtest_prints_what_candidate_rules_would_send(history, slack, bps, qoq_alerts
                                                         ) -> None:
    before = fingerprint(history.database_url)
    candidate = history.config({"feeds": [{"name": "x", "url": "http://127.0.0.1:9/x"}],
                                "rules": rules(bps), "slack": {"channel": "#c"}},
                               name="candidate.yaml")
    out = history("backtest", "--config", str(candidate))
    assert out.code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("backtest: the rules of ")
    assert "over 3 stored item(s)" in lines[0] and "nothing was sent" in lines[0]
    assert "FY2026-Q2" in lines
    assert any(line.startswith("  2025-08-28  gm-yoy") and
               "▼ DELL Gross margin 18.3% (FY2026-Q2), −310 bps y/y" in line for line in lines)
    gm_qoq = [line for line in lines if "  gm-qoq " in line]
    assert len(gm_qoq) == qoq_alerts
    if qoq_alerts:
        assert "FY2027-Q1" in lines and "−110 bps q/q" in gm_qoq[0]
    totals = {line.split()[0]: line.split()[1:] for line in lines
              if line.split() and line.split()[0] in ("gm-qoq", "gm-yoy", "orders-move",
                                                       "total")}
    assert totals == {"gm-qoq": [str(qoq_alerts), "0"], "gm-yoy": ["1", "0"],
                      "orders-move": ["0", "0"], "total": [str(1 + qoq_alerts), "0"]}
    assert fingerprint(history.database_url) == before  # the real database is unchanged
    assert slack.messages == []  # and nothing was sent


def test_backtest_since_corpus_and_json(history, tmp_path) -> None:
    candidate = history.config({"feeds": [{"name": "x", "url": "http://127.0.0.1:9/x"}],
                                "rules": rules(50), "slack": {"channel": "#c"}},
                               name="candidate.yaml")
    since = json.loads(history("backtest", "--config", str(candidate), "--since",
                               "2026-01-01", "--format", "json").stdout)
    assert list(since["periods"]) == ["FY2027-Q1"]  # the Q2 FY26 alert came before
    (alert,) = since["periods"]["FY2027-Q1"]
    assert (alert["rule"], alert["value"], alert["previous"], alert["change"]) == (
        "gm-qoq", 17.8, 18.9, "−110 bps q/q")
    assert alert["published"].startswith("2026-05-28") and alert["item"] == Q1[1]
    assert since["totals"]["gm-yoy"] == {"alerts": 0, "held": 0}

    corpus = tmp_path / "texts"
    corpus.mkdir()
    (corpus / "orders-q4fy26.txt").write_text(ORDERS_Q4)
    (corpus / "undated.txt").write_text("source: x\npublished: unknown\n---\nA text.\n")
    with_texts = json.loads(history("backtest", "--config", str(candidate), "--corpus",
                                    str(corpus), "--format", "json").stdout)
    assert with_texts["texts"] == 1
    assert with_texts["skipped"] == ["undated.txt: no publication date"]
    (orders,) = [a for p in with_texts["periods"].values() for a in p
                 if a["rule"] == "orders-move"]
    assert (orders["period"], orders["value"], orders["previous"]) == ("FY2027-Q1", 24.4e9,
                                                                       34.1e9)
    without = json.loads(history("backtest", "--config", str(candidate), "--format",
                                 "json").stdout)
    assert without["totals"]["orders-move"]["alerts"] == 0
