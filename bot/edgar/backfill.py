"""Backfill: walk a company's past filings and store their figures, without alerting.

So that change-vs-previous-period rules work from the first day, the history a poll
would have built is filled in advance: each past 8-K earnings release (Item 2.02,
EX-99.1) and each 10-Q/10-K's XBRL figures, oldest first.

    plan(feeds, since)     the filings to walk: the submissions JSON (`filings.recent`
                           and the older pages that reach back to `since`)
    run(plan, progress)    one filing at a time through the real pipeline (the same
                           dedupe, extraction and transaction as a poll), with the
                           rules switched off: history is stored, not alerted

Filings already stored cost nothing (the item store decides), so a backfill can be
re-run or interrupted. Pipeline state for the walk is recorded under the feed name
with `.backfill` appended, never on the live feed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from bot.app import App
from bot.config import FeedConfig
from bot.edgar.feeds import Filing, parse_submissions, submission_pages
from bot.edgar.source import CompanyFactsCache, EdgarSource
from bot.pipeline import Batch, Pipeline, Unseen
from bot.store.tables import FeedState

log = logging.getLogger("marketbot.edgar")


@dataclass(frozen=True)
class Planned:
    feed: FeedConfig
    filing: Filing


@dataclass
class BackfillReport:
    filings: int = 0
    new_items: int = 0
    figures: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def edgar_feeds(app: App, names: Iterable[str] = ()) -> list[FeedConfig]:
    """The enabled EDGAR feeds, or the named ones (KeyError naming an unknown one)."""
    names = list(names)
    feeds = [f for f in app.config.feeds if f.kind == "edgar"]
    if not names:
        return [f for f in feeds if f.enabled]
    by_name = {f.name: f for f in feeds}
    for n in names:
        if n not in by_name:
            raise KeyError(n)
    return [by_name[n] for n in names]


class Backfill:
    def __init__(self, app: App, source: EdgarSource | None = None):
        self.app = app
        self.source = source or EdgarSource(app)

    # ------------------------------------------------------------ plan
    def plan(self, feeds: Iterable[FeedConfig], since: date | None = None) -> list[Planned]:
        """Every filing of the feeds' forms filed on or after `since`, oldest first."""
        self.source.require_user_agent()
        planned: dict[tuple[str, str], Planned] = {}
        for feed in feeds:
            for filing in self.filings(feed, since):
                planned.setdefault((feed.name, filing.accession), Planned(feed, filing))
        return sorted(planned.values(), key=lambda p: p.filing.published)

    def filings(self, feed: FeedConfig, since: date | None) -> list[Filing]:
        client = self.source.client
        cik = self.app.company(feed.company).cik
        body = client.get(client.data(f"/submissions/CIK{cik:010d}.json")).body
        filings, skipped = parse_submissions(body)
        for page in submission_pages(body):
            if since and page.filing_to and page.filing_to < since:
                continue  # that page ends before the backfill starts
            url = client.data(f"/submissions/{page.name}")
            older, bad = parse_submissions(client.get(url).body)
            filings += older
            skipped += bad
        if skipped:
            log.warning("edgar: %s: backfill: %d malformed submissions row(s) left out",
                        feed.name, skipped)
        return [f for f in filings if f.form in feed.forms and (since is None or f.filed >= since)]

    # ------------------------------------------------------------ run
    def run(self, plan: list[Planned],
            progress: Callable[[int], object] = lambda n: None) -> BackfillReport:
        quiet = dataclasses.replace(self.app, config=self.app.config.model_copy(
            update={"rules": ()}))  # history is stored, not alerted
        one = _OneFiling(self.source)
        pipeline = Pipeline(quiet, {"edgar": one})
        report = BackfillReport()
        for p in plan:
            one.planned = p
            result = pipeline.poll(p.feed.model_copy(update={"name": f"{p.feed.name}.backfill"}))
            report.filings += 1
            report.new_items += result.new_items
            report.figures += result.figures
            report.skipped += one.skipped
            if not result.ok or one.warning:
                report.problems.append(f"{p.filing.form} {p.filing.accession}: "
                                       f"{result.error or one.warning}")
            progress(1)
        return report


class _OneFiling:
    """A Source that hands the pipeline one planned filing per poll, sharing one
    companyfacts download per company across the whole walk."""

    def __init__(self, source: EdgarSource):
        self.source = source
        self.planned: Planned | None = None
        self.skipped, self.warning = 0, None
        self._facts: dict[int, CompanyFactsCache] = {}

    def collect(self, feed: FeedConfig, state: FeedState, unseen: Unseen) -> Batch:
        assert self.planned is not None
        live = self.planned.feed
        cik = self.source.app.company(live.company).cik
        facts = self._facts.setdefault(cik, CompanyFactsCache(self.source.client, cik))
        batch = self.source.collect_filings(live, [self.planned.filing], unseen, facts)
        self.skipped, self.warning = batch.skipped, batch.warning
        return batch
