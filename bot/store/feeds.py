"""Feed state: conditional-GET validators, success/failure history, next poll, and the
lease that lets one replica at a time poll a feed.

Every write is one atomic statement on a row that exists (`_ensure` inserts it with ON
CONFLICT DO NOTHING first), so replicas polling at once never collide on the primary
key and never lose a count: counters are `n = n + 1` in the database, not values read
before and written back. Leases run on the database's clock (`db.clock_sql`), so the
replicas' own clocks do not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import case, func, literal, or_, update
from sqlmodel import Session, col, select

from bot.store.db import clock_sql, insert_or_nothing
from bot.store.tables import FeedState, UTCDateTime


def get_state(s: Session, name: str) -> FeedState:
    return s.get(FeedState, name) or FeedState(name=name)


def all_states(s: Session) -> dict[str, FeedState]:
    return {st.name: st for st in s.exec(select(FeedState))}


def _ensure(s: Session, name: str) -> None:
    insert_or_nothing(s, FeedState, {"name": name, "consecutive_failures": 0,
                                     "total_failures": 0, "down_notified": False,
                                     "items_total": 0})


def _update(s: Session, name: str, **values) -> FeedState:
    _ensure(s, name)
    stmt = (update(FeedState).where(col(FeedState.name) == name).values(**values)
            .returning(FeedState).execution_options(populate_existing=True))
    return s.execute(stmt).scalar_one()


def record_success(s: Session, name: str, *, url: str | None, now: datetime,
                   next_poll_at: datetime, etag: str | None = None,
                   last_modified: str | None = None, new_items: int = 0,
                   not_modified: bool = False) -> FeedState:
    validators = {} if not_modified else {"etag": etag, "last_modified": last_modified}
    return _update(s, name, url=url, last_polled_at=now, last_success_at=now,
                   consecutive_failures=0, failing_since=None, next_poll_at=next_poll_at,
                   items_total=FeedState.items_total + new_items, **validators)


def record_failure(s: Session, name: str, *, url: str | None, now: datetime, reason: str,
                   next_poll: Callable[[int], datetime]) -> FeedState:
    """Count a failure; `next_poll(failures in a row)` says when to try again."""
    st = _update(s, name, url=url, last_polled_at=now, last_error_at=now, last_error=reason,
                 consecutive_failures=FeedState.consecutive_failures + 1,
                 total_failures=FeedState.total_failures + 1,
                 failing_since=func.coalesce(FeedState.failing_since,
                                             literal(now, UTCDateTime)))
    # The row stays locked (PostgreSQL) or the database (SQLite) until the commit, so the
    # count read back is this failure's.
    return _update(s, name, next_poll_at=next_poll(st.consecutive_failures))


def mark_down(s: Session, name: str) -> bool:
    """Flag the feed as announced down; True for the one caller that flipped the flag."""
    return _flip(s, name, True)


def mark_up(s: Session, name: str) -> bool:
    """Clear the down flag; True for the one caller that cleared it (it announces it)."""
    return _flip(s, name, False)


def _flip(s: Session, name: str, down: bool) -> bool:
    stmt = update(FeedState).where(col(FeedState.name) == name,
                                   col(FeedState.down_notified) == (not down))
    return s.execute(stmt.values(down_notified=down)).rowcount == 1


# ---------------------------------------------------------------- leases


def claim(s: Session, name: str, *, holder: str, hold: float, due_by: datetime | None) -> bool:
    """Take the feed's lease for `hold` seconds (database clock); True when this holder
    may poll it now. Refused while another holder's lease runs. With `due_by` (the
    long-running scheduler), a feed that another replica polled last, or that is backing
    off after failures, is polled only once its next poll time is before `due_by`: the
    replica that polled a healthy feed last keeps polling it on its own schedule."""
    _ensure(s, name)
    now = clock_sql(s)
    free = or_(col(FeedState.lease_until).is_(None), col(FeedState.lease_until) < now,
               col(FeedState.lease_holder) == holder)
    stmt = update(FeedState).where(col(FeedState.name) == name, free)
    if due_by is not None:
        ours = (col(FeedState.lease_holder) == holder) & (FeedState.consecutive_failures == 0)
        stmt = stmt.where(or_(ours, col(FeedState.next_poll_at).is_(None),
                              col(FeedState.next_poll_at) <= due_by))
    stmt = stmt.values(lease_holder=holder, lease_until=clock_sql(s, hold))
    return s.execute(stmt).rowcount == 1


def release(s: Session, name: str, *, holder: str) -> None:
    """End this holder's lease after a poll; the holder stays recorded as the feed's
    last poller (`marketbot feeds`)."""
    s.execute(update(FeedState).where(col(FeedState.name) == name,
                                      col(FeedState.lease_holder) == holder)
              .values(lease_until=None))


def holders(s: Session) -> dict[str, tuple[str | None, bool]]:
    """Each feed's lease holder (or last poller) and whether it is polling it now."""
    now = clock_sql(s)
    polling = case((col(FeedState.lease_until) >= now, True), else_=False)
    rows = s.execute(select(FeedState.name, FeedState.lease_holder, polling))
    return {name: (holder, bool(active)) for name, holder, active in rows}


def lease_for(every: float, timeout: float) -> float:
    """How long a poll's lease lasts: the interval plus the fetch timeout. A replica that
    dies mid-poll hands the feed over when it runs out; a poll that outlasts it may meet
    a second poll of the feed, which costs work but no correctness (items are unique)."""
    return every + timeout


__all__ = ["all_states", "claim", "get_state", "holders", "lease_for", "mark_down", "mark_up",
           "record_failure", "record_success", "release"]
