"""The EDGAR HTTP client: SEC fair-access rules, base-URL rewriting, retries.

SEC's fair-access policy (https://www.sec.gov/os/accessing-edgar-data) asks every
automated client to
- declare itself: a User-Agent naming the operator and a contact e-mail
  ("Sample Company Name AdminContact@samplecompany.com"); undeclared clients get 403;
- stay at or under 10 requests per second, across all of its traffic; faster clients
  get 403 (not 429) and may be blocked for a while.

So: one process-wide limiter shared by every EDGAR feed, a required User-Agent, and
retries with backoff on 403, 429, 5xx and network errors (honouring Retry-After).
Every request goes to the configured bases (`edgar.www_url`, `edgar.data_url`, or
EDGAR_WWW_URL / EDGAR_DATA_URL), including links a feed or index page spells out as
https://www.sec.gov/…, so tests and mirrors see all of it.

Built on bot.fetcher.Fetcher: the size cap and error translation are the same as for
every other feed; this module adds only what EDGAR needs on top.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bot.config import Config, Env
from bot.errors import FetchError, SourceError
from bot.fetcher import Fetcher, Response

log = logging.getLogger("marketbot.edgar")

WWW_HOSTS = frozenset({"www.sec.gov", "sec.gov"})
DATA_HOSTS = frozenset({"data.sec.gov"})
CANONICAL_WWW = "https://www.sec.gov"

# companyfacts of a large filer, and a full submission text file, run to tens of MB:
# EDGAR responses get their own cap (the general http.max_bytes still applies if larger).
EDGAR_MAX_BYTES = 64 * 1024 * 1024

USER_AGENT_HELP = ("SEC requires a User-Agent naming you and a contact e-mail (SEC "
                   "fair-access policy): set edgar.user_agent in feeds.yaml or SEC_USER_AGENT, "
                   "e.g. \"Jane Trader jane@example.com\"")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class EdgarSettings:
    user_agent: str | None
    www_url: str
    data_url: str
    max_rps: float
    problem: str | None = None  # why EDGAR must not be polled (no or bad User-Agent)


def edgar_settings(config: Config, env: Env) -> EdgarSettings:
    """Config `edgar:` with the environment on top (SEC_USER_AGENT, EDGAR_WWW_URL,
    EDGAR_DATA_URL override the file, as every other setting from the environment)."""
    ua = (env.sec_user_agent or config.edgar.user_agent or "").strip() or None
    return EdgarSettings(
        user_agent=ua,
        www_url=(env.edgar_www_url or config.edgar.www_url).rstrip("/"),
        data_url=(env.edgar_data_url or config.edgar.data_url).rstrip("/"),
        max_rps=config.edgar.max_rps,
        problem=user_agent_problem(ua))


def unpollable_feeds(config: Config, env: Env) -> dict[str, str]:
    """Enabled EDGAR feeds that must not poll (no or bad User-Agent) → the reason."""
    problem = edgar_settings(config, env).problem
    return {f.name: problem for f in config.feeds
            if f.enabled and f.kind == "edgar" and problem}


def user_agent_problem(ua: str | None) -> str | None:
    """None when `ua` looks like "Name email@domain", else the message to show."""
    if not ua:
        return USER_AGENT_HELP
    email = _EMAIL.search(ua)
    name = _EMAIL.sub("", ua).strip(" <>()[],;-")
    if email is None or not re.search(r"[A-Za-z]", name):
        return (f"edgar.user_agent {ua!r} does not look like \"Name email@domain\": "
                f"{USER_AGENT_HELP}")
    return None


# ---------------------------------------------------------------- rate limiter


class Limiter(Protocol):
    """Waits for a request's slot; returns the seconds waited. RateLimiter in one process,
    bot.store.pace.SharedPace across replicas."""

    def acquire(self) -> float: ...


class RateLimiter:
    """At most `rate` request starts per second, spaced evenly, for every thread that
    shares it. Spacing is 1/rate plus `margin` (5%): requests leave evenly spaced but
    reach SEC with network jitter, and SEC counts at its end."""

    def __init__(self, rate: float, *, margin: float = 0.05,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = (1.0 + margin) / rate
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


_shared: dict[float, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(rate: float) -> RateLimiter:
    """The process-wide limiter for EDGAR (created on first use, not at import): every
    EDGAR feed and the backfill in one process draw from the same budget."""
    with _shared_lock:
        if rate not in _shared:
            _shared[rate] = RateLimiter(rate)
        return _shared[rate]


# ---------------------------------------------------------------- client


class EdgarClient:
    def __init__(self, fetcher: Fetcher, settings: EdgarSettings, *,
                 limiter: Limiter | None = None, attempts: int = 4,
                 backoff: float = 1.0, max_wait: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep):
        if settings.problem:
            raise SourceError(settings.problem, retryable=False)
        self.fetcher = fetcher
        self.settings = settings
        self.limiter = limiter or shared_limiter(settings.max_rps)
        self.attempts, self.backoff, self.max_wait = attempts, backoff, max_wait
        self._sleep = sleep

    # ------------------------------------------------------------ URLs
    def www(self, path: str) -> str:
        return self.settings.www_url + "/" + path.lstrip("/")

    def data(self, path: str) -> str:
        return self.settings.data_url + "/" + path.lstrip("/")

    def rewrite(self, url: str) -> str:
        """A URL as a feed or index page spells it (absolute on www.sec.gov or
        data.sec.gov, or relative to www) → the same resource at the configured base."""
        split = urlsplit(url)
        rest = split.path + (f"?{split.query}" if split.query else "")
        if split.username is not None or split.password is not None:
            raise FetchError(f"not an SEC URL (credentials in it): {url}", retryable=False)
        if not split.scheme and not split.netloc:
            return self.www(rest)
        host = (split.hostname or "").lower()
        if split.scheme in ("http", "https") and host in WWW_HOSTS:
            return self.www(rest)
        if split.scheme in ("http", "https") and host in DATA_HOSTS:
            return self.data(rest)
        if _origin(url) in (_origin(self.settings.www_url), _origin(self.settings.data_url)):
            return url  # already at a configured base (a mirror, a test server)
        raise FetchError(f"not an SEC URL: {url}", retryable=False)

    # ------------------------------------------------------------ requests
    def get(self, url: str) -> Response:
        """GET an SEC resource: rate-limited, declared, retried with backoff."""
        url = self.rewrite(url)
        retrying = Retrying(retry=retry_if_exception(self._should_retry), wait=self._wait,
                            stop=stop_after_attempt(self.attempts), sleep=self._sleep,
                            before_sleep=lambda state: self._log_retry(url, state),
                            reraise=True)
        try:
            return retrying(self._get_once, url)
        except FetchError as exc:
            raise _explained(exc) from exc

    def _get_once(self, url: str) -> Response:
        self.limiter.acquire()
        return self.fetcher.get(url, accept="*/*",
                                headers={"User-Agent": self.settings.user_agent or ""})

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, FetchError):
            return False
        if exc.retry_after is not None and exc.retry_after > self.max_wait:
            return False  # the feed's own backoff (which honours retry_after) takes over
        return exc.retryable or status_of(exc) == 403

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        delay = min(self.backoff * 2 ** (state.attempt_number - 1), self.max_wait)
        if isinstance(exc, FetchError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    def _log_retry(self, url: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0
        log.warning("fetch: edgar: %s: %s, retry in %gs (attempt %d of %d)", _path(url),
                    getattr(exc, "reason", exc), delay, state.attempt_number, self.attempts)


def status_of(exc: FetchError) -> int | None:
    """The HTTP status behind a FetchError, when the server answered."""
    return getattr(exc, "status", None)


def _explained(exc: FetchError) -> FetchError:
    if status_of(exc) != 403:
        return exc
    return FetchError(f"{exc.reason}: SEC refuses undeclared or too-fast clients (check "
                      "edgar.user_agent; the limit is 10 requests/s)", retryable=True,
                      retry_after=exc.retry_after, status=403)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port): compared whole, never as a string prefix, so that
    'https://www.sec.gov@evil' or 'https://www.sec.gov.evil.com' are not SEC."""
    split = urlsplit(url)
    try:
        port = split.port
    except ValueError:
        port = -1  # not a port at all: matches nothing
    default = {"http": 80, "https": 443}.get(split.scheme)
    return split.scheme, (split.hostname or "").lower(), port or default


def _path(url: str) -> str:
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


def make_fetcher(fetcher: Fetcher) -> Fetcher:
    """The app's fetcher (same httpx client and error translation) with EDGAR's cap."""
    return Fetcher(fetcher.client, max_bytes=max(fetcher.max_bytes, EDGAR_MAX_BYTES))
