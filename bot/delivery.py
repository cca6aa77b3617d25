"""Delivery: drain the outbox to Slack — claim → send (retry) → record.

- An alert is marked sent only after Slack confirms it. A process killed between
  Slack's answer and our commit can therefore repeat that one message once on
  restart; nothing can be lost (at-least-once, with at most one repeat).
- 429 waits Retry-After; 5xx and network errors back off exponentially
  (retry_base × 2ⁿ); permanent errors (invalid_auth, channel_not_found, …) mark the
  alert failed with the reason. Alerts still failing after max_attempts stay
  pending with a next-attempt time, for the next drain.
- Posts to one channel are paced (Slack allows about one message per second per
  channel: api.slack.com/docs/rate-limits#each-channel).
- Alerts that share a group key (caused by one item, for one channel) go out as
  one message.
- With no Slack credentials, alerts are printed once to stdout and stay pending.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine

from bot import store
from bot.config import SlackConfig
from bot.errors import DeliveryError
from bot.slack import Posted, Sink, render
from bot.store.tables import AlertRow

log = logging.getLogger("marketbot.delivery")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    shown: int = 0
    errors: list[str] = field(default_factory=list)
    # Alerts that were due when the drain began and are not delivered at its end
    # (failed, retrying, or a correction waiting for its alert): (id, why).
    undelivered: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Outcome:
    posted: Posted | None = None
    error: DeliveryError | None = None
    wait: float = 0.0
    attempts: int = 1
    lost: bool = False  # our lease ran out: another sender holds the alerts now


# Longest wait spent inline between two attempts; a longer one (a long Retry-After, a
# late round of backoff) defers the alerts to a later drain instead of blocking this one.
MAX_INLINE_WAIT = 60.0
# Between drains the backoff keeps growing with every failed attempt, up to this.
MAX_DEFER = 900.0


class Delivery:
    def __init__(self, engine: Engine, sink: Sink | None, cfg: SlackConfig, *,
                 clock: Callable[[], datetime], sleep: Callable[[float], None] = time.sleep,
                 out: TextIO | None = None, telemetry=None):
        self.engine, self.sink, self.cfg = engine, sink, cfg
        self.clock, self.sleep = clock, sleep
        self.out = out or sys.stdout
        self.telemetry = telemetry
        self.owner = uuid.uuid4().hex
        self._last_post: dict[str, float] = {}
        self.lease = timedelta(seconds=cfg.lease)

    def run(self) -> DeliveryReport:
        report = DeliveryReport()
        with store.read(self.engine) as s:  # a poll's write lock never delays the listing
            due = store.alerts.due(s, self.clock())
        if not due:
            return report
        if self.sink is None:
            self._show(due, report)
            return report
        blocked: set[str] = set()  # channels whose Slack is failing in this drain
        for rows in _groups(due):
            if rows[0].channel in blocked:
                continue  # same outage: leave them for a later drain
            if self._deliver_group(rows, report) is False:
                blocked.add(rows[0].channel)
        report.undelivered = self._undelivered([r.id for r in due])
        return report

    def _undelivered(self, ids: list[int]) -> list[tuple[int, str]]:
        with store.transaction(self.engine) as s:
            rows = store.alerts.by_ids(s, ids)
        return [(r.id, r.last_error or ("waiting for the alert it corrects"
                                        if r.parent_id else "not sent in this drain"))
                for r in rows if r.status != "sent"]

    # -- no credentials: print once, keep pending
    def _show(self, due: list[AlertRow], report: DeliveryReport) -> None:
        fresh = [r for r in due if r.shown_at is None]
        for rows in _groups(fresh):
            text, _ = render([json.loads(r.payload) for r in rows])
            print(f"[alert → {rows[0].channel}] {_plain(text)}", file=self.out)
            report.shown += len(rows)
        if fresh:
            with store.transaction(self.engine) as s:
                store.alerts.mark_shown(s, [r.id for r in fresh], now=self.clock())

    # -- one message for a group of alerts; False when Slack failed in a retryable way
    def _deliver_group(self, rows: list[AlertRow], report: DeliveryReport) -> bool | None:
        with store.transaction(self.engine) as s:
            held = set(store.alerts.claim(s, [r.id for r in rows], now=self.clock(),
                                          lease=self.lease, owner=self.owner))
        rows = [r for r in rows if r.id in held]
        if not rows:
            return  # another sender holds them
        ids = [r.id for r in rows]
        channel, thread_ts = rows[0].channel, None
        if rows[0].parent_id is not None:
            where = self._thread(rows[0])
            if where is None:
                self._release(ids)
                return  # the alert it corrects has not gone out yet
            channel, thread_ts = where
        text, blocks = render([json.loads(r.payload) for r in rows], mention=_mention(rows))
        outcome = self._send(channel, text, blocks, rows[0].attempts, thread_ts, ids)
        if outcome.lost:
            log.warning("delivery: %s: lease on alert(s) %s lost while retrying; another "
                        "sender has them", channel, ",".join(map(str, ids)))
            return None
        now = self.clock()
        with store.transaction(self.engine) as s:
            if outcome.posted is not None:
                store.alerts.mark_sent(s, ids, now=now, channel=outcome.posted.channel,
                                       ts=outcome.posted.ts, attempts=outcome.attempts)
                report.sent += len(ids)
                log.info("delivery: %s: sent %d alert(s) (%s)", channel, len(ids),
                         ", ".join(str(i) for i in ids))
            elif not outcome.error.retryable:
                store.alerts.mark_failed(s, ids, reason=outcome.error.reason,
                                         attempts=outcome.attempts)
                report.failed += len(ids)
                report.errors.append(outcome.error.reason)
                log.error("delivery: %s: alert(s) %s failed permanently: %s", channel,
                          ",".join(map(str, ids)), outcome.error.reason)
            else:
                store.alerts.mark_retry(s, ids, reason=outcome.error.reason,
                                        next_attempt_at=now + timedelta(seconds=outcome.wait),
                                        attempts=outcome.attempts)
                report.retrying += len(ids)
                report.errors.append(outcome.error.reason)
                log.warning("delivery: %s: %s; %d alert(s) stay pending, next try in %.0fs",
                            channel, outcome.error.reason, len(ids), outcome.wait)
        self._count(outcome)
        return outcome.error is None or not outcome.error.retryable

    def _thread(self, row: AlertRow) -> tuple[str, str | None] | None:
        """Where a correction goes: its parent's thread once the parent is sent; on its
        own in the channel when the parent failed; None while the parent is pending."""
        with store.transaction(self.engine) as s:
            parent = store.alerts.get(s, row.parent_id)
        if parent is None or parent.status == "failed":
            return row.channel, None
        if parent.status != "sent":
            return None
        return (parent.slack_channel or parent.channel), parent.slack_ts

    def _renew(self, ids: list[int], wait: float) -> bool:
        """Hold our lease through a wait and the attempt after it; False when another
        sender has taken the alerts meanwhile."""
        until = self.clock() + timedelta(seconds=wait) + self.lease
        with store.transaction(self.engine) as s:
            return store.alerts.renew(s, ids, until=until, owner=self.owner) == len(ids)

    def _release(self, ids: list[int]) -> None:
        with store.transaction(self.engine) as s:
            store.alerts.release(s, ids)

    def _send(self, channel: str, text: str, blocks: list[dict], previous_attempts: int,
              thread_ts: str | None, ids: list[int]) -> _Outcome:
        attempts = self.cfg.max_attempts
        inline_limit = min(MAX_INLINE_WAIT, self.lease.total_seconds() / 2)
        for attempt in range(1, attempts + 1):
            if not self._pace(channel, ids):
                return _Outcome(lost=True, attempts=attempt - 1)
            try:
                return _Outcome(posted=self.sink.post(channel, text, blocks, thread_ts),
                                attempts=attempt)
            except DeliveryError as exc:
                if not exc.retryable:
                    return _Outcome(error=exc, attempts=attempt)
                wait = self._backoff(exc, attempt)
                if attempt == attempts or wait > inline_limit:
                    later = min(self.cfg.retry_base * 2 ** (previous_attempts + attempt),
                                MAX_DEFER)
                    return _Outcome(error=exc, wait=max(wait, later), attempts=attempt)
                if not self._renew(ids, wait):
                    return _Outcome(lost=True, attempts=attempt)
                log.warning("delivery: %s: %s, retry in %.1fs (attempt %d/%d)", channel,
                            exc.reason, wait, attempt, attempts)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, exc: DeliveryError, attempt: int) -> float:
        """Retry-After when Slack gives one, else retry_base × 2^(attempt−1) (this round)."""
        if exc.retry_after is not None:
            return min(exc.retry_after, self.cfg.max_retry_after)
        return min(self.cfg.retry_base * 2 ** (attempt - 1), self.cfg.max_retry_after)

    def _pace(self, channel: str, ids: list[int]) -> bool:
        """Wait for this channel's next slot; False when the alerts' lease was lost."""
        if self.engine.dialect.name == "postgresql" and self.cfg.pace:
            # Replicas share one pace per channel through the database. With several
            # senders the slot can be seconds away: hold the lease through the wait, or
            # another sender would take the alerts and post them too.
            wait = store.pace.reserve(self.engine, f"slack:{channel}", self.cfg.pace)
            if wait > 0:
                if not self._renew(ids, wait):
                    return False
                self.sleep(wait)
            return True
        last = self._last_post.get(channel)
        if last is not None and self.cfg.pace:
            wait = last + self.cfg.pace - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last_post[channel] = time.monotonic()
        return True

    def _count(self, outcome: _Outcome) -> None:
        if self.telemetry is None:
            return
        if outcome.posted is not None:
            self.telemetry.slack_posts.labels("sent").inc()
        else:
            kind = "failed" if not outcome.error.retryable else "retrying"
            self.telemetry.slack_posts.labels(kind).inc()


def _groups(rows: list[AlertRow]) -> list[list[AlertRow]]:
    groups: dict[str, list[AlertRow]] = {}
    for r in rows:
        groups.setdefault(r.group_key, []).append(r)
    return list(groups.values())


def _mention(rows: list[AlertRow]) -> str | None:
    mentions = {r.mention for r in rows if r.mention}
    return "channel" if "channel" in mentions else ("here" if mentions else None)


def _plain(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


__all__ = ["Delivery", "DeliveryReport"]
