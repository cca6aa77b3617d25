"""`marketbot run --once` says whether everything that should have happened did: exit 0
when every feed polled and every alert due was delivered, 1 when a feed failed or an
alert could not be delivered (the last line says which), 2 for a config error. An EDGAR
feed without a User-Agent is reported, not polled and not failing. Feed-health notices
of one cycle go out as one message, to slack.ops_channel when set.

Subprocesses against loopback feed and Slack servers; no mocks of our code."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.feeds.make import rss
from tests.loopback import Reply

pytestmark = pytest.mark.e2e

RSS = {"Content-Type": "application/rss+xml"}
BACKLOG = ("backlog-q1", "Dell backlog",
           "Dell's AI server backlog was $51.3 billion in the first quarter of fiscal 2027.",
           "2026-05-29")
EDGAR = {"name": "sec-dell", "kind": "edgar", "every": "10m"}


def cfg(feeds: list[dict], **slack) -> dict:
    return {"feeds": feeds, "rules": [{"name": "backlog-50b", "metric": "ai_backlog",
                                       "above": 50e9}],
            "slack": {"channel": "#dell-alerts", "pace": 0, "retry_base": 0.05,
                      "max_attempts": 1, **slack}}


def rss_feed(name: str, url: str) -> dict:
    return {"name": name, "url": url, "every": "1m"}


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("case,feed_reply,slack_reply,code,last", [
    ("all polled, all delivered", Reply(200, rss(BACKLOG), RSS), None, 0,
     "marketbot: polled 1 feed(s) (0 failed), 1 new item(s)"),
    ("a feed fails", Reply(503, b"busy"), None, 1,
     "marketbot: run --once failed: 1 of 1 feed(s) failed: news (HTTP 503"),
    ("Slack refuses for good", Reply(200, rss(BACKLOG), RSS), "channel_not_found", 1,
     "marketbot: run --once failed: 1 alert(s) not delivered: #1 (channel_not_found)"),
    ("Slack is down", Reply(200, rss(BACKLOG), RSS), 503, 1,
     "marketbot: run --once failed: 1 alert(s) not delivered: #1 (Slack HTTP 503)"),
])
def test_exit_codes(bot, feeds, slack, case, feed_reply, slack_reply, code, last) -> None:
    url = feeds.route("/news.xml", feed_reply)
    if slack_reply == 503:
        slack.fail_next(Reply(503, b"down"))
    elif slack_reply:
        slack.fail_next(slack.error(slack_reply))
    result = bot("run", "--once", "--config", str(bot.config(cfg([rss_feed("news", url)]))))
    assert result.code == code, (case, result.stderr)
    assert last_line(result.stderr).startswith(last), (case, result.stderr)


def test_printing_alerts_without_slack_credentials_is_success(bot, feeds) -> None:
    url = feeds.route("/news.xml", Reply(200, rss(BACKLOG), RSS))
    result = bot("run", "--once", "--config", str(bot.config(cfg([rss_feed("news", url)]))),
                 env={"SLACK_BOT_TOKEN": ""})
    assert result.code == 0, result.stderr
    assert "DELL AI server backlog $51.3B (FY2027-Q1)" in result.stdout
    assert "1 printed" in last_line(result.stderr)


def test_a_config_error_exits_2(bot) -> None:
    path = bot.config({"feeds": [{"name": "x", "url": "http://127.0.0.1:9/x.xml"}],
                       "slack": {"channel": "#c", "ops_channel": ""}})
    result = bot("run", "--once", "--config", str(path))
    assert result.code == 2
    assert f"{path}:" in result.stderr and "slack.ops_channel" in result.stderr


def test_edgar_without_user_agent_is_reported_not_polled_not_failing(bot, feeds, slack) -> None:
    url = feeds.route("/news.xml", Reply(200, rss(BACKLOG), RSS))
    path = str(bot.config(cfg([EDGAR, rss_feed("news", url)], feed_failure_notice_after=1)))
    for _ in range(3):
        result = bot("run", "--once", "--config", path)
        assert result.code == 0, result.stderr
        assert result.stderr.count("SEC requires a User-Agent") == 2  # at start, and in the
        assert "feed sec-dell not polled: SEC requires" in result.stderr  # run's report
        assert "(0 failed, 1 not polled)" in last_line(result.stderr)
    assert [m for m in slack.messages if "sec-dell" in m["text"]] == []  # no feed-down notice
    status = bot("feeds", "--config", path)
    line = next(x for x in status.stdout.splitlines() if x.startswith("sec-dell"))
    assert "not polled" in line and " 0 " in line  # no failure counted
    check = bot("config", "check", path)
    assert check.code == 0 and ": ok (" in check.stdout
    assert "warning: feed sec-dell will not be polled: SEC requires a User-Agent" in check.stderr
    with_ua = bot("config", "check", path, env={"SEC_USER_AGENT": "Jane Trader jane@example.com"})
    assert with_ua.code == 0 and "warning" not in with_ua.stderr


def test_feed_notices_of_one_cycle_are_one_message_in_the_ops_channel(bot, feeds, slack) -> None:
    feeds.route("/a.xml", Reply(503, b"busy"))
    feeds.route("/b.xml", Reply(404, b"gone"))
    good = feeds.route("/news.xml", Reply(200, rss(BACKLOG), RSS))
    path = str(bot.config(cfg([rss_feed("a", feeds.url + "/a.xml"),
                               rss_feed("b", feeds.url + "/b.xml"), rss_feed("news", good)],
                              feed_failure_notice_after=2, ops_channel="#marketbot-ops")))
    assert bot("run", "--once", "--config", path).code == 1
    assert [m["channel"] for m in slack.messages] == ["#dell-alerts"]  # the alert only
    assert bot("run", "--once", "--config", path).code == 1
    (notice,) = [m for m in slack.messages if m["channel"] == "#marketbot-ops"]
    text = json.dumps(notice["blocks"], ensure_ascii=False)
    assert "Feed health: 2 feeds down" in notice["text"]
    assert "Feed a has failed 2 times in a row" in text and "HTTP 503" in text
    assert "Feed b has failed 2 times in a row" in text and "HTTP 404" in text
    assert bot("run", "--once", "--config", path).code == 1
    assert len(slack.messages) == 2  # said once
    feeds.route("/a.xml", Reply(200, rss(BACKLOG), RSS))
    feeds.route("/b.xml", Reply(200, rss(BACKLOG), RSS))
    assert bot("run", "--once", "--config", path).code == 0
    recovered = slack.messages[-1]
    assert recovered["channel"] == "#marketbot-ops" and len(slack.messages) == 3
    assert "Feed health: 2 feeds recovered" in recovered["text"]
