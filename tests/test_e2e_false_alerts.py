"""Issue 10's three false alerts, end to end: `marketbot run --once` (subprocess) with the
shipped rules of feeds.yaml over a loopback feed and Slack. Each case alerts correctly
or not at all. The texts are ours, with the figures of Dell's releases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.fixtures.feeds.make import rss
from tests.loopback import Reply

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
RSS = {"Content-Type": "application/rss+xml"}

# The segment is named after the sentence that states the company's margin.
SEGMENT_AFTER = ("q1fy27-margins", "Dell reports first quarter fiscal 2027 results",
                 "Dell Technologies posted revenue of $43.8 billion for the first quarter of "
                 "fiscal 2027. Operating margin was 7.9%. ISG operating margin was 11.2%.",
                 "2026-05-28")
# "the prior quarter" is the quarter before, not the same quarter a year earlier.
PRIOR_QUARTER = ("q1fy27-gross", "Dell's gross margin slips",
                 "In the first quarter of fiscal 2027, Dell's gross margin was 17.8%, down "
                 "from 18.9% in the prior quarter.", "2026-05-29")
# A fourth-quarter release: the quarter's AI orders, then the full year's.
Q3_ORDERS = ("q3fy26-orders", "Dell AI orders",
             "Dell booked $12.3 billion of AI server orders in the third quarter of fiscal "
             "2026.", "2025-11-25")
Q4_RELEASE = ("q4fy26-release", "Dell reports fourth quarter and full year fiscal 2026 results",
              "Fourth quarter highlights: AI server orders of $34.1 billion in the quarter. "
              "Full year highlights: for fiscal 2026 as a whole, AI server orders reached "
              "$64.1 billion.", "2026-02-26")


def shipped_config(url: str) -> dict:
    """feeds.yaml's rules and settings with one loopback feed; alert_max_age off, since
    the texts are dated months before the test runs."""
    data = yaml.safe_load((ROOT / "feeds.yaml").read_text())
    data.pop("alert_max_age", None)
    data["feeds"] = [{"name": "dell-news", "url": url, "source": "news", "every": "1m"}]
    data["slack"] = {**data["slack"], "pace": 0}
    return data


def run(bot, feeds, *items) -> tuple[list[dict], list[dict]]:
    url = feeds.route("/news.xml", Reply(200, rss(*items), RSS))
    result = bot("run", "--once", "--config", str(bot.config(shipped_config(url))))
    assert result.code == 0, result.stderr
    figures = json.loads(bot("history", "--format", "json").stdout)
    alerts = json.loads(bot("alerts", "--format", "json").stdout)
    return figures, [a for a in alerts if a["kind"] == "rule"]


def test_a_company_margin_before_a_segment_sentence_is_not_the_segments(bot, feeds,
                                                                       slack) -> None:
    figures, alerts = run(bot, feeds, SEGMENT_AFTER)
    isg = {f["value"] for f in figures if f["metric"] == "isg_operating_margin"}
    assert isg == {11.2}  # read, and not 7.9
    assert [a for a in alerts if a["rule"] == "isg-margin-floor"] == []
    assert not any("ISG operating margin 7.9%" in json.dumps(m) for m in slack.messages)


def test_the_prior_quarter_is_not_the_year_ago_quarter(bot, feeds, slack) -> None:
    figures, alerts = run(bot, feeds, PRIOR_QUARTER)
    earlier = {(f["period"], f["value"]) for f in figures
               if f["metric"] == "gross_margin" and f["comparative"]}
    assert earlier == {("FY2026-Q4", 18.9)}
    assert [a for a in alerts if a["rule"] == "gross-margin-yoy"] == []
    # Correctly: a q/q compression of 110 bps, which the shipped rule alerts on.
    (alert,) = [a for a in alerts if a["rule"] == "gross-margin-compression"]
    assert (alert["period"], alert["value"]) == ("FY2027-Q1", 17.8)
    assert (alert["previous"]["period"], alert["previous"]["value"]) == ("FY2026-Q4", 18.9)
    assert alert["change"]["amount"] == -110.0 and alert["status"] == "sent"


def test_full_year_orders_are_not_the_fourth_quarters(bot, feeds, slack) -> None:
    figures, alerts = run(bot, feeds, Q3_ORDERS, Q4_RELEASE)
    orders = {(f["period"], f["value"]) for f in figures
              if f["metric"] == "ai_orders" and not f["comparative"]}
    assert ("FY2026-Q4", 64.1e9) not in orders
    assert ("FY2026", 64.1e9) in orders and ("FY2026-Q4", 34.1e9) in orders
    moves = [a for a in alerts if a["rule"] == "ai-orders-move"]
    # Correctly: +177% q/q on the quarter's $34.1 billion, never +421% on the year's.
    assert [(a["period"], a["value"], a["previous"]["value"]) for a in moves] == [
        ("FY2026-Q4", 34.1e9, 12.3e9)]
    assert not any("421" in json.dumps(m) for m in slack.messages)
