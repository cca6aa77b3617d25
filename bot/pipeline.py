"""One poll of one feed: collect → keep the new → extract → store + evaluate, in batches.

    source.collect()      fetch and parse (RSS/Atom) or walk filings (EDGAR)
    store.items.unseen()  the database decides what is new
    enrich()              new items only: e.g. read the linked article (bot.article,
                          feeds with fetch_article: true)
    per batch of items    (at most `batch_items`, oldest first)
      extract()           pure: text → figures (CPU, outside any transaction)
      one transaction     the batch's items and figures, and the alerts the
                          evaluation (bot.analysis) queues for what they touched:
                          a crash loses at most one batch, nothing is re-alerted
    one transaction       feed state (validators, success, next poll)

A failing source is recorded on its feed (reason, consecutive failures, next
poll with backoff) and never raises out of `poll()`: one bad feed never stops
the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import alerts as alert_rows
from bot import analysis, store
from bot.app import App
from bot.config import FeedConfig, format_duration
from bot.errors import SourceError
from bot.extract import extract, extract_html
from bot.figures import Figure
from bot.items import Item
from bot.parser import parse_feed
from bot.store.tables import FeedState, ItemRow

log = logging.getLogger("marketbot.pipeline")

# Items per write transaction: a large poll commits in batches (items, figures and the
# alerts they cause together), so it never holds SQLite's write lock for long and a
# crash loses at most one batch (its items are seen as new again by the next poll).
BATCH_ITEMS = 200
LOCKED_TRIES = 3  # write transactions tried when SQLite stays locked past its busy timeout
T = TypeVar("T")

Unseen = Callable[[list[Item]], list[Item]]


@dataclass
class Batch:
    """What a source collected in one poll."""

    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    skipped: int = 0  # malformed entries left out
    warning: str | None = None


class Source(Protocol):
    def collect(self, feed: FeedConfig, state: FeedState, unseen: Unseen) -> Batch: ...


@dataclass
class PollResult:
    feed: str
    ok: bool
    new_items: int = 0
    figures: int = 0
    alerts: int = 0
    not_modified: bool = False
    error: str | None = None
    retry_in: float | None = None


class RssSource:
    """RSS/Atom over HTTP(S), file:// or a local path, with conditional GET."""

    def __init__(self, app: App):
        self.app = app

    def collect(self, feed: FeedConfig, state: FeedState, unseen: Unseen) -> Batch:
        resp = self.app.fetcher.get(feed.url, etag=state.etag, last_modified=state.last_modified)
        if resp.not_modified:
            return Batch(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        company = self.app.company(feed.company)
        parsed = parse_feed(resp.body, feed=feed.name, url=resp.url,
                            content_type=resp.content_type, source_kind=feed.source_kind,
                            company=company.ticker)
        return Batch(parsed.items, etag=resp.etag, last_modified=resp.last_modified,
                     skipped=parsed.skipped, warning=parsed.warning)


def backoff_delay(every: float, failures: int, retry_after: float | None = None) -> float:
    """interval × 2^(failures−1), at least Retry-After, capped at interval × 12:
    a failing feed slows down but is never dropped (Miniflux's error-count rule)."""
    delay = every * 2 ** max(0, failures - 1)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, every * 12)


class Pipeline:
    def __init__(self, app: App, sources: dict[str, Source] | None = None,
                 enrich: Callable[[FeedConfig, list[Item]], list[Item]] | None = None,
                 batch_items: int = BATCH_ITEMS):
        self.app = app
        self.batch_items = batch_items
        self.sources = sources if sources is not None else default_sources(app)
        self.enrich = enrich

    # ------------------------------------------------------------ poll
    def poll(self, feed: FeedConfig) -> PollResult:
        """Poll one feed; never raises. A bug or a database error met on the way is
        recorded on the feed like any other failure (and logged with its traceback)."""
        now = self.app.clock()
        try:
            return self._poll(feed, now)
        except SourceError as exc:
            return self._failed(feed, exc, now)
        except Exception as exc:
            log.exception("poll: %s: unexpected %s", feed.name, type(exc).__name__)
            reason = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
            try:
                return self._failed(feed, SourceError(reason), now)
            except Exception:
                log.exception("poll: %s: could not record the failure", feed.name)
                return PollResult(feed.name, ok=False, error=reason)

    def _poll(self, feed: FeedConfig, now: datetime) -> PollResult:
        app = self.app
        with store.read(app.engine) as s:
            state = store.feeds.get_state(s, feed.name)
        source = self.sources.get(feed.kind)
        if source is None:
            raise SourceError(f"no source for feed kind {feed.kind!r}", retryable=False)
        batch = source.collect(feed, state, self._unseen)
        if batch.warning:
            log.warning("parse: %s: read despite: %s", feed.name, batch.warning)
        if batch.skipped:
            app.telemetry.items_skipped.labels(feed.name).inc(batch.skipped)
        with store.read(app.engine) as s:
            found = store.items.sort_out(s, batch.items)
        if found.duplicates:
            self._write(feed, lambda s: self._drop_duplicates(s, feed, found.duplicates))
        new = found.new
        if new and self.enrich is not None:
            new = self.enrich(feed, new)
        result = PollResult(feed.name, ok=True, not_modified=batch.not_modified)
        for chunk in _chunks(_oldest_first(new), self.batch_items):
            analysed = [(item, *self._analyse(item)) for item in chunk]  # CPU: no lock held
            stored = self._write(feed, lambda s, analysed=analysed: self._store(s, analysed))
            result.new_items += stored.new_items
            result.figures += stored.figures
            result.alerts += stored.alerts
        with store.transaction(app.engine) as s:
            store.feeds.record_success(
                s, feed.name, url=feed.url, now=now,
                next_poll_at=now + timedelta(seconds=feed.every), etag=batch.etag,
                last_modified=batch.last_modified, new_items=result.new_items,
                not_modified=batch.not_modified)
            if store.feeds.mark_up(s, feed.name):  # it was announced down: announce it up
                result.alerts += self._queue(s, alert_rows.feed_notice(
                    "feed_up", feed=feed.name, reason=None, failures=0, since=now,
                    channel=app.config.slack.notice_channel, now=now))
        self._count(feed, result)
        log.info("poll: %s: %s, %d new item(s), %d figure(s), %d alert(s)", feed.name,
                 "not modified" if batch.not_modified else "ok", result.new_items,
                 result.figures, result.alerts)
        return result

    def _unseen(self, items: list[Item]) -> list[Item]:
        with store.read(self.app.engine) as s:
            return store.items.unseen(s, items)

    def _write(self, feed: FeedConfig, work: Callable[[Session], T]) -> T:
        """One write transaction, tried again when SQLite's lock stayed taken past the busy
        timeout (the transaction was rolled back whole, so trying again is safe)."""
        for attempt in range(1, LOCKED_TRIES + 1):
            try:
                with store.transaction(self.app.engine) as s:
                    return work(s)
            except OperationalError as exc:
                if not store.db.is_locked(exc) or attempt == LOCKED_TRIES:
                    raise
                log.warning("store: %s: database is locked by another writer; trying the "
                            "batch again (%d/%d)", feed.name, attempt + 1, LOCKED_TRIES)
        raise AssertionError("unreachable")

    def _drop_duplicates(self, s: Session, feed: FeedConfig,
                         duplicates: list[tuple[Item, ItemRow]]) -> None:
        for item, stored in duplicates:
            log.info("items: %s: %r (%s) dropped: same content as item %d of feed %s (%r)",
                     feed.name, item.title[:80], item.dedupe_key[:120], stored.id, stored.feed,
                     stored.title[:80])
            store.items.remember_alias(s, item, stored)
        self.app.telemetry.items_duplicate.labels(feed.name).inc(len(duplicates))

    # ------------------------------------------------------------ extract
    def _analyse(self, item: Item) -> tuple[str, list[Figure]]:
        """The text figures are read from, and the figures (extracted + stated)."""
        if item.stated_only:
            return item.text, list(item.figures)
        company = self.app.company(item.company)
        published = company.local_date(item.published) if item.published else None
        try:
            if item.html:
                text, figures = extract_html(item.html, published=published,
                                             calendar=company.calendar)
                text = f"{item.title}\n\n{text}" if item.title else text
                shift = len(item.title) + 2 if item.title else 0
                figures = [_shift(f, shift) for f in figures]
            else:
                text = item.text
                figures = extract(text, published=published, calendar=company.calendar)
        except Exception:  # the extractor promises not to raise; one item never stops a poll
            log.exception("extract: %s: %s: extraction failed", item.feed, item.title[:80])
            self.app.telemetry.extract_errors.labels(item.feed).inc()
            text, figures = item.text, []
        return text, list(figures) + list(item.figures)

    # ------------------------------------------------------------ store + evaluate
    def _store(self, s: Session, analysed: list[tuple[Item, str, list[Figure]]]
               ) -> PollResult:
        """One batch: its items, their figures and the alerts they cause, together."""
        out = PollResult("", ok=True)
        ids = store.items.insert_many(s, [(item, text) for item, text, _ in analysed])
        # An item missing from ids was stored first by another poll (or feed).
        stored = [(ids[item.dedupe_key], item, figures) for item, _, figures in analysed
                  if item.dedupe_key in ids]
        rows = store.figures.insert_many(s, stored)
        out.new_items, out.figures = len(stored), len(rows)
        queued = analysis.evaluate(s, self.app.config, self.app.clock(), rows)
        for row in queued:
            self.app.telemetry.alerts.labels(row.kind).inc()
        out.alerts = len(queued)
        return out

    def _queue(self, s: Session, row) -> int:
        if store.alerts.insert(s, row) is None:
            return 0  # already alerted (same rule, metric, period, value)
        self.app.telemetry.alerts.labels(row.kind).inc()
        return 1

    # ------------------------------------------------------------ failure
    def _failed(self, feed: FeedConfig, exc: SourceError, now: datetime) -> PollResult:
        app = self.app

        def delay_after(failures: int) -> float:
            return backoff_delay(feed.every, failures, exc.retry_after)

        with store.transaction(app.engine) as s:
            st = store.feeds.record_failure(
                s, feed.name, url=feed.url, now=now, reason=exc.reason,
                next_poll=lambda failures: now + timedelta(seconds=delay_after(failures)))
            failures, delay = st.consecutive_failures, delay_after(st.consecutive_failures)
            notice_after = app.config.slack.feed_failure_notice_after
            if failures >= notice_after and store.feeds.mark_down(s, feed.name):
                self._queue(s, alert_rows.feed_notice(
                    "feed_down", feed=feed.name, reason=exc.reason,
                    failures=st.consecutive_failures, since=st.failing_since,
                    channel=app.config.slack.notice_channel, now=now))
        app.telemetry.polls.labels(feed.name, "error").inc()
        log.warning("fetch: %s: %s, retry in %s (failure %d in a row)", feed.name, exc.reason,
                    format_duration(delay), failures)
        return PollResult(feed.name, ok=False, error=exc.reason, retry_in=delay)

    def _count(self, feed: FeedConfig, result: PollResult) -> None:
        t = self.app.telemetry
        t.polls.labels(feed.name, "not_modified" if result.not_modified else "ok").inc()
        if result.new_items:
            t.items.labels(feed.name).inc(result.new_items)


def default_sources(app: App) -> dict[str, Source]:
    """The source for each feed kind."""
    from bot.edgar.source import EdgarSource  # it imports Batch from here

    sources: dict[str, Source] = {"rss": RssSource(app), "edgar": EdgarSource(app)}
    return sources


def build_pipeline(app: App) -> Pipeline:
    """The pipeline with every stage the config asks for."""
    enrich = None
    if any(f.fetch_article for f in app.config.feeds if f.enabled):
        from bot.article import ArticleReader
        enrich = ArticleReader.from_app(app)  # one per app: its host limits span all feeds
    return Pipeline(app, default_sources(app), enrich=enrich)


def _oldest_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.published is None, i.published or datetime.min))


def _chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _shift(f: Figure, by: int) -> Figure:
    return replace(f, span=(f.span[0] + by, f.span[1] + by)) if by else f


__all__ = ["Batch", "Pipeline", "PollResult", "RssSource", "Source", "backoff_delay",
           "build_pipeline"]
