"""What replicas share through the database, on either engine: feed state written by
many at once (no primary-key race, no lost count), feed leases on the database's clock,
and paces (Slack per channel, the EDGAR budget) that hand out one slot per interval."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot import store

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
N = 8


def together(n: int, fn):
    """Run fn(i) in n threads released at one instant; their results in order."""
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_first_failures_of_a_feed_at_once_all_count_and_one_announces(engine) -> None:
    """The first failing poll used to insert the feed's row after a read: two at once
    raised UniqueViolation on feed_state_pkey, and counts read-then-written lost updates."""
    def fail(i: int) -> tuple[int, bool]:
        with store.transaction(engine) as s:
            st = store.feeds.record_failure(s, "f", url="u", now=T0, reason=f"boom {i}",
                                            next_poll=lambda n: T0 + timedelta(minutes=n))
            return st.consecutive_failures, store.feeds.mark_down(s, "f")

    results = together(N, fail)
    assert sorted(n for n, _ in results) == list(range(1, N + 1))  # each saw its own count
    assert sum(announced for _, announced in results) == 1
    with store.transaction(engine) as s:
        st = store.feeds.get_state(s, "f")
    assert (st.consecutive_failures, st.total_failures, st.down_notified) == (N, N, True)
    assert st.next_poll_at == T0 + timedelta(minutes=N)  # the backoff of the last count


def test_successes_at_once_add_up_their_items(engine) -> None:
    def ok(i: int) -> None:
        with store.transaction(engine) as s:
            store.feeds.record_success(s, "f", url="u", now=T0, next_poll_at=T0, new_items=i)

    together(N, ok)
    with store.transaction(engine) as s:
        assert store.feeds.get_state(s, "f").items_total == sum(range(N))


def test_one_replica_at_a_time_gets_a_feeds_lease(engine) -> None:
    def claim(i: int) -> bool:
        with store.transaction(engine) as s:
            return store.feeds.claim(s, "f", holder=f"r{i}", hold=60, now=None)

    assert sum(together(N, claim)) == 1


def claim(engine, holder: str, *, hold: float = 60, now=None, name: str = "f",
          feeds: int = 1) -> bool:
    with store.transaction(engine) as s:
        return store.feeds.claim(s, name, holder=holder, hold=hold, now=now, slack=30,
                                 feeds=feeds)


def release(engine, holder: str, hold: float | None = None, name: str = "f") -> None:
    with store.transaction(engine) as s:
        store.feeds.release(s, name, holder=holder, hold=hold)


def test_a_lease_runs_on_the_database_clock_and_passes_on_when_it_runs_out(engine) -> None:
    assert claim(engine, "a")
    # b's own clock is a day ahead: the lease still runs, by the database's clock.
    assert not claim(engine, "b", now=datetime.now(UTC) + timedelta(days=1))
    assert claim(engine, "a")  # the holder renews
    assert claim(engine, "a", hold=-1)  # renewed into the past: a died, say
    assert claim(engine, "b")  # taken over
    with store.transaction(engine) as s:
        assert store.feeds.holders(s) == {"f": ("b", True)}
    release(engine, "b")  # run --once ends its lease
    with store.transaction(engine) as s:
        assert store.feeds.holders(s) == {"f": ("b", False)}  # the last poller, idle


def test_a_replica_keeps_its_feeds_between_polls_until_it_dies(engine) -> None:
    assert claim(engine, "a", now=T0)
    with store.transaction(engine) as s:
        store.feeds.record_success(s, "f", url="u", now=T0,
                                   next_poll_at=T0 + timedelta(minutes=5))
    release(engine, "a", hold=60)  # held until a's next poll
    assert not claim(engine, "b", now=T0 + timedelta(minutes=6))  # due, but a holds it
    assert claim(engine, "a", now=T0 + timedelta(minutes=1))  # a: its own schedule
    release(engine, "a", hold=-1)  # a's lease runs out (a died)
    assert claim(engine, "b", now=T0 + timedelta(minutes=6))  # b takes it over
    release(engine, "b")
    assert claim(engine, "c", now=None)  # run --once: any feed nobody is polling


def test_a_failing_feed_waits_out_its_backoff_whoever_polled_it(engine) -> None:
    assert claim(engine, "a", now=T0)
    with store.transaction(engine) as s:
        store.feeds.record_failure(s, "f", url="u", now=T0, reason="x",
                                   next_poll=lambda n: T0 + timedelta(minutes=10))
    release(engine, "a")
    assert not claim(engine, "a", now=T0 + timedelta(minutes=5))
    assert claim(engine, "b", now=T0 + timedelta(minutes=10))


def test_a_replica_that_joins_gets_its_share_of_the_feeds(engine) -> None:
    feeds = [f"f{k}" for k in range(4)]
    for name in feeds:  # a alone: it takes all four
        assert claim(engine, "a", now=T0, name=name, feeds=4)
        release(engine, "a", hold=60, name=name)
    with store.transaction(engine) as s:  # b starts: its scheduler beats
        store.feeds.heartbeat(s, "b", 60)
    assert not any(claim(engine, "b", now=T0, name=name, feeds=4) for name in feeds)
    # b is live: a's share is two, and a gives back what it holds over it.
    kept = [name for name in feeds if claim(engine, "a", now=T0, name=name, feeds=4)]
    assert len(kept) == 2
    taken = [name for name in feeds if claim(engine, "b", now=T0, name=name, feeds=4)]
    assert sorted(kept + taken) == feeds


@pytest.mark.parametrize("interval", [10.0])
def test_a_pace_hands_out_one_slot_per_interval_to_callers_at_once(engine, interval) -> None:
    """Waits 0, 10, 20… s whoever asks: the slots of N replicas never bunch up. (The
    interval is long so that the milliseconds between the calls do not matter.)"""
    waits = sorted(together(N, lambda i: store.pace.reserve(engine, "slack:#c", interval)))
    for k, wait in enumerate(waits):
        assert k * interval - 1.0 < wait <= k * interval + 0.01, waits
    assert store.pace.reserve(engine, "edgar", interval) == 0.0  # keys are independent


def test_paces_are_shared_through_postgresql_only(engine) -> None:
    shared = store.pace.shared_pace(engine, "edgar", 0.105)
    if engine.dialect.name == "postgresql":
        assert isinstance(shared, store.pace.SharedPace)
        assert store.pace.shared_pace(engine, "slack:#c", 0) is None  # pace 0: none
    else:
        assert shared is None  # one process per SQLite file: paced in process
