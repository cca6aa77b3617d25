"""The long-running scheduler's jobs: one per enabled feed with jitter, coalesce and
max_instances=1, plus the delivery job; a failing feed's backoff lives in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from bot import store
from bot.app import build_app
from bot.config import Env, parse_config
from bot.delivery import Delivery
from bot.pipeline import build_pipeline
from bot.scheduler import Runner, poll_leased
from tests.database import url_for


class Clock:
    def __init__(self):
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def runner(tmp_path, clock=None) -> Runner:
    config = parse_config(yaml.safe_dump({
        "feeds": [{"name": "fast", "url": str(tmp_path / "a.xml"), "every": "5m"},
                  {"name": "slow", "url": str(tmp_path / "b.xml"), "every": "1h"},
                  {"name": "off", "url": str(tmp_path / "c.xml"), "enabled": False}],
        "slack": {"channel": "#c"}}))
    app = build_app(config, Env(database_url=url_for(tmp_path)),
                    **({"clock": clock} if clock else {}))
    return Runner(app, build_pipeline(app), Delivery(app.engine, None, config.slack,
                                                     clock=app.clock))


def test_one_job_per_enabled_feed_with_jitter_coalesce_and_one_instance(tmp_path) -> None:
    r = runner(tmp_path)
    try:
        r.schedule()
        r.scheduler.start(paused=True)  # job defaults apply once the scheduler runs
        jobs = {j.id: j for j in r.scheduler.get_jobs()}
        assert set(jobs) == {"feed:fast", "feed:slow", "deliver", "heartbeat"}
        fast, slow = jobs["feed:fast"], jobs["feed:slow"]
        assert fast.trigger.interval == timedelta(minutes=5) and fast.trigger.jitter == 30
        assert slow.trigger.interval == timedelta(hours=1) and slow.trigger.jitter == 60
        assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
    finally:
        r.scheduler.shutdown(wait=False)
        r.app.close()


def test_a_failing_feed_waits_out_its_backoff(tmp_path) -> None:
    clock = Clock()
    r = runner(tmp_path, clock)
    feed = r.app.config.feeds[0]  # every 5m
    try:
        def job():  # what the feed's job does when it fires
            return poll_leased(r.app, r.pipeline, feed, due=True)

        result = job()  # the file does not exist: a failure
        assert not result.ok and result.retry_in == 300
        clock.now += timedelta(minutes=5)
        assert job().retry_in == 600  # first failure: next poll at the interval; 10m now
        clock.now += timedelta(minutes=5)
        assert job() is None  # the job fires, but the feed waits
        with store.transaction(r.app.engine) as s:
            st = store.feeds.get_state(s, feed.name)
        assert st.consecutive_failures == 2 and st.total_failures == 2
        assert st.next_poll_at - st.last_error_at == timedelta(minutes=10)
        (tmp_path / "a.xml").write_bytes(b"<rss version='2.0'><channel><title>t</title>"
                                         b"</channel></rss>")
        clock.now += timedelta(minutes=5)
        assert job().ok
        assert job().ok  # healthy, and this replica polled it last: its schedule decides
    finally:
        r.app.close()
