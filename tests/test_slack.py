"""Slack: rendering is safe and within limits; sinks speak the real wire format."""

from __future__ import annotations

import json

import pytest

from bot.errors import DeliveryError
from bot.slack import BLOCK_LIMIT, SECTION_LIMIT, WebApiSink, WebhookSink, escape, link, render
from tests.loopback import Reply, SlackServer


def payload(**kw) -> dict:
    p = {
        "kind": "rule", "company": "DELL", "company_name": "Dell Technologies",
        "metric": "gross_margin", "metric_label": "Gross margin", "unit": "%",
        "basis": "actual", "accounting": None, "period": "FY2027-Q1", "value": 17.8,
        "value_text": "17.8%", "approx": False, "confidence": 0.9, "direction": "down",
        "change_text": "−110 bps q/q",
        "previous": {"value": 18.9, "value_text": "18.9%", "period": "FY2026-Q4",
                     "source_kind": "news"},
        "crossed": ["fell ≥ 50 bps q/q"], "rule": "gross-margin-compression",
        "severity": "critical", "evidence": "gross margin slipped to 20% in 2024 and 17.8% in Q1",
        "source": {"title": "Dell's AI Server Backlog Reaches $51 Billion",
                   "link": "https://example.com/x",
                   "feed": "news", "kind": "news", "published": "2026-06-06T14:00:00+00:00"},
    }
    p.update(kw)
    return p


def all_text(text: str, blocks: list[dict]) -> str:
    return text + json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("raw,safe", [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<@U123>", "&lt;@U123&gt;"),
    ("<!here|here>", "&lt;!here|here&gt;"),
    ("a & b", "a &amp; b"),
    ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
    ("@here and @channel and @everyone", "@\u2060here and @\u2060channel and @\u2060everyone"),
    ("mail me@here.com", "mail me@\u2060here.com"),
])
def test_escape(raw: str, safe: str) -> None:
    assert escape(raw) == safe


def test_hostile_source_text_cannot_mention_anyone() -> None:
    hostile = "<!channel> <@U123> @here <!subteam^S1> <https://evil.example|click>"
    p = payload(evidence=hostile, source={**payload()["source"], "title": hostile})
    text, blocks = render([p])
    out = all_text(text, blocks)
    for needle in ("<!channel>", "<@U123>", "<!subteam", "<https://evil", "@here"):
        assert needle not in out


def test_mentions_only_from_config() -> None:
    text, blocks = render([payload()], mention="here")
    assert text.startswith("<!here> ")
    assert blocks[0]["text"]["text"] == "<!here>"


def test_message_has_headline_value_change_threshold_source_evidence_period() -> None:
    text, blocks = render([payload()])
    out = all_text(text, blocks)
    assert blocks[0]["type"] == "header"
    assert "▼ DELL Gross margin 17.8% (FY2027-Q1), −110 bps q/q" in blocks[0]["text"]["text"]
    section = blocks[1]["text"]["text"]
    assert "Previous: 18.9% (FY2026-Q4)" in section
    assert "Threshold: fell ≥ 50 bps q/q" in section
    assert "> gross margin slipped to 20% in 2024 and 17.8% in Q1" in section
    assert "<https://example.com/x|Dell's AI Server Backlog Reaches $51 Billion>" in out
    assert "DELL Gross margin 17.8% (FY2027-Q1)" in text


def test_links_only_for_http_urls() -> None:
    assert link("javascript:alert(1)", "x") == "x"
    assert link("https://a.example/p?q=<b>|c", "t") == "<https://a.example/p?q=%3Cb%3E%7Cc|t>"


def test_one_message_per_source_with_a_section_each() -> None:
    many = [payload(metric_label=f"Metric {i}") for i in range(5)]
    _, blocks = render(many)
    assert blocks[0]["text"]["text"] == "DELL: 5 metrics moved"
    assert sum(b["type"] == "section" for b in blocks) == 5


def test_limits_are_respected() -> None:
    huge = payload(evidence="x" * 10_000)
    text, blocks = render([huge] * 80)
    assert len(blocks) <= BLOCK_LIMIT
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in blocks if b["type"] == "section")
    assert len(text) <= 3000
    assert "more alerts from this source" in json.dumps(blocks)
    assert blocks[-1]["type"] == "context"  # the source link survives the cut
    _, with_mention = render([huge] * 80, mention="here")
    assert len(with_mention) <= BLOCK_LIMIT and with_mention[-1]["type"] == "context"


def test_feed_notices() -> None:
    down = {"kind": "feed_down", "feed": "yahoo", "reason": "HTTP 503 <b>", "failures": 5,
            "since": "2026-06-06T10:00:00+00:00"}
    text, _ = render([down])
    assert "Feed yahoo has failed 5 times in a row" in text and "&lt;b&gt;" in text
    up = {"kind": "feed_up", "feed": "yahoo", "failures": 0}
    assert "recovered" in render([up])[0]


# ---------------------------------------------------------------- sinks over loopback


@pytest.fixture
def slack():
    with SlackServer() as s:
        yield s


def test_web_api_posts_json_with_bearer_token(slack) -> None:
    sink = WebApiSink(slack.token, base_url=slack.api_url)
    posted = sink.post("#dell-alerts", "hello", [{"type": "section",
                                                  "text": {"type": "mrkdwn", "text": "hi"}}])
    assert posted.channel == "C0123ALERTS" and posted.ts
    (msg,) = slack.messages
    assert msg["channel"] == "#dell-alerts" and msg["text"] == "hello"
    assert msg["unfurl_links"] is False


@pytest.mark.parametrize("reply,reason,retryable,retry_after", [
    (SlackServer.error("invalid_auth"), "invalid_auth", False, None),
    (SlackServer.error("channel_not_found"), "channel_not_found", False, None),
    (SlackServer.error("not_in_channel"), "not_in_channel", False, None),
    (SlackServer.rate_limited(7), "rate limited (HTTP 429)", True, 7.0),
    (Reply(500, "oops"), "Slack HTTP 500", True, None),
    (Reply(503, json.dumps({"ok": False, "error": "service_unavailable"}),
           {"Content-Type": "application/json"}), "Slack HTTP 503: service_unavailable", True,
     None),
    (SlackServer.error("internal_error"), "internal_error", True, None),
])
def test_web_api_errors_are_classified(slack, reply, reason, retryable, retry_after) -> None:
    slack.fail_next(reply)
    with pytest.raises(DeliveryError) as err:
        WebApiSink(slack.token, base_url=slack.api_url).post("#c", "t", [])
    assert (err.value.reason, err.value.retryable, err.value.retry_after) == (
        reason, retryable, retry_after)


def test_wrong_token_is_invalid_auth_and_the_token_is_not_in_the_error(slack) -> None:
    with pytest.raises(DeliveryError) as err:
        WebApiSink("xoxb-wrong-secret", base_url=slack.api_url).post("#c", "t", [])
    assert err.value.reason == "invalid_auth" and not err.value.retryable
    assert "xoxb-wrong-secret" not in repr(err.value) + str(err.value)


def test_network_error_is_retryable() -> None:
    with SlackServer() as s:
        url = s.api_url
    with pytest.raises(DeliveryError, match="network error") as err:
        WebApiSink("xoxb-x", base_url=url).post("#c", "t", [])
    assert err.value.retryable


def test_webhook(slack) -> None:
    sink = WebhookSink(slack.webhook_url)
    assert sink.post("#ignored", "hello", []).ts is None
    assert slack.messages[0]["text"] == "hello"
    slack.fail_next(SlackServer.error("invalid_token", 403))
    with pytest.raises(DeliveryError) as err:
        sink.post("#ignored", "again", [])
    assert err.value.reason == "invalid_token" and not err.value.retryable
    assert "secretwebhookpart" not in str(err.value)
