"""The enrich stage: follow each new item's link, read the article, cache it.

    for each new item of a feed with fetch_article: true (concurrently, `workers`)
      hop by hop (redirects followed here, not by httpx):
        cache by normalised URL  → hit: the stored text, or the stored failure
                                   while its retry time has not come
        refuse non-public hosts  (feed links are untrusted: SSRF)
        per-host slot            (concurrency cap + minimum interval)
        GET, timeout, size cap   (cut, not refused), HTML only
      main text (reading.py) → cache under the canonical URL, mapped from every
      URL of the chain → the item gets content = main text, article_url, and the
      page's date when the feed gave none; or article_error = the reason.

Following redirects one hop at a time is what lets the cache answer for an
aggregator's second link to an article already read, rate-limit the publisher
and the aggregator separately, and name a redirect loop as one.

Nothing here raises: an unreadable article is recorded (item and cache) and the
item is processed from its feed text; a failure is not retried before its
retry time, so a broken page is never hammered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine

from bot import store
from bot.article.limits import HostLimiter, KeyedLocks
from bot.article.reading import HTML_TYPES, Reading, decode, quiet_trafilatura, read_page
from bot.article.urls import (
    Resolver,
    check_public,
    choose_canonical,
    host_of,
    normalise,
    system_resolver,
)
from bot.config import ArticlesConfig, FeedConfig, format_duration
from bot.errors import FetchError
from bot.fetcher import Fetcher, Response
from bot.items import Item
from bot.store.tables import ArticleRow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("marketbot.article")

ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


@dataclass(frozen=True)
class Article:
    """An article as the pipeline sees it: its text, or why there is none."""

    url: str  # where the link led (the final URL, or the one that failed)
    text: str = ""
    title: str = ""
    published: datetime | None = None
    error: str | None = None
    truncated: bool = False
    cached: bool = False
    retry_in: float | None = None  # seconds before a failed article is tried again


class ArticleReader:
    """`reader(feed, items) -> items`: the pipeline's enrich stage."""

    def __init__(self, *, fetcher: Fetcher, engine: Engine, config: ArticlesConfig,
                 clock: Callable[[], datetime], limiter: HostLimiter | None = None,
                 resolve: Resolver = system_resolver):
        self.fetcher, self.engine, self.cfg, self.clock = fetcher, engine, config, clock
        self.limiter = limiter or HostLimiter(per_host=config.per_host,
                                              interval=config.host_interval)
        self.resolve = resolve
        self.locks = KeyedLocks()
        quiet_trafilatura()

    @classmethod
    def from_app(cls, app: App) -> ArticleReader:
        cfg = app.config.articles
        return cls(fetcher=Fetcher(app.http, max_bytes=cfg.max_bytes), engine=app.engine,
                   config=cfg, clock=app.clock)

    # ------------------------------------------------------------ the stage
    def __call__(self, feed: FeedConfig, items: list[Item]) -> list[Item]:
        if not feed.fetch_article:
            return items
        links = list(dict.fromkeys(i.link for i in items if _fetchable(i.link)))
        if not links:
            return items
        with ThreadPoolExecutor(max_workers=min(self.cfg.workers, len(links)),
                                thread_name_prefix="article") as pool:
            read = dict(zip(links, pool.map(lambda link: self._read_safely(feed.name, link),
                                            links)))
        _summary(feed.name, list(read.values()))
        return [apply(item, read[item.link]) if item.link in read else item for item in items]

    def _read_safely(self, feed: str, link: str) -> Article:
        try:
            article = self.read(link)
        except Exception as exc:  # one article never stops a poll
            log.exception("article: %s: %s: failed", feed, link)
            return Article(url=link, error=f"internal error: {type(exc).__name__}")
        if article.error and not article.cached:
            log.warning("article: %s: %s: %s%s", feed, article.url, article.error,
                        f", not tried again for {format_duration(article.retry_in)}"
                        if article.retry_in else "")
        elif article.error:
            log.debug("article: %s: %s: %s (cached)", feed, article.url, article.error)
        elif article.truncated and not article.cached:
            log.info("article: %s: %s: cut at the %s-byte cap, read %d chars from what "
                     "arrived", feed, article.url, f"{self.cfg.max_bytes:,}", len(article.text))
        else:
            log.debug("article: %s: %s: %d chars%s", feed, article.url, len(article.text),
                      " (cached)" if article.cached else "")
        return article

    # ------------------------------------------------------------ one link
    def read(self, link: str) -> Article:
        """The article behind `link`, from the cache or the network."""
        chain: list[str] = []  # normalised URLs of the hops so far
        url = link
        for _ in range(self.cfg.max_redirects + 1):
            key = normalise(url)
            # A page may send us back to itself once, having set a cookie (consent and
            # cookie checks); a third visit is a loop.
            if chain.count(key) >= 2:
                last = len(chain) - 1 - chain[::-1].index(key)
                return self._failed(url, chain, FetchError(
                    f"redirect loop ({' → '.join(chain[last:] + [key])})", retryable=False))
            chain.append(key)
            with self.locks.hold(key):
                prior = self._lookup(key)
                if prior is not None and self._fresh(prior):
                    return self._hit(prior, chain)
                try:
                    resp = self._request(url)
                except FetchError as exc:
                    return self._failed(url, chain, exc, prior)
                if not resp.is_redirect:
                    return self._read_page(resp, chain, prior)
            assert resp.location is not None
            url = resp.location
        return self._failed(url, chain, FetchError(
            f"too many redirects (more than {self.cfg.max_redirects})", retryable=False))

    def _request(self, url: str) -> Response:
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url[:200]}", retryable=False)
        if not self.cfg.allow_private_hosts:
            check_public(url, self.resolve)
        with self.limiter.slot(host_of(url)):
            return self.fetcher.get(url, accept=ACCEPT_HTML, timeout=self.cfg.timeout,
                                    follow_redirects=False, truncate=True, types=HTML_TYPES,
                                    type_name="HTML")

    def _read_page(self, resp: Response, chain: list[str], prior: ArticleRow | None) -> Article:
        try:
            page = read_page(decode(resp.body, resp.content_type), url=resp.url)
        except Exception as exc:  # trafilatura's own bugs must not stop the poll
            log.exception("article: %s: main-text extraction raised", resp.url)
            page = Reading(error=f"main-text extraction failed ({type(exc).__name__})")
        if page.error:
            reason = page.error
            if resp.truncated:
                reason += f" in the first {self.fetcher.max_bytes:,} bytes (page cut at the cap)"
            return self._failed(resp.url, chain, FetchError(reason, retryable=False), prior,
                                content_type=resp.content_type)
        row = ArticleRow(
            canonical_url=choose_canonical(resp.url, page.canonical), final_url=resp.url,
            status="ok", title=page.title[:1000], text=page.text, published_at=page.published,
            content_type=resp.content_type or None, truncated=resp.truncated,
            fetched_at=self.clock())
        with store.transaction(self.engine) as s:
            store.articles.save(s, row, chain)
        return Article(url=resp.url, text=page.text, title=page.title,
                       published=page.published, truncated=resp.truncated)

    # ------------------------------------------------------------ cache
    def _lookup(self, key: str) -> ArticleRow | None:
        with store.transaction(self.engine) as s:
            return store.articles.find(s, [key])

    def _fresh(self, row: ArticleRow) -> bool:
        return row.status == "ok" or row.retry_at is None or row.retry_at > self.clock()

    def _hit(self, row: ArticleRow, chain: list[str]) -> Article:
        with store.transaction(self.engine) as s:
            store.articles.link(s, row.id, chain)  # this link leads there too
        return Article(url=row.final_url, text=row.text, title=row.title,
                       published=row.published_at, error=row.error, truncated=row.truncated,
                       cached=True)

    def _failed(self, url: str, chain: list[str], exc: FetchError,
                prior: ArticleRow | None = None, content_type: str = "") -> Article:
        now = self.clock()
        failures = (prior.failures if prior is not None and prior.status == "error" else 0) + 1
        delay = retry_delay(self.cfg, failures, exc)
        retry_at = now + timedelta(seconds=delay)
        row = ArticleRow(canonical_url=normalise(url), final_url=url, status="error",
                         error=exc.reason, content_type=content_type or None,
                         failures=failures, fetched_at=now, retry_at=retry_at)
        with store.transaction(self.engine) as s:
            store.articles.save(s, row, chain)
        return Article(url=url, error=exc.reason, retry_in=delay)


def retry_delay(cfg: ArticlesConfig, failures: int, exc: FetchError) -> float:
    """retry_failed × 2^(failures−1), at least Retry-After, at most retry_failed_max;
    what will not change by waiting (403, 404, not HTML, paywall) waits the most."""
    if not exc.retryable:
        return cfg.retry_failed_max
    delay = cfg.retry_failed * 2 ** max(0, failures - 1)
    if exc.retry_after:
        delay = max(delay, exc.retry_after)
    return min(delay, cfg.retry_failed_max)


def apply(item: Item, article: Article) -> Item:
    """The item with its article: content = main text (the feed summary stays in
    `summary`), or the reason the article could not be read."""
    if article.error:
        return item.with_(article_url=article.url, article_error=article.error)
    return item.with_(
        content=article.text, article_url=article.url,
        published=item.published or article.published,
        # The item keeps the content hash of its feed text: the store's cross-guid
        # dedupe compares feed texts, which the article must not change.
        meta={**item.meta, "content_hash": item.content_hash})


def _fetchable(link: str | None) -> bool:
    return bool(link) and link.startswith(("http://", "https://"))  # type: ignore[union-attr]


def _summary(feed: str, articles: list[Article]) -> None:
    failed = sum(1 for a in articles if a.error)
    cached = sum(1 for a in articles if a.cached)
    log.info("article: %s: %d read, %d unreadable, %d from cache", feed,
             len(articles) - failed, failed, cached)
