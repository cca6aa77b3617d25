"""Alerts a trader acts on, end to end (`marketbot run` subprocesses over loopback):
derived metrics across polls, one alert per figure, corrections in the thread, delivery
that neither loses nor repeats, and a SIGKILL in the middle of it all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.fixtures.feeds.make import rss
from tests.loopback import Reply, SlackServer

pytestmark = pytest.mark.e2e

RSS = {"Content-Type": "application/rss+xml"}

ORDERS = ("orders-q1", "Dell books record AI orders",
          "Dell booked $24.4 billion in AI orders in the first quarter of fiscal 2027.",
          "2026-05-29")
REVENUE = ("revenue-q1", "Dell AI server revenue",
           "Dell's AI server revenue was $16.1 billion in the first quarter of fiscal 2027.",
           "2026-05-30")


def cfg(feeds: list[tuple[str, str, str]], rules: list[dict], **slack) -> dict:
    return {
        "feeds": [{"name": n, "url": u, "source": src, "every": "1m"} for n, u, src in feeds],
        "rules": rules,
        "slack": {"channel": "#dell-alerts", "pace": 0, "retry_base": 0.2, **slack},
    }


def blocks_of(msg: dict) -> str:
    return json.dumps(msg.get("blocks", []), ensure_ascii=False) + msg.get("text", "")


def test_a_quarter_arriving_in_two_polls_alerts_once(bot, feeds, slack) -> None:
    feeds.route("/news.xml", Reply(200, rss(ORDERS), RSS), Reply(200, rss(ORDERS, REVENUE), RSS))
    rules = [{"name": "b2b", "metric": "ai_book_to_bill", "above": 1.2},
             {"name": "b2b-floor", "metric": "ai_book_to_bill", "below": 1.0}]
    path = str(bot.config(cfg([("news", feeds.url + "/news.xml", "news")], rules)))
    assert bot("run", "--once", "--config", path).code == 0
    assert slack.messages == []  # orders alone: no ratio yet
    assert bot("run", "--once", "--config", path).code == 0
    (msg,) = slack.messages
    text = blocks_of(msg)
    assert "DELL AI book-to-bill 1.52x (FY2027-Q1)" in text
    assert "Threshold: above 1.20x" in text
    assert "Inputs: AI server orders $24.4B (FY2027-Q1, news), AI server revenue $16.1B " \
           "(FY2027-Q1, news)" in text
    assert bot("run", "--once", "--config", path).code == 0
    assert len(slack.messages) == 1
    history = json.loads(bot("history", "--metric", "ai_book_to_bill", "--format",
                             "json").stdout)
    assert [round(h["value"], 2) for h in history] == [1.52] and history[0]["source"] == "derived"


def test_the_same_figure_from_ten_articles_alerts_once(bot, feeds, slack) -> None:
    phrasings = [
        "Dell's AI server backlog was $51.3 billion in the first quarter of fiscal 2027.",
        "In the first quarter of fiscal 2027, Dell's AI server backlog was $51.3 billion.",
    ]
    items = [(f"a{i}", f"Dell backlog story {i}", phrasings[i % 2], f"2026-06-0{1 + i % 9}")
             for i in range(10)]
    feeds.route("/many.xml", Reply(200, rss(*items), RSS))
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    result = bot("run", "--once", "--config",
                 str(bot.config(cfg([("many", feeds.url + "/many.xml", "news")], rules))))
    assert result.code == 0, result.stderr
    assert len(slack.messages) == 1
    assert bot.query("select count(*) from figure where metric='ai_backlog'") \
        == [(10,)]  # every observation is kept


def test_a_press_release_after_the_news_corrects_it_in_the_thread(bot, feeds, slack) -> None:
    news = ("isg-news", "Dell ISG margin slips",
            "Dell's ISG operating margin was 8.5% in the second quarter of fiscal 2026.",
            "2025-08-28")
    release = ("isg-pr", "Dell Technologies Reports Fiscal 2026 Second Quarter Results",
               "Infrastructure Solutions Group: ISG operating margin of 8.8% in the second "
               "quarter of fiscal 2026.", "2025-08-28")
    feeds.route("/news.xml", Reply(200, rss(news), RSS))
    feeds.route("/ir.xml", Reply(200, rss(), RSS), Reply(200, rss(release), RSS))
    rules = [{"name": "isg-floor", "metric": "isg_operating_margin", "below": 10}]
    path = str(bot.config(cfg([("news", feeds.url + "/news.xml", "news"),
                               ("ir", feeds.url + "/ir.xml", "company-ir")], rules)))
    assert bot("run", "--once", "--config", path).code == 0
    (alert,) = slack.messages
    assert "ISG operating margin 8.5% (FY2026-Q2)" in blocks_of(alert)
    assert bot("run", "--once", "--config", path).code == 0
    assert len(slack.messages) == 2
    correction = slack.messages[1]
    assert correction["thread_ts"] == alert["ts"]
    text = blocks_of(correction)
    assert "Correction: DELL ISG operating margin for FY2026-Q2 is 8.8% per company-ir " \
           "(this alert said 8.5% from news)" in text
    assert "The rule still fires: below 10%" in text
    # Every observation is kept; the press release's value is the current one.
    values = {h["source"]: h["value"] for h in json.loads(bot(
        "history", "--metric", "isg_operating_margin", "--format", "json").stdout)}
    assert values == {"news": 8.5, "company-ir": 8.8}
    listing = bot("alerts").stdout
    assert "correction: DELL ISG operating margin FY2026-Q2 8.5% → 8.8%" in listing
    assert bot("run", "--once", "--config", path).code == 0
    assert len(slack.messages) == 2


def test_429_then_500_three_times_then_ok_delivers_each_alert_once(bot, feeds, slack) -> None:
    items = [("m1", "Dell margin", "Dell's gross margin was 17.8% in the first quarter of "
              "fiscal 2027.", "2026-06-01"),
             ("b1", "Dell backlog", "Dell's AI server backlog was $51.3 billion in the first "
              "quarter of fiscal 2027.", "2026-06-02")]
    feeds.route("/n.xml", Reply(200, rss(*items), RSS))
    slack.fail_next(SlackServer.rate_limited(1), Reply(500, "x"), Reply(500, "x"),
                    Reply(500, "x"))
    rules = [{"metric": "gross_margin", "below": 20}, {"metric": "ai_backlog", "above": 50e9}]
    result = bot("run", "--once", "--config",
                 str(bot.config(cfg([("n", feeds.url + "/n.xml", "news")], rules))))
    assert result.code == 0, result.stderr
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 2 and len(set(texts)) == 2
    assert len(slack.hits("/api/chat.postMessage")) == 6
    listing = bot("alerts", "--status", "sent").stdout
    assert listing.count(" sent ") == 2


def test_sigkill_mid_cycle_loses_nothing_and_repeats_nothing(bot, feeds, slack) -> None:
    items = [(f"k{i}", f"Story {i}", text, f"2026-06-0{i + 1}") for i, text in enumerate([
        "Dell's gross margin was 17.8% in the first quarter of fiscal 2027.",
        "Dell's AI server backlog was $51.3 billion in the first quarter of fiscal 2027.",
        "Dell booked $24.4 billion in AI orders in the first quarter of fiscal 2027.",
    ])]
    feeds.route("/k.xml", Reply(200, rss(*items), RSS))
    rules = [{"metric": "gross_margin", "below": 20}, {"metric": "ai_backlog", "above": 50e9},
             {"metric": "ai_orders", "above": 20e9}]
    path = str(bot.config(cfg([("k", feeds.url + "/k.xml", "news")], rules, lease="1s")))
    slack.delays.append(30.0)  # the first post is received, but its answer never comes in time
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", path], cwd=bot.tmp,
        env={**_env(bot)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: len(slack.messages) >= 1, what="the first post to reach Slack")
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(1.1)  # the dead sender's 1 s lease runs out
    result = bot("run", "--once", "--config", path)
    assert result.code == 0, result.stderr
    texts = [m["text"] for m in slack.messages]
    # Three alerts (one per story), each delivered; the one in flight at the kill may
    # repeat once (documented), nothing else repeats and nothing is lost.
    assert len(set(texts)) == 3
    assert len(texts) <= 4
    assert bot.query("select count(*) from item") == [(3,)]
    assert bot.query("select status, count(*) from alert group by status") == [("sent", 3)]
    assert bot("run", "--once", "--config", path).code == 0
    assert len(slack.messages) == len(texts)


def test_scheduler_runs_until_sigterm(bot, feeds, slack) -> None:
    feeds.route("/s.xml", Reply(200, rss(("s1", "Dell margin", "Dell's gross margin was 17.8% "
                                          "in the first quarter of fiscal 2027.", "2026-06-01")),
                                RSS))
    path = str(bot.config(cfg([("s", feeds.url + "/s.xml", "news")],
                              [{"metric": "gross_margin", "below": 20}])))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", path], cwd=bot.tmp,
                            env=_env(bot), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait(lambda: len(slack.messages) == 1, what="the scheduled poll's alert")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "scheduler: 1 feed(s) scheduled" in err


def _env(bot) -> dict:
    import os
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "SEC_", "EDGAR_", "MARKETBOT_"))}
    env.update(bot.environ())
    return env


def _wait(condition, *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
