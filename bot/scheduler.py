"""Running the pipeline: once (`run --once`) or on a schedule (APScheduler 3).

One interval job per feed (jitter so that many feeds don't poll in lock-step,
coalesce so that a missed run is not replayed many times, max_instances=1 so
that a slow feed is never polled twice at once), and one delivery job that
drains the outbox. A failing feed's backoff lives in the database
(feed_state.next_poll_at), so it survives restarts; the feed's job simply skips
polls until then.

Replicas on one database share the feeds: a poll first takes the feed's lease
(bot.store.feeds.claim, on the database's clock), so one replica at a time polls
a feed. Every replica schedules every feed; the one that polled a feed last keeps
polling it on its own schedule, another takes it over once it is due and its
lease is free (the holder died, or lags behind). docs/scaling.md.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import store
from bot.app import App
from bot.config import FeedConfig
from bot.delivery import Delivery, DeliveryReport
from bot.pipeline import Pipeline, PollResult

log = logging.getLogger("marketbot.scheduler")

DELIVERY_EVERY = 5.0  # seconds between outbox drains in the long-running mode
HEARTBEAT_EVERY = 10.0  # seconds between "this replica is alive" (store.feeds.heartbeat)


@dataclass
class CycleReport:
    """One pass over the feeds and the outbox (`run --once`): what it did, and whether
    everything that should have happened did (exit code 0) or not (1)."""

    polls: list[PollResult] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    not_polled: dict[str, str] = field(default_factory=dict)  # feed → why

    held: list[str] = field(default_factory=list)  # feeds another replica was polling

    @property
    def failed(self) -> list[PollResult]:
        return [p for p in self.polls if not p.ok]

    @property
    def ok(self) -> bool:
        """Every polled feed answered and every alert due was delivered (or printed, when
        no Slack credentials are set). A feed that cannot be polled as configured (EDGAR
        without a User-Agent) is reported, not counted as failing."""
        return not self.failed and not self.delivery.undelivered

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        polls, d = self.polls, self.delivery
        skipped = f", {len(self.not_polled)} not polled" if self.not_polled else ""
        return (f"polled {len(polls)} feed(s) ({len(self.failed)} failed{skipped}), "
                f"{sum(p.new_items for p in polls)} new item(s), "
                f"{sum(p.figures for p in polls)} figure(s), {sum(p.alerts for p in polls)} "
                f"alert(s) queued; slack: {d.sent} sent, {d.failed} failed, {d.retrying} "
                f"retrying, {d.shown} printed")

    def problems(self) -> str | None:
        """One line naming what failed: the feeds and the alerts not delivered."""
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} of {len(self.polls)} feed(s) failed: " +
                         "; ".join(f"{p.feed} ({p.error})" for p in self.failed))
        if self.delivery.undelivered:
            parts.append(f"{len(self.delivery.undelivered)} alert(s) not delivered: " +
                         "; ".join(f"#{i} ({why})" for i, why in self.delivery.undelivered))
        return " | ".join(parts) or None


def not_polled(app: App) -> dict[str, str]:
    """Enabled feeds that cannot be polled as configured, with the reason: EDGAR feeds
    without a User-Agent (SEC's fair-access policy forbids undeclared clients). They are
    reported once at start and by `config check`, never polled, never counted as failing."""
    from bot.edgar.client import unpollable_feeds

    return unpollable_feeds(app.config, app.env)


def enabled_feeds(app: App) -> list[FeedConfig]:
    """The feeds to poll: enabled, and pollable as configured."""
    skip = not_polled(app)
    return [f for f in app.config.feeds if f.enabled and f.name not in skip]


def run_once(app: App, pipeline: Pipeline, delivery: Delivery) -> CycleReport:
    """Poll every enabled feed once (concurrently), then deliver what is due."""
    feeds = enabled_feeds(app)
    report = CycleReport(not_polled=not_polled(app))
    with ThreadPoolExecutor(max_workers=min(app.config.http.workers, max(1, len(feeds))),
                            thread_name_prefix="poll") as pool:
        polls = list(pool.map(lambda f: poll_leased(app, pipeline, f, due=False), feeds))
    report.polls = [p for p in polls if p is not None]
    report.held = [f.name for f, p in zip(feeds, polls, strict=True) if p is None]
    report.delivery = delivery.run()
    return report


def poll_leased(app: App, pipeline: Pipeline, feed: FeedConfig, *,
                due: bool) -> PollResult | None:
    """Poll `feed` under its lease; None when this replica may not poll it now: another
    replica holds it, or (`due`, the scheduler) it is not due here yet."""
    slack = jitter_for(feed.every) + 1
    hold = store.feeds.lease_for(feed.every, app.config.http.timeout, slack)
    with store.transaction(app.engine) as s:
        if not store.feeds.claim(s, feed.name, holder=app.replica, hold=hold,
                                 now=app.clock() if due else None, slack=slack,
                                 feeds=len(enabled_feeds(app))):
            return None
    try:
        return pipeline.poll(feed)
    finally:
        try:
            with store.transaction(app.engine) as s:  # held until our next poll of it
                store.feeds.release(s, feed.name, holder=app.replica,
                                    hold=hold if due else None)
        except Exception:  # the lease runs out by itself
            log.warning("poll: %s: could not release the lease; it runs out in %.0fs",
                        feed.name, hold, exc_info=True)


def jitter_for(every: float) -> float:
    return min(every * 0.1, 60.0)


class Runner:
    """The long-running scheduler. `stop()` (or SIGTERM/SIGINT) ends it cleanly."""

    def __init__(self, app: App, pipeline: Pipeline, delivery: Delivery):
        self.app, self.pipeline, self.delivery = app, pipeline, delivery
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(app.config.http.workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self._delivery_lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> None:
        self.schedule()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread (tests)
                signal.signal(sig, lambda *_: self.stop())
        log.info("scheduler: %d feed(s) scheduled", len(enabled_feeds(self.app)))
        self.scheduler.start()
        try:
            self._stopped.wait()
        finally:
            self.scheduler.shutdown(wait=True)  # let running polls finish their transaction
            self._hand_over()
            log.info("scheduler: stopped")

    def schedule(self) -> None:
        """One interval job per enabled feed, and the delivery job."""
        now = self.app.clock()
        for feed in enabled_feeds(self.app):
            self.scheduler.add_job(
                self._poll, IntervalTrigger(seconds=feed.every, jitter=jitter_for(feed.every)),
                args=[feed], id=f"feed:{feed.name}", name=f"poll {feed.name}",
                next_run_time=now + timedelta(seconds=min(5.0, jitter_for(feed.every))))
        self.scheduler.add_job(self._deliver, IntervalTrigger(seconds=DELIVERY_EVERY),
                               id="deliver", name="deliver alerts", next_run_time=now)
        self._heartbeat()  # counted among the live replicas before the first claim
        self.scheduler.add_job(self._heartbeat, IntervalTrigger(seconds=HEARTBEAT_EVERY),
                               id="heartbeat", name="replica heartbeat")

    def stop(self) -> None:
        self._stopped.set()

    def _heartbeat(self) -> None:
        try:
            with store.transaction(self.app.engine) as s:
                store.feeds.heartbeat(s, self.app.replica, 3 * HEARTBEAT_EVERY)
        except Exception:  # the next beat tries again; the leases hold meanwhile
            log.warning("scheduler: heartbeat failed", exc_info=True)

    def _hand_over(self) -> None:
        """Release this replica's feed leases: the other replicas take them at once."""
        try:
            with store.transaction(self.app.engine) as s:
                store.feeds.release_all(s, holder=self.app.replica)
        except Exception:  # the leases run out by themselves
            log.warning("scheduler: could not release the feed leases", exc_info=True)

    def _poll(self, feed: FeedConfig) -> None:
        result = poll_leased(self.app, self.pipeline, feed, due=True)
        if result is not None and result.alerts:
            self._deliver()

    def _deliver(self) -> None:
        if not self._delivery_lock.acquire(blocking=False):
            return  # a drain is running; it will see the new alerts
        try:
            self.delivery.run()
        except Exception:  # a delivery bug must not kill the scheduler thread
            log.exception("delivery: drain failed")
        finally:
            self._delivery_lock.release()
