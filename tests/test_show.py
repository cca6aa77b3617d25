"""Every alert explains itself: `marketbot show` and `marketbot alerts --format json|csv`
over a fixture history made by `marketbot run --once` (subprocesses, loopback feed and
Slack). The texts are ours: two Dell releases with real figures."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot import store
from bot.store.tables import AlertRow
from tests.fixtures.feeds.make import rss
from tests.loopback import Reply

pytestmark = pytest.mark.e2e

RSS = {"Content-Type": "application/rss+xml"}

Q4 = ("q4fy26", "Dell reports fourth quarter fiscal 2026 results",
      "In the fourth quarter of fiscal 2026 gross margin was 19.0%. AI server revenue was "
      "$9.0 billion in the fourth quarter of fiscal 2026, and AI server backlog was $43.0 "
      "billion at the end of the fourth quarter of fiscal 2026, up from $18.4 billion at the "
      "end of the third quarter of fiscal 2026.", "2026-02-26")
Q1 = ("q1fy27", "Dell reports first quarter fiscal 2027 results",
      "In the first quarter of fiscal 2027 gross margin was 17.8%. AI server revenue was "
      "$16.1 billion in the first quarter of fiscal 2027.", "2026-05-28")

RULES = [
    {"name": "gm-down", "metric": "gross_margin", "change_bps": 50, "direction": "down",
     "severity": "critical"},
    {"name": "conversion-move", "metric": "ai_backlog_conversion", "change_pct": 10},
]


@pytest.fixture
def history(bot, feeds, slack):
    """Two polls: Q4 (history), then Q1 (two alerts: gross margin down, conversion down)."""
    url = feeds.route("/ir.xml", Reply(200, rss(Q4), RSS))
    path = bot.config({"feeds": [{"name": "dell-ir", "url": url, "source": "company-ir"}],
                       "rules": RULES, "slack": {"channel": "#dell-alerts", "pace": 0}})
    assert bot("run", "--once").code == 0
    feeds.route("/ir.xml", Reply(200, rss(Q4, Q1), RSS))
    result = bot("run", "--once", "--config", str(path))
    assert result.code == 0, result.stderr
    assert len(slack.messages) == 1
    records = json.loads(bot("alerts", "--format", "json").stdout)
    return {r["rule"]: r for r in records}


def test_alerts_json_and_csv_give_every_field(bot, history) -> None:
    gm = history["gm-down"]
    assert {k: gm[k] for k in ("kind", "status", "rule", "company", "metric", "basis",
                               "period", "value", "approx", "low", "high")} == {
        "kind": "rule", "status": "sent", "rule": "gm-down", "company": "DELL",
        "metric": "gross_margin", "basis": "actual", "period": "FY2027-Q1", "value": 17.8,
        "approx": False, "low": None, "high": None}
    assert (gm["previous"]["period"], gm["previous"]["value"]) == ("FY2026-Q4", 19.0)
    assert gm["previous"]["evidence"] and "19.0%" in gm["previous"]["evidence"]
    assert gm["previous"]["link"] == "https://news.example.com/q4fy26"
    assert gm["change"] == {"text": "−120 bps q/q", "amount": -120.0, "unit": "bps",
                            "compare": "qoq"}
    assert gm["link"] == "https://news.example.com/q1fy27"
    assert "gross margin was 17.8%" in gm["evidence"]
    assert gm["inputs"] == [] and gm["crossed"] == ["fell ≥ 50 bps q/q"]

    conv = history["conversion-move"]
    assert (conv["metric"], conv["period"], conv["unit"]) == ("ai_backlog_conversion",
                                                               "FY2027-Q1", "%")
    assert conv["value"] == pytest.approx(16.1 / 43.0 * 100)
    assert conv["formula"] == "AI revenue / prior-quarter AI backlog"
    inputs = {(i["metric"], i["period"]): i for i in conv["inputs"]}
    assert set(inputs) == {("ai_revenue", "FY2027-Q1"), ("ai_backlog", "FY2026-Q4")}
    backlog = inputs["ai_backlog", "FY2026-Q4"]
    assert (backlog["value"], backlog["source_kind"], backlog["link"]) == (
        43e9, "company-ir", "https://news.example.com/q4fy26")
    assert "$43.0 billion" in backlog["evidence"]
    # The value it was compared with is derived too: its inputs come along.
    assert conv["previous"]["period"] == "FY2026-Q4"
    assert {i["metric"] for i in conv["previous"]["inputs"]} == {"ai_revenue", "ai_backlog"}

    rows = list(csv.DictReader(io.StringIO(bot("alerts", "--format", "csv").stdout)))
    by_rule = {r["rule"]: r for r in rows}
    assert set(by_rule) == {"gm-down", "conversion-move"}
    gm = by_rule["gm-down"]
    assert (gm["previous_period"], gm["previous_value"], gm["change"]) == (
        "FY2026-Q4", "19.0", "−120 bps q/q")
    assert "ai_backlog FY2026-Q4 43000000000.0 (company-ir, https://news.example.com/q4fy26)" \
        in by_rule["conversion-move"]["inputs"]


def test_show_explains_alerts_and_items(bot, history) -> None:
    gm = history["gm-down"]
    out = bot("show", str(gm["id"]))
    assert out.code == 0, out.stderr
    text = out.stdout
    for expected in [
        f"Alert #{gm['id']} (rule, sent",
        "▼ DELL Gross margin 17.8% (FY2027-Q1), −120 bps q/q",
        "Figure          Gross margin 17.8%, actual, FY2027-Q1 (figure #",
        "  evidence      “In the first quarter of fiscal 2027 gross margin was 17.8%.”",
        "  source        Dell reports first quarter fiscal 2027 results "
        "https://news.example.com/q1fy27 (feed dell-ir, published 2026-05-28)",
        "Compared with   Gross margin 19%, actual, FY2026-Q4 (figure #",
        "https://news.example.com/q4fy26 (feed dell-ir, published 2026-02-26)",
        "Change          −120 bps q/q",
        "Rule            gm-down: fell ≥ 50 bps q/q",
        "  definition    metric gross_margin, change_bps 50.0, direction down, severity "
        "critical (in feeds.yaml)",
        "Delivery        sent, 1 attempt(s), Slack ts",
        "Slack message:",
        "  | 🔴 *▼ DELL Gross margin 17.8% (FY2027-Q1), −120 bps q/q*",
        "  | Previous: 19% (FY2026-Q4)",
    ]:
        assert expected in text, (expected, text)

    text = bot("show", f"alert:{history['conversion-move']['id']}").stdout
    assert "Derived         = AI revenue / prior-quarter AI backlog" in text
    assert "    input       AI server backlog $43B, actual, FY2026-Q4 (figure #" in text
    assert "    evidence    “AI server backlog was $43.0 billion”" in text or \
        "$43.0 billion" in text.split("AI server backlog $43B", 1)[1].splitlines()[1]
    assert "    input       AI server revenue $16.1B, actual, FY2027-Q1" in text
    as_json = json.loads(bot("show", str(history["conversion-move"]["id"]), "--format",
                             "json").stdout)
    assert as_json["formula"] and len(as_json["inputs"]) == 2 and as_json["message"]

    item = bot("show", f"item:{gm['item_id']}")
    assert item.code == 0, item.stderr
    assert "Item #2 (feed dell-ir, company-ir, DELL)" in item.stdout
    assert "gross_margin actual FY2027-Q1 17.8%" in item.stdout
    assert f"#{gm['id']} sent ▼ DELL Gross margin 17.8% (FY2027-Q1)" in item.stdout
    missing = bot("show", "999")
    assert missing.code == 1 and "no alert 999 in the database" in missing.stderr
    bad = bot("show", "gross-margin")
    assert bad.code == 2 and "give 12, alert:12 or item:42" in bad.stderr


def test_held_alerts_are_listed_with_their_reason(bot) -> None:
    engine = store.make_engine(bot.database_url)
    store.init_db(engine)
    try:
        with store.transaction(engine) as s:
            store.alerts.insert(s, AlertRow(
                dedupe_key="rule:ai-orders:DELL:ai_orders:actual:gaap:FY2027-Q1", kind="rule",
                group_key="item:2:#dell-alerts", rule_id="ai-orders", company="DELL",
                metric="ai_orders", basis="actual", period="FY2027-Q1", value=64e9,
                channel="#dell-alerts", status="held",
                payload=json.dumps({"kind": "rule", "held": {
                    "reason": "a quarter at or near the fiscal year's value"}})))
    finally:
        engine.dispose()
    held = json.loads(bot("alerts", "--status", "held", "--format", "json").stdout)
    assert [(h["rule"], h["status"], h["held_reason"]) for h in held] == [
        ("ai-orders", "held", "a quarter at or near the fiscal year's value")]
    table = bot("alerts", "--status", "held").stdout
    assert "held" in table and "ai_orders" not in bot("alerts", "--status", "sent").stdout
