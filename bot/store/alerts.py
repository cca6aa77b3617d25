"""The alert outbox: insert once (unique dedupe key), claim with a lease, and
record the outcome only after Slack answers (Alertmanager's notification log).

Claiming with a lease is what lets a second replica (or a restarted process)
pick up alerts whose sender died, without two senders posting the same one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.store.db import insert_ignore
from bot.store.tables import AlertRow

STATUSES = ("pending", "held", "sent", "failed")  # held: waits for a confirming source


def insert(s: Session, row: AlertRow) -> int | None:
    """Queue an alert; None when an alert with its dedupe key exists already."""
    values = row.model_dump(exclude={"id"})
    return insert_ignore(s, AlertRow, values)


def due(s: Session, now: datetime) -> list[AlertRow]:
    """Pending alerts whose retry time has come and that nobody holds a lease on."""
    q = select(AlertRow).where(
        AlertRow.status == "pending",
        or_(col(AlertRow.next_attempt_at).is_(None), col(AlertRow.next_attempt_at) <= now),
        or_(col(AlertRow.claimed_until).is_(None), col(AlertRow.claimed_until) <= now),
    ).order_by(col(AlertRow.id))
    return list(s.exec(q))


def claim(s: Session, ids: Iterable[int], *, now: datetime, lease: timedelta,
          owner: str) -> list[int]:
    """Take a lease on pending alerts; returns the ids this owner now holds."""
    ids = list(ids)
    if not ids:
        return []
    s.exec(update(AlertRow).where(
        col(AlertRow.id).in_(ids), AlertRow.status == "pending",
        or_(col(AlertRow.claimed_until).is_(None), col(AlertRow.claimed_until) <= now),
    ).values(claimed_until=now + lease, claimed_by=owner))
    held = s.exec(select(AlertRow.id).where(col(AlertRow.id).in_(ids),
                                            AlertRow.status == "pending",
                                            AlertRow.claimed_by == owner))
    return list(held)


def renew(s: Session, ids: list[int], *, until: datetime, owner: str) -> int:
    """Extend this owner's lease; returns how many of the alerts it still held."""
    result = s.exec(update(AlertRow).where(
        col(AlertRow.id).in_(ids), AlertRow.claimed_by == owner, AlertRow.status == "pending")
        .values(claimed_until=until))
    return result.rowcount


def release(s: Session, ids: list[int]) -> None:
    """Give up a lease without an attempt (the alert is not ready to go)."""
    s.exec(update(AlertRow).where(col(AlertRow.id).in_(ids)).values(
        claimed_until=None, claimed_by=None))


def mark_sent(s: Session, ids: list[int], *, now: datetime, channel: str | None,
              ts: str | None, attempts: int = 1) -> None:
    s.exec(update(AlertRow).where(col(AlertRow.id).in_(ids)).values(
        status="sent", sent_at=now, slack_channel=channel, slack_ts=ts, claimed_until=None,
        claimed_by=None, attempts=AlertRow.attempts + attempts, last_error=None))


def mark_failed(s: Session, ids: list[int], *, reason: str, attempts: int = 1) -> None:
    s.exec(update(AlertRow).where(col(AlertRow.id).in_(ids)).values(
        status="failed", last_error=reason, claimed_until=None, claimed_by=None,
        attempts=AlertRow.attempts + attempts))


def mark_retry(s: Session, ids: list[int], *, reason: str, next_attempt_at: datetime,
               attempts: int = 1) -> None:
    s.exec(update(AlertRow).where(col(AlertRow.id).in_(ids)).values(
        last_error=reason, next_attempt_at=next_attempt_at, claimed_until=None, claimed_by=None,
        attempts=AlertRow.attempts + attempts))


def mark_shown(s: Session, ids: list[int], *, now: datetime) -> None:
    s.exec(update(AlertRow).where(col(AlertRow.id).in_(ids)).values(shown_at=now))


def on_key(s: Session, *, company: str, metric: str, basis: str, family: str,
           period: str) -> list[AlertRow]:
    """Rule alerts built on a (company, metric, basis, accounting family, period) value."""
    return list(s.exec(select(AlertRow).where(
        AlertRow.kind == "rule", AlertRow.company == company, AlertRow.metric == metric,
        AlertRow.basis == basis, AlertRow.accounting_family == family,
        AlertRow.period == period).order_by(col(AlertRow.id))))


def refresh(s: Session, alert_id: int, values: dict, *, now: datetime) -> bool:
    """Rewrite an alert nobody has seen yet (pending or held, never attempted, never
    shown, not claimed by a sender): a re-evaluation that finds newer context (the
    comparison basis arrived, a more precise statement) updates the message instead of
    threading a correction under a message that was never posted."""
    result = s.exec(update(AlertRow).where(
        AlertRow.id == alert_id, col(AlertRow.status).in_(("pending", "held")),
        AlertRow.attempts == 0, col(AlertRow.shown_at).is_(None),
        or_(col(AlertRow.claimed_until).is_(None), col(AlertRow.claimed_until) <= now),
    ).values(**values))
    return result.rowcount == 1


def rule_alerts_of(s: Session, *, company: str, metrics: Iterable[str],
                   periods: Iterable[str]) -> list[AlertRow]:
    """Rule alerts of a company on any of these metrics and periods (one query for a
    whole evaluation)."""
    metrics, periods = sorted(set(metrics)), sorted(set(periods))
    if not metrics or not periods:
        return []
    return list(s.exec(select(AlertRow).where(
        AlertRow.kind == "rule", AlertRow.company == company, col(AlertRow.metric).in_(metrics),
        col(AlertRow.period).in_(periods)).order_by(col(AlertRow.id))))


def corrections_of(s: Session, parent_ids: Iterable[int]) -> list[AlertRow]:
    ids = sorted(set(parent_ids))
    if not ids:
        return []
    return list(s.exec(select(AlertRow).where(
        AlertRow.kind == "correction", col(AlertRow.parent_id).in_(ids))
        .order_by(col(AlertRow.id))))


def last_fired(s: Session, *, rule_id: str, company: str, metric: str) -> datetime | None:
    return s.exec(select(AlertRow.created_at).where(
        AlertRow.kind == "rule", AlertRow.rule_id == rule_id, AlertRow.company == company,
        AlertRow.metric == metric).order_by(col(AlertRow.created_at).desc()).limit(1)).first()


def by_ids(s: Session, ids: list[int]) -> list[AlertRow]:
    if not ids:
        return []
    return list(s.exec(select(AlertRow).where(col(AlertRow.id).in_(ids))
                       .order_by(col(AlertRow.id))))


def get(s: Session, alert_id: int) -> AlertRow | None:
    return s.get(AlertRow, alert_id)


def listing(s: Session, status: str | None = None, limit: int | None = None) -> list[AlertRow]:
    q = select(AlertRow)
    if status:
        q = q.where(AlertRow.status == status)
    q = q.order_by(col(AlertRow.id).desc())
    if limit:
        q = q.limit(limit)
    return list(s.exec(q))


def requeue(s: Session, ids: list[int] | None = None) -> int:
    """Put failed alerts (all, or those given) back to pending; returns how many.
    Sent alerts are never re-queued: that would post them twice."""
    q = update(AlertRow).where(AlertRow.status == "failed")
    if ids is not None:
        q = q.where(col(AlertRow.id).in_(ids))
    result = s.exec(q.values(status="pending", next_attempt_at=None, claimed_until=None,
                             last_error=None))
    return result.rowcount


def of_item(s: Session, item_id: int) -> list[AlertRow]:
    """The alerts an item caused."""
    return list(s.exec(select(AlertRow).where(AlertRow.item_id == item_id)
                       .order_by(col(AlertRow.id))))


def in_group(s: Session, group_key: str) -> list[AlertRow]:
    """The alerts that share a message (one item's alerts for one channel)."""
    return list(s.exec(select(AlertRow).where(AlertRow.group_key == group_key)
                       .order_by(col(AlertRow.id))))
