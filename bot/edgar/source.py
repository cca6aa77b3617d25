"""EdgarSource: the pipeline's Source for feeds of kind `edgar`.

One poll:
    list filings      the company's Atom filing feed, one per form type (prompt; the
                      submissions JSON can trail a new 8-K by hours and is only the
                      fallback when the Atom feed fails)
    keep the new      the pipeline's `unseen` callback: only accessions not stored yet
                      cost any further request
    one Item each     guid = accession number, so the item store dedupes filings
      8-K, Item 2.02  filing index → the EX-99.1 exhibit (the earnings release) → its
                      HTML as `item.html`, source `sec-filing` (the pipeline extracts it)
      8-K otherwise   recorded, nothing fetched: EX-99 exhibits of Item 7.01-only
                      filings are presentations, not the earnings release
      10-Q, 10-K      companyfacts → revenue, gross and operating margin for the
                      filing's fiscal period as `item.figures`, source `xbrl`

A malformed index or a missing exhibit is logged with the feed and accession and the
filing is skipped: stored without figures, with the reason, so that no later poll
or restarted process fetches it again; the poll still succeeds. A transient failure (still failing after the client's retries) ends
the walk: what was built is kept, the rest is retried on the next poll.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from bot import store
from bot.app import App
from bot.config import CompanyConfig, FeedConfig
from bot.edgar import xbrl
from bot.edgar.client import (
    CANONICAL_WWW,
    EdgarClient,
    EdgarSettings,
    RateLimiter,
    edgar_settings,
    make_fetcher,
)
from bot.edgar.feeds import (
    Document,
    Filing,
    parse_atom,
    parse_full_submission,
    parse_index_htm,
    parse_index_items,
    parse_submissions,
)
from bot.errors import ParseError, SourceError
from bot.items import Item
from bot.pipeline import Batch, Unseen
from bot.store.tables import FeedState

log = logging.getLogger("marketbot.edgar")

EARNINGS_ITEM = "2.02"  # Results of Operations and Financial Condition
PRESS_RELEASE_TYPES = ("EX-99.1", "EX-99.01", "EX-99")
XBRL_FORMS = ("10-Q", "10-K")
# companyfacts is updated after a 10-Q/10-K is accepted; until then wait for it, but
# not for ever (an amendment may carry no financial statements).
XBRL_PATIENCE = timedelta(days=7)


class EdgarSource:
    def __init__(self, app: App, *, limiter: RateLimiter | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.app = app
        self.settings: EdgarSettings = edgar_settings(app.config, app.env)
        self._limiter, self._sleep = limiter, sleep
        self._client: EdgarClient | None = None
        self._lock = threading.Lock()
        self._bad: set[tuple[str, str]] = set()  # (feed, accession) skipped for good
        feeds = [f.name for f in app.config.feeds if f.kind == "edgar" and f.enabled]
        if self.settings.problem and feeds:
            log.error("edgar: %s; EDGAR feed(s) %s will not poll", self.settings.problem,
                      ", ".join(feeds))

    def require_user_agent(self) -> None:
        """SEC fair-access policy: no declared User-Agent, no EDGAR request."""
        if self.settings.problem:
            raise SourceError(self.settings.problem, retryable=False)

    @property
    def client(self) -> EdgarClient:
        self.require_user_agent()
        with self._lock:
            if self._client is None:
                # Replicas on PostgreSQL share SEC's budget through the database: SEC
                # counts requests per client, not per process.
                limiter = self._limiter or store.pace.shared_pace(
                    self.app.engine, "edgar", RateLimiter(self.settings.max_rps).interval,
                    sleep=self._sleep)
                self._client = EdgarClient(make_fetcher(self.app.fetcher), self.settings,
                                           limiter=limiter, sleep=self._sleep)
            return self._client

    # ------------------------------------------------------------ Source protocol
    def collect(self, feed: FeedConfig, state: FeedState, unseen: Unseen) -> Batch:
        self.require_user_agent()  # before any request
        company = self.app.company(feed.company)
        filings, skipped = self.list_filings(feed, company)
        batch = self.collect_filings(feed, filings, unseen)
        batch.skipped += skipped
        return batch

    def collect_filings(self, feed: FeedConfig, filings: Iterable[Filing], unseen: Unseen,
                        facts: CompanyFactsCache | None = None) -> Batch:
        """Items for the filings not stored yet (`unseen` decides)."""
        company = self.app.company(feed.company)
        filings = sorted(filings, key=lambda f: f.published)
        fresh = {i.guid for i in unseen([_stub(feed, company, f) for f in filings])}
        todo = [f for f in filings if f.accession in fresh and not self._is_bad(feed, f)]
        facts = facts or CompanyFactsCache(self.client, company.cik)
        batch = Batch()
        for n, filing in enumerate(todo):
            try:
                item = self.filing_item(feed, company, filing, facts)
            except SourceError as exc:
                if exc.retryable:
                    batch.warning = (f"{filing.form} {filing.accession}: {exc.reason}; "
                                     f"{len(todo) - n} filing(s) left for the next poll")
                    log.warning("edgar: %s: %s", feed.name, batch.warning)
                    break
                log.warning("edgar: %s: %s %s skipped: %s", feed.name, filing.form,
                            filing.accession, exc.reason)
                self._mark_bad(feed, filing)
                batch.skipped += 1
                # Stored without figures, with the reason, so that no later poll (or a
                # restarted process) fetches and logs it again.
                item = _item(feed, company, filing, "skipped").with_(
                    article_error=f"skipped: {exc.reason}")
            if item is not None:
                batch.items.append(item)
        return batch

    # ------------------------------------------------------------ listing
    def list_filings(self, feed: FeedConfig, company: CompanyConfig) -> tuple[list[Filing], int]:
        """(filings of the feed's forms, entries skipped): Atom first, submissions JSON
        if the Atom feed fails."""
        try:
            return self.atom_filings(feed, company)
        except SourceError as exc:
            log.warning("edgar: %s: Atom filing feed failed (%s); reading the submissions "
                        "JSON instead", feed.name, exc.reason)
            try:
                return self.submission_filings(feed, company)
            except SourceError as exc2:
                raise type(exc2)(f"Atom filing feed: {exc.reason}; submissions JSON: "
                                 f"{exc2.reason}", retryable=exc.retryable or exc2.retryable,
                                 retry_after=exc2.retry_after or exc.retry_after) from exc2

    def atom_filings(self, feed: FeedConfig, company: CompanyConfig) -> tuple[list[Filing], int]:
        client, found, skipped = self.client, {}, 0
        for form in feed.forms:
            body = client.get(client.www(
                f"/cgi-bin/browse-edgar?action=getcompany&CIK={company.cik:010d}"
                f"&type={quote(form)}&dateb=&owner=include&count=40&output=atom")).body
            filings, bad = parse_atom(body)
            skipped += bad
            for f in filings:  # type= is a prefix match (8-K also lists 8-K/A)
                if f.form in feed.forms:
                    found.setdefault(f.accession, f)
        return list(found.values()), skipped

    def submission_filings(self, feed: FeedConfig,
                           company: CompanyConfig) -> tuple[list[Filing], int]:
        client = self.client
        body = client.get(client.data(f"/submissions/CIK{company.cik:010d}.json")).body
        filings, skipped = parse_submissions(body)
        return [f for f in filings if f.form in feed.forms], skipped

    # ------------------------------------------------------------ one filing
    def filing_item(self, feed: FeedConfig, company: CompanyConfig, filing: Filing,
                    facts: CompanyFactsCache) -> Item | None:
        """The Item for one filing; None when it is not ready yet (XBRL not published)."""
        if filing.form.startswith(XBRL_FORMS):
            return self.xbrl_item(feed, company, filing, facts)
        if not filing.form.startswith("8-K"):
            return _item(feed, company, filing, "recorded, not read")
        page = None
        if not filing.items:  # the listing did not say: the index page's "Items" box does
            page = self._index_page(company, filing)
            filing = replace(filing, items=parse_index_items(page) if page else ())
        if EARNINGS_ITEM in filing.items:
            return self.earnings_item(feed, company, filing, page)
        what = f"Items {', '.join(filing.items)}" if filing.items else "no items listed"
        return _item(feed, company, filing, f"{what}; not an earnings release, exhibits "
                     "not read")

    def earnings_item(self, feed: FeedConfig, company: CompanyConfig, filing: Filing,
                      page: bytes | None = None) -> Item:
        docs = self.documents(company, filing, page)
        exhibit = press_release(docs)
        html = _html(exhibit.content) if exhibit.content is not None else self._fetch_text(
            exhibit.href or _archive(company, filing, exhibit.name))
        base = _item(feed, company, filing, "results of operations and financial condition, "
                     f"press release {exhibit.name}")
        return base.with_(html=html, link=CANONICAL_WWW + _archive(company, filing, exhibit.name))

    def documents(self, company: CompanyConfig, filing: Filing,
                  page: bytes | None = None) -> list[Document]:
        """The filing's documents with their types: the `-index.htm` page, or the full
        submission text when that page is missing or unreadable (index.json would
        name the files but not say which one is EX-99.1)."""
        client = self.client
        try:
            return parse_index_htm(page or self._index_page(company, filing, missing_ok=False))
        except SourceError as exc:
            if exc.retryable:
                raise
            first = exc.reason
        log.info("edgar: %s: index page unusable (%s); reading the full submission text",
                 filing.accession, first)
        try:
            full = client.get(client.www(_archive(company, filing, f"{filing.accession}.txt")))
            return parse_full_submission(full.body)
        except SourceError as exc:
            if exc.retryable:
                raise
            raise ParseError(f"filing index: {first}; full submission text: {exc.reason}",
                             retryable=False) from exc

    def xbrl_item(self, feed: FeedConfig, company: CompanyConfig, filing: Filing,
                  facts: CompanyFactsCache) -> Item | None:
        result = xbrl.filing_figures(facts.get(), filing.accession, filing.form,
                                     company.calendar)
        if result.period is None:
            if self.app.clock() - filing.published < XBRL_PATIENCE:
                log.info("edgar: %s: %s %s: XBRL facts not in companyfacts yet; next poll",
                         feed.name, filing.form, filing.accession)
                return None
            log.warning("edgar: %s: %s %s: %s; recorded without figures", feed.name,
                        filing.form, filing.accession, result.note)
            return _item(feed, company, filing, "no XBRL financial data").with_(
                source_kind="xbrl")
        if result.note:
            log.info("edgar: %s: %s %s: %s", feed.name, filing.form, filing.accession,
                     result.note)
        evidence = list(dict.fromkeys(f.evidence for f in result.figures))
        item = _item(feed, company, filing, f"XBRL financial data for {result.period}",
                     summary="\n".join(evidence)).with_(source_kind="xbrl")
        text = item.text
        return item.with_(figures=tuple(
            replace(f, span=(text.index(f.evidence), text.index(f.evidence) + len(f.evidence)))
            for f in result.figures))

    # ------------------------------------------------------------ helpers
    def _index_page(self, company: CompanyConfig, filing: Filing, *,
                    missing_ok: bool = True) -> bytes | None:
        url = self.client.www(_archive(company, filing, f"{filing.accession}-index.htm"))
        try:
            return self.client.get(url).body
        except SourceError as exc:
            if exc.retryable or not missing_ok:
                raise
            return None

    def _fetch_text(self, url: str) -> str:
        return _decode(self.client.get(url).body)

    def _is_bad(self, feed: FeedConfig, filing: Filing) -> bool:
        with self._lock:
            return (feed.name, filing.accession) in self._bad

    def _mark_bad(self, feed: FeedConfig, filing: Filing) -> None:
        with self._lock:
            self._bad.add((feed.name, filing.accession))


class CompanyFactsCache:
    """companyfacts, fetched at most once per poll (or per backfill), and only when a
    new 10-Q/10-K needs it."""

    def __init__(self, client: EdgarClient, cik: int):
        self.client, self.cik = client, cik
        self._facts: xbrl.CompanyFacts | None = None

    def get(self) -> xbrl.CompanyFacts:
        if self._facts is None:
            url = self.client.data(f"/api/xbrl/companyfacts/CIK{self.cik:010d}.json")
            self._facts = xbrl.parse_companyfacts(self.client.get(url).body)
        return self._facts


def press_release(docs: list[Document]) -> Document:
    """The earnings press release: the EX-99.1 document (EX-99 or EX-99.01 as some
    filers type it), HTML or text."""
    for wanted in PRESS_RELEASE_TYPES:
        for d in docs:
            if (d.type or "").upper() == wanted and d.name.lower().endswith(
                    (".htm", ".html", ".txt")):
                return d
    types = ", ".join(dict.fromkeys(d.type or "?" for d in docs)) or "none"
    raise ParseError(f"no EX-99.1 exhibit in the filing (document types: {types})",
                     retryable=False)


def _archive(company: CompanyConfig, filing: Filing, name: str) -> str:
    return f"/Archives/edgar/data/{company.cik}/{filing.folder}/{name}"


def _stub(feed: FeedConfig, company: CompanyConfig, filing: Filing) -> Item:
    """Enough of an Item for `unseen` to decide: the accession is the guid."""
    return Item(feed=feed.name, title=f"{filing.form} {filing.accession}",
                guid=filing.accession, company=company.ticker)


def _item(feed: FeedConfig, company: CompanyConfig, filing: Filing, what: str,
          summary: str = "") -> Item:
    return Item(feed=feed.name, guid=filing.accession,
                title=f"{company.name} {filing.form} {filing.accession}: {what}",
                link=CANONICAL_WWW + _archive(company, filing, f"{filing.accession}-index.htm"),
                summary=summary, published=filing.published, source_kind=feed.source_kind,
                company=company.ticker, meta={"form": filing.form, "items": filing.items})


def _decode(body: bytes) -> str:
    # EDGAR documents are mostly ASCII with entities; older ones windows-1252.
    try:
        return _html(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _html(body.decode("cp1252", "replace"))


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def _html(text: str) -> str:
    """Inline-XBRL era exhibits start with <?xml … encoding='ASCII'?>: once decoded to
    str the declaration is meaningless, and lxml refuses a str that carries one."""
    return _XML_DECLARATION.sub("", text, count=1)
