"""Per-host politeness and per-URL single flight, with a fake clock (no real waits)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.article.limits import HostLimiter, KeyedLocks


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_request_starts_to_one_host_are_an_interval_apart() -> None:
    t = FakeTime()
    limiter = HostLimiter(per_host=4, interval=2.0, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        with limiter.slot("news.example"):
            pass
    assert t.slept == [2.0, 4.0]  # starts at 100, 102, 104 (reserved, the clock did not move)


def test_hosts_have_separate_budgets_and_time_passing_counts() -> None:
    t = FakeTime()
    limiter = HostLimiter(per_host=1, interval=5.0, clock=t.clock, sleep=t.sleep)
    with limiter.slot("aggregator.example"):
        pass
    with limiter.slot("publisher.example"):
        pass
    t.now += 3.0
    with limiter.slot("aggregator.example"):
        pass
    assert t.slept == [2.0]


def test_zero_interval_never_waits() -> None:
    t = FakeTime()
    limiter = HostLimiter(per_host=1, interval=0, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        with limiter.slot("h"):
            pass
    assert t.slept == []


def test_at_most_per_host_requests_are_in_flight_to_one_host() -> None:
    """per_host=2: pairs of threads meet inside the slot (a barrier of two), so two
    at once is possible, and the count inside never exceeds two."""
    limiter = HostLimiter(per_host=2, interval=0)
    meet = threading.Barrier(2, timeout=10)
    lock, inside, peak = threading.Lock(), [0], [0]

    def request(_):
        with limiter.slot("news.example"):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            meet.wait()
            with lock:
                inside[0] -= 1

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(request, range(6)))
    assert peak[0] == 2


def test_keyed_locks_serialise_one_key_and_forget_it_afterwards() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first():
        with locks.hold("https://a.example/x"):
            first_in.set()
            release.wait(10)
            order.append("first")

    def second():
        first_in.wait(10)
        with locks.hold("https://a.example/x"):
            order.append("second")

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        with locks.hold("https://b.example/y"):  # another key is never blocked
            pass
        first_in.wait(10)
        release.set()
        a.result(), b.result()
    assert order == ["first", "second"]
    assert len(locks) == 0
