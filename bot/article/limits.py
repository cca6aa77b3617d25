"""Politeness and single-flight for article fetching.

HostLimiter: at most `per_host` requests in flight to one host, and request
starts to one host at least `interval` apart, across every feed polled at
once (a news search feed sends all its links through one redirect host; the
publishers behind it each get their own budget).

KeyedLocks: one thread at a time per URL, so two feeds polled at once that
carry the same article download it once: the second waits, then finds it in
the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class HostLimiter:
    def __init__(self, *, per_host: int, interval: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.per_host, self.interval = per_host, interval
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            sem = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with sem:
            # Reserve a start time under the lock, wait for it outside: threads queue
            # up one interval apart instead of all waking at once.
            with self._lock:
                now = self.clock()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self.interval
            if start > now:
                self.sleep(start - now)
            yield


class KeyedLocks:
    """A lock per key, created on first use and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._lock:
            return len(self._locks)
