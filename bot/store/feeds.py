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
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from bot.store.db import clock_sql, insert_or_nothing
from bot.store.tables import FeedState, ReplicaRow, UTCDateTime, utcnow


def get_state(s: Session, name: str) -> FeedState:
    return s.get(FeedState, name) or FeedState(name=name)


def all_states(s: Session) -> dict[str, FeedState]:
    return {st.name: st for st in s.exec(select(FeedState))}


def _ensure(s: Session, name: str) -> None:
    if s.execute(select(FeedState.name).where(col(FeedState.name) == name)).first():
        return  # the usual case: no insert, so no wait on another poll's row lock
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


def claim(s: Session, name: str, *, holder: str, hold: float, now: datetime | None,
          slack: float = 0.0, feeds: int = 1) -> bool:
    """Take or renew the feed's lease for `hold` seconds (database clock); True when this
    holder may poll it now. Refused while another holder's lease runs.

    With `now` (the long-running scheduler, whose jobs fire up to `slack` seconds late),
    a replica keeps the feeds it holds and polls them on its own schedule; a failing
    feed waits out its backoff whoever asks; a replica takes a free feed (released, or
    its holder died and the lease ran out) while it holds fewer than its share of the
    `feeds`, ceil(feeds / live replicas), and gives one back when it holds more (a
    replica has joined). Without `now` (`run --once`): any feed nobody is polling."""
    _ensure(s, name)
    db_now = clock_sql(s)
    mine = col(FeedState.lease_holder) == holder
    free = or_(col(FeedState.lease_until).is_(None), col(FeedState.lease_until) < db_now)
    stmt = update(FeedState).where(col(FeedState.name) == name, or_(free, mine))
    if now is not None:
        held, share = _share(s, holder, feeds)
        if held > share and _give_back(s, name, holder):
            return False
        next_poll, failing = col(FeedState.next_poll_at), FeedState.consecutive_failures > 0
        due = or_(next_poll.is_(None), next_poll <= now + timedelta(seconds=slack))
        stmt = stmt.where(or_(mine & ~failing, due), or_(mine, held < share))
    stmt = stmt.values(lease_holder=holder, lease_until=clock_sql(s, hold))
    return s.execute(stmt).rowcount == 1


def heartbeat(s: Session, holder: str, hold: float) -> None:
    """This replica is alive for `hold` more seconds (database clock). The scheduler
    beats every few seconds, apart from the claims: one row per replica, so claims
    running in parallel threads never queue on it."""
    insert_or_nothing(s, ReplicaRow, {"id": holder, "seen_until": utcnow()})
    s.execute(update(ReplicaRow).where(col(ReplicaRow.id) == holder)
              .values(seen_until=clock_sql(s, hold)))


def _share(s: Session, holder: str, feeds: int) -> tuple[int, int]:
    """How many feeds this holder has leased, and its fair share: the feeds over the
    live replicas (this one among them)."""
    now = clock_sql(s)
    held = s.execute(select(func.count()).where(col(FeedState.lease_until) >= now,
                                                col(FeedState.lease_holder) == holder)
                     ).scalar_one()
    others = s.execute(select(func.count()).where(col(ReplicaRow.seen_until) >= now,
                                                  col(ReplicaRow.id) != holder)).scalar_one()
    return held, -(-feeds // (others + 1))


def _give_back(s: Session, name: str, holder: str) -> bool:
    stmt = update(FeedState).where(col(FeedState.name) == name,
                                   col(FeedState.lease_holder) == holder)
    return s.execute(stmt.values(lease_until=None)).rowcount == 1


def release(s: Session, name: str, *, holder: str, hold: float | None = None) -> None:
    """After a poll: keep the lease `hold` more seconds (until this holder's next poll),
    or end it (None: `run --once`). The holder stays recorded as the last poller."""
    until = None if hold is None else clock_sql(s, hold)
    s.execute(update(FeedState).where(col(FeedState.name) == name,
                                      col(FeedState.lease_holder) == holder)
              .values(lease_until=until))


def release_all(s: Session, *, holder: str) -> int:
    """End every lease of this holder (a replica stopping): the others take its feeds
    at once instead of after the leases run out."""
    s.execute(delete(ReplicaRow).where(col(ReplicaRow.id) == holder))
    return s.execute(update(FeedState).where(col(FeedState.lease_holder) == holder)
                     .values(lease_until=None)).rowcount


def holders(s: Session) -> dict[str, tuple[str | None, bool]]:
    """Each feed's lease holder (or last poller) and whether its lease runs."""
    now = clock_sql(s)
    active = case((col(FeedState.lease_until) >= now, True), else_=False)
    rows = s.execute(select(FeedState.name, FeedState.lease_holder, active))
    return {name: (holder, bool(on)) for name, holder, on in rows}


def lease_for(every: float, timeout: float, slack: float) -> float:
    """How long a lease lasts, from a poll's start and again from its end: the interval,
    the fetch timeout and the scheduler's slack. A replica that dies hands its feeds over
    when they run out; a poll that outlasts one may meet a second poll of the feed,
    which costs work but no correctness (items are unique)."""
    return every + timeout + slack


__all__ = ["all_states", "claim", "get_state", "heartbeat", "holders", "lease_for", "mark_down",
           "mark_up", "record_failure", "record_success", "release", "release_all"]
