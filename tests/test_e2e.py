"""End to end: `marketbot run --once` as a subprocess against loopback feed and
Slack servers, then the CLI to read what it stored. No mocks of our code."""

from __future__ import annotations

import json

import pytest

from tests import database
from tests.conftest import fixture_bytes
from tests.loopback import Reply, SlackServer

pytestmark = pytest.mark.e2e

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def serve(feeds, name: str, etag: str | None = None) -> str:
    return feeds.route(f"/{name}", Reply(200, fixture_bytes("feeds", name), RSS, etag=etag))


def config(*feed_list, rules=None, **slack) -> dict:
    return {
        "feeds": [{"name": n, "url": u, "every": "5m"} for n, u in feed_list],
        "rules": rules if rules is not None else [
            {"name": "gm-qoq", "metric": "gross_margin", "change_bps": 50},
            {"name": "backlog-50b", "metric": "ai_backlog", "above": 50e9},
        ],
        "slack": {"channel": "#dell-alerts", "pace": 0, "retry_base": 0.2, **slack},
    }


def test_seed_article_alerts_once_with_its_fields(bot, feeds, slack) -> None:
    q4 = serve(feeds, "gross-margin-q4.xml", etag='"q4-v1"')
    seed = serve(feeds, "seed-q1fy27.xml", etag='"seed-v1"')

    first = bot("run", "--once", "--config", str(bot.config(config(("q4", q4)))))
    assert first.code == 0, first.stderr
    assert slack.messages == []  # Q4 alone has no previous quarter to move from

    cfg = str(bot.config(config(("q4", q4), ("seed", seed))))
    second = bot("run", "--once", "--config", cfg)
    assert second.code == 0, second.stderr
    (msg,) = slack.messages
    assert msg["channel"] == "#dell-alerts"
    blocks = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "DELL: 2 metrics moved" in blocks
    assert "▼ DELL Gross margin 17.8% (FY2027-Q1), −110 bps q/q" in blocks
    assert "Previous: 18.9% (FY2026-Q4)" in blocks
    assert "Threshold: fell ≥ 50 bps q/q" in blocks
    assert "DELL AI server backlog $51.3B (FY2027-Q1)" in blocks
    assert "Threshold: above $50B" in blocks
    assert "17.8% in Q1" in blocks  # the evidence sentence
    assert "<https://example.com/analysis/dell-ai-server-backlog|Dell" in blocks  # title + link
    assert "Gross margin" in msg["text"]

    third = bot("run", "--once", "--config", cfg)
    assert third.code == 0, third.stderr
    assert len(slack.messages) == 1  # nothing new, nothing repeated
    assert feeds.hits("/seed-q1fy27.xml")[-1].headers.get("if-none-match") == '"seed-v1"'

    alerts = bot("alerts", "--status", "sent")
    assert alerts.code == 0 and alerts.stdout.count("sent") == 2


def test_feed_text_cannot_ping_anyone(bot, feeds, slack) -> None:
    url = serve(feeds, "mentions.xml")
    rules = [{"metric": "gross_margin", "below": 30}]
    result = bot("run", "--once", "--config", str(bot.config(config(("hostile", url),
                                                                    rules=rules))))
    assert result.code == 0, result.stderr
    (msg,) = slack.messages
    wire = json.dumps(msg, ensure_ascii=False)
    for needle in ("<!channel>", "<@U123>", "<!here", "<https://evil.example", "@here",
                   "@channel"):
        assert needle not in wire, needle
    assert "&lt;@U123&gt;" in wire  # shown, inert


def test_rate_limited_then_delivered(bot, feeds, slack) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    slack.fail_next(SlackServer.rate_limited(1))
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    result = bot("run", "--once", "--config", str(bot.config(config(("seed", url),
                                                                    rules=rules))))
    assert result.code == 0, result.stderr
    assert len(slack.messages) == 1
    posts = slack.hits("/api/chat.postMessage")
    assert len(posts) == 2 and posts[1].at - posts[0].at >= 0.9  # waited Retry-After
    assert "rate limited (HTTP 429), retry in 1.0s" in result.stderr


def test_invalid_auth_keeps_the_alert_failed_and_visible(bot, feeds, slack) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    cfg = str(bot.config(config(("seed", url), rules=rules)))
    result = bot("run", "--once", "--config", cfg, env={"SLACK_BOT_TOKEN": "xoxb-revoked"})
    assert result.code == 1, result.stderr  # an alert could not be delivered
    assert "failed permanently: invalid_auth" in result.stderr
    assert result.stderr.splitlines()[-1] == \
        "marketbot: run --once failed: 1 alert(s) not delivered: #1 (invalid_auth)"
    assert "xoxb-revoked" not in result.stderr + result.stdout
    listing = bot("alerts", "--status", "failed")
    assert "invalid_auth" in listing.stdout and "AI server backlog" in listing.stdout
    retry = bot("alerts", "retry", "--failed")
    assert "re-queued 1 alert(s)" in retry.stdout
    again = bot("run", "--once", "--config", cfg)
    assert again.code == 0 and len(slack.messages) == 1


def test_broken_feeds_are_reported_and_never_stop_the_rest(bot, feeds, slack) -> None:
    good = serve(feeds, "seed-q1fy27.xml")
    broken = feeds.route("/malformed.xml", Reply(200, fixture_bytes("feeds", "malformed.xml"),
                                                 RSS))
    missing = feeds.url + "/missing.xml"
    down = "http://127.0.0.1:9/feed.xml"  # discard port: connection refused
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    cfg = bot.config(config(("broken", broken), ("missing", missing), ("down", down),
                            ("good", good), rules=rules))
    result = bot("run", "--once", "--config", str(cfg))
    assert result.code == 1, result.stderr  # the good feed ran; the others failed: said
    assert "run --once failed: 3 of 4 feed(s) failed: " in result.stderr.splitlines()[-1]
    assert "feed broken failed: malformed feed" in result.stderr
    assert "feed missing failed: HTTP 404 Not Found" in result.stderr
    assert "feed down failed: connection failed" in result.stderr
    assert len(slack.messages) == 1  # the good feed's alert went out
    status = bot("feeds", "--config", str(cfg))
    line = next(x for x in status.stdout.splitlines() if x.startswith("missing"))
    assert "HTTP 404 Not Found" in line and " 1 " in line


def test_repeated_failures_post_one_notice_and_one_recovery(bot, feeds, slack) -> None:
    feeds.route("/flaky.xml", Reply(503, b"busy"))
    cfg = config(("flaky", feeds.url + "/flaky.xml"), rules=[], feed_failure_notice_after=2)
    path = str(bot.config(cfg))
    for _ in range(3):
        assert bot("run", "--once", "--config", path).code == 1
    notices = [m for m in slack.messages if "failed 2 times in a row" in m["text"]]
    assert len(slack.messages) == 1 and len(notices) == 1
    serve(feeds, "seed-q1fy27.xml")
    feeds.routes["/flaky.xml"] = feeds.routes["/seed-q1fy27.xml"]
    assert bot("run", "--once", "--config", path).code == 0
    assert "has recovered" in slack.messages[-1]["text"] and len(slack.messages) == 2


def test_bad_config_exits_2_naming_file_line_and_key(bot) -> None:
    path = bot.tmp / "feeds.yaml"
    path.write_text("feeds:\n  - name: x\n    url: http://127.0.0.1:1/f.xml\n    every: -5m\n"
                    "slack: {channel: '#c'}\n")
    for args in (["run", "--once", "--config", str(path)], ["config", "check", str(path)]):
        result = bot(*args)
        assert result.code == 2
        assert f"{path}:4: feeds[0].every: must be a positive duration" in result.stderr
        assert "Traceback" not in result.stderr


def test_history_lists_figures_with_evidence(bot, feeds) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    bot("run", "--once", "--config", str(bot.config(config(("seed", url), rules=[]))))
    out = bot("history", "--metric", "ai_backlog", "--format", "json")
    assert out.code == 0, out.stderr
    (fig,) = [f for f in json.loads(out.stdout) if f["basis"] == "actual"]
    assert fig["value"] == 51.3e9 and fig["period"] == "FY2027-Q1" and fig["source"] == "news"
    assert fig["evidence"] in fig_text(bot, fig["id"])
    csv = bot("history", "--format", "csv", "--since", "2026-01-01")
    assert csv.stdout.splitlines()[0].startswith("id,company,metric,period")
    assert len(csv.stdout.splitlines()) >= 7


@pytest.mark.xfail(strict=True, reason="class 5: a guidance verb's scope ('lifted its … guidance "
                   "to ~$60B,') runs on past the list comma into 'and now holds a $51.3B AI server "
                   "backlog', stored a second time as guidance")
def test_the_seed_analysis_gives_one_ai_backlog(bot, feeds) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    bot("run", "--once", "--config", str(bot.config(config(("seed", url), rules=[]))))
    out = bot("history", "--metric", "ai_backlog", "--format", "json")
    assert [(f["basis"], f["period"]) for f in json.loads(out.stdout)] == [("actual", "FY2027-Q1")]


def fig_text(bot, figure_id: int) -> str:
    """The stored item text, cut at the figure's span: the evidence must be there."""
    [(start, end, text)] = bot.query(
        "select f.span_start, f.span_end, i.text from figure f join item i on i.id = f.item_id "
        "where f.id = :id", id=figure_id)
    return text[start:end]


def test_without_slack_credentials_alerts_print_and_stay_pending(bot, feeds) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    result = bot("run", "--once", "--config", str(bot.config(config(("seed", url), rules=rules))),
                 env={"SLACK_BOT_TOKEN": "", "SLACK_API_URL": ""})
    assert result.code == 0, result.stderr
    assert "[alert → #dell-alerts]" in result.stdout and "AI server backlog $51.3B" in result.stdout
    assert "pending" in bot("alerts", "--status", "pending").stdout


def test_demo_runs_offline_and_shows_alerts_and_figures(bot) -> None:
    result = bot("demo", env={"SLACK_BOT_TOKEN": "", "SLACK_API_URL": "http://127.0.0.1:9/"})
    assert result.code == 0, result.stderr
    assert "[alert → #dell-alerts]" in result.stdout
    assert "AI server revenue guidance ~$25B (FY2026), +25.0% vs prior guidance" in result.stdout
    assert "Stored figures" in result.stdout and "ai_backlog" in result.stdout
    # a temporary database, not the user's
    assert not bot.query("select 1 from information_schema.tables where table_name = 'item'") \
        if database.engine_name() == "postgresql" else not (bot.tmp / "marketbot.db").exists()


def test_webhook_delivery_and_no_secret_in_any_log_line(bot, feeds, slack) -> None:
    url = serve(feeds, "seed-q1fy27.xml")
    rules = [{"metric": "ai_backlog", "above": 50e9}]
    path = str(bot.config(config(("seed", url), rules=rules)))
    result = bot("--log-level", "debug", "run", "--once", "--config", path,
                 env={"SLACK_BOT_TOKEN": "", "SLACK_WEBHOOK_URL": slack.webhook_url})
    assert result.code == 0, result.stderr
    (msg,) = slack.messages
    assert "AI server backlog $51.3B" in msg["text"]
    assert "secretwebhookpart" not in result.stderr + result.stdout
    slack.fail_next(SlackServer.error("invalid_token", 403))
    serve(feeds, "mentions.xml")
    failing = bot("--log-level", "debug", "run", "--once", "--config",
                  str(bot.config(config(("hostile", feeds.url + "/mentions.xml"),
                                        rules=[{"metric": "gross_margin", "below": 30}]))),
                  env={"SLACK_BOT_TOKEN": "", "SLACK_WEBHOOK_URL": slack.webhook_url})
    assert "failed permanently: invalid_token" in failing.stderr
    assert "secretwebhookpart" not in failing.stderr + failing.stdout
