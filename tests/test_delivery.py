"""The outbox: claim → send → record, against a loopback Slack."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from bot import store
from bot.config import SlackConfig
from bot.delivery import Delivery
from bot.slack import WebApiSink
from bot.store.tables import AlertRow
from tests.loopback import Reply, SlackServer
from tests.test_slack import payload

NOW = datetime(2026, 6, 6, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = NOW
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)


def queue(engine, n=1, group="item:1:#dell-alerts", channel="#dell-alerts", **kw) -> list[int]:
    ids = []
    with store.transaction(engine) as s:
        for i in range(n):
            p = payload(metric_label=f"Metric {len(ids)}-{group}")
            ids.append(store.alerts.insert(s, AlertRow(
                dedupe_key=f"{group}:{i}", group_key=group, channel=channel,
                payload=json.dumps(p), **kw)))
    return ids


def rows(engine) -> list[AlertRow]:
    with store.transaction(engine) as s:
        return sorted(store.alerts.listing(s), key=lambda r: r.id)


def delivery(engine, sink, clock, **cfg) -> Delivery:
    config = SlackConfig(channel="#dell-alerts", pace=cfg.pop("pace", 0), retry_base=0.5, **cfg)
    return Delivery(engine, sink, config, clock=clock, sleep=clock.sleep, out=io.StringIO())


def test_alerts_from_one_item_go_out_as_one_message(engine, slack) -> None:
    queue(engine, 3)
    queue(engine, 1, group="item:2:#dell-alerts")
    clock = Clock()
    report = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock).run()
    assert report.sent == 4 and len(slack.messages) == 2
    assert all(r.status == "sent" and r.slack_ts for r in rows(engine))
    assert [r.slack_ts for r in rows(engine)[:3]] == [slack.messages[0]["ts"]] * 3
    # Nothing is sent twice.
    assert delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock).run().sent == 0
    assert len(slack.messages) == 2


def test_429_then_500_three_times_then_ok_delivers_exactly_once(engine, slack) -> None:
    queue(engine, 2)
    slack.fail_next(SlackServer.rate_limited(3), Reply(500, "x"), Reply(502, "x"),
                    Reply(503, "x"))
    clock = Clock()
    report = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock).run()
    assert report.sent == 2 and len(slack.messages) == 1
    # Retry-After honoured, then exponential backoff from retry_base.
    assert clock.slept == [3.0, 1.0, 2.0, 4.0]
    assert {r.attempts for r in rows(engine)} == {5}


def test_invalid_auth_fails_with_the_reason_and_the_rest_continue(engine, slack) -> None:
    queue(engine, 1, group="a")
    queue(engine, 1, group="b")
    slack.fail_next(SlackServer.error("invalid_auth"))
    report = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), Clock()).run()
    assert (report.failed, report.sent) == (1, 1)
    first, second = rows(engine)
    assert (first.status, first.last_error) == ("failed", "invalid_auth")
    assert second.status == "sent"


def test_retries_exhausted_stay_pending_for_the_next_drain(engine, slack) -> None:
    queue(engine)
    slack.fail_next(*[Reply(500, "x")] * 3)
    clock = Clock()
    d = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock,
                 max_attempts=3)
    report = d.run()
    (row,) = rows(engine)
    assert report.retrying == 1 and row.status == "pending" and row.attempts == 3
    assert row.next_attempt_at > clock.now
    assert d.run().sent == 0  # not due yet
    clock.now = row.next_attempt_at
    assert d.run().sent == 1 and len(slack.messages) == 1


def test_failed_alerts_can_be_requeued(engine, slack) -> None:
    queue(engine)
    slack.fail_next(SlackServer.error("channel_not_found"))
    d = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), Clock())
    d.run()
    with store.transaction(engine) as s:
        assert store.alerts.requeue(s) == 1
    assert d.run().sent == 1


def test_a_lease_keeps_a_second_sender_off(engine, slack) -> None:
    (alert_id,) = queue(engine)
    with store.transaction(engine) as s:
        assert store.alerts.claim(s, [alert_id], now=NOW, lease=timedelta(minutes=5),
                                  owner="other-replica") == [alert_id]
    d = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), Clock())
    assert d.run().sent == 0 and slack.messages == []
    # When the other sender's lease runs out (it died), this one takes over.
    later = Clock()
    later.now = NOW + timedelta(minutes=6)
    assert delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), later).run().sent == 1


def test_posts_to_one_channel_are_paced(engine, slack) -> None:
    queue(engine, 1, group="a")
    queue(engine, 1, group="b")
    clock = Clock()
    delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock, pace=1.0).run()
    assert len(slack.messages) == 2
    assert len(clock.slept) == 1 and 0.5 < clock.slept[0] <= 1.0


def test_without_credentials_alerts_print_once_and_stay_pending(engine) -> None:
    queue(engine, 2)
    d = delivery(engine, None, Clock())
    assert d.run().shown == 2
    assert d.out.getvalue().count("[alert → #dell-alerts]") == 1
    assert d.run().shown == 0
    assert {r.status for r in rows(engine)} == {"pending"}


def test_a_long_retry_after_defers_instead_of_blocking_the_drain(engine, slack) -> None:
    queue(engine, 1, group="a")
    queue(engine, 1, group="b")
    queue(engine, 1, group="c", channel="#other")
    slack.fail_next(SlackServer.rate_limited(120))
    clock = Clock()
    report = delivery(engine, WebApiSink(slack.token, base_url=slack.api_url), clock).run()
    assert clock.slept == []  # nothing waited inline
    # The rate-limited channel is left alone for this drain; the other channel goes out.
    assert (report.retrying, report.sent) == (1, 1)
    assert [m["channel"] for m in slack.messages] == ["#other"]
    first = rows(engine)[0]
    assert first.next_attempt_at == NOW + timedelta(seconds=120)
    clock.now += timedelta(seconds=121)
    assert delivery(engine, WebApiSink(slack.token, base_url=slack.api_url),
                    clock).run().sent == 2


class StealingSink:
    """The real sink, but another sender takes over the alerts while Slack is failing."""

    def __init__(self, sink, engine):
        self.sink, self.engine = sink, engine

    def post(self, *args, **kw):
        try:
            return self.sink.post(*args, **kw)
        except Exception:
            from sqlmodel import update
            with store.transaction(self.engine) as s:
                s.exec(update(AlertRow).values(claimed_by="other-replica"))
            raise


def test_a_sender_that_lost_its_lease_does_not_post(engine, slack) -> None:
    queue(engine)
    slack.fail_next(Reply(500, "x"))
    sink = StealingSink(WebApiSink(slack.token, base_url=slack.api_url), engine)
    report = delivery(engine, sink, Clock()).run()
    assert slack.messages == [] and len(slack.hits("/api/chat.postMessage")) == 1
    assert (report.sent, report.retrying, report.failed) == (0, 0, 0)
    (row,) = rows(engine)
    assert (row.status, row.claimed_by) == ("pending", "other-replica")
