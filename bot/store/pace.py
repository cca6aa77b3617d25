"""Shared paces: a rate limit that holds for every replica on one database.

Each key (`slack:#channel`, `edgar`) has a row with the earliest start of its next
request on the database's clock. Taking a slot is one atomic UPDATE that moves it on by
the interval: `slot = max(next_at, now); next_at = slot + interval`, so N replicas
asking at once get N slots one interval apart, whatever their own clocks say (the same
reservation the in-process limiters make: bot.edgar.client.RateLimiter).

Used on PostgreSQL, where replicas share the work. On SQLite a single process owns the
file in practice and a write per request would queue behind the poll's write lock, so
the in-process limiters stand alone there (`shared_pace` returns None).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, func, update
from sqlmodel import col

from bot.store.db import epoch_sql, insert_or_nothing, transaction
from bot.store.tables import PaceRow


def reserve(engine: Engine, key: str, interval: float) -> float:
    """Take the next slot of `key`; returns the seconds to wait before it starts."""
    with transaction(engine) as s:
        insert_or_nothing(s, PaceRow, {"key": key, "next_at": 0.0})
        now = epoch_sql(s)
        later = func.greatest if engine.dialect.name == "postgresql" else func.max
        stmt = (update(PaceRow).where(col(PaceRow.key) == key)
                .values(next_at=later(PaceRow.next_at, now) + interval)
                .returning(PaceRow.next_at - interval - now))
        return max(0.0, float(s.execute(stmt).scalar_one()))


class SharedPace:
    """At most one start per `interval` seconds for `key`, across every process on the
    database. `acquire()` waits for this caller's slot and returns the seconds waited,
    like bot.edgar.client.RateLimiter."""

    def __init__(self, engine: Engine, key: str, interval: float, *,
                 sleep: Callable[[float], None] = time.sleep):
        self.engine, self.key, self.interval, self._sleep = engine, key, interval, sleep

    def acquire(self) -> float:
        wait = reserve(self.engine, self.key, self.interval)
        if wait > 0:
            self._sleep(wait)
        return wait


def shared_pace(engine: Engine, key: str, interval: float, *,
                sleep: Callable[[float], None] = time.sleep) -> SharedPace | None:
    """A SharedPace on PostgreSQL; None on SQLite (the caller paces in process)."""
    if engine.dialect.name != "postgresql" or interval <= 0:
        return None
    return SharedPace(engine, key, interval, sleep=sleep)
