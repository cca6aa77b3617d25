"""Backfill: past filings fill figure history, without alerts, re-runnable."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot import store
from bot.edgar.backfill import Backfill, edgar_feeds
from bot.edgar.client import RateLimiter
from bot.edgar.source import EdgarSource
from bot.pipeline import Pipeline
from bot.store.tables import AlertRow, FeedState, ItemRow
from tests.edgar_server import (
    EARNINGS_8K,
    EX991_PATH,
    FACTS_PATH,
    SUBMISSIONS_PAGE_PATH,
    SUBMISSIONS_PATH,
    edgar_app,
)

RULES = """
rules:
  - {name: any-gross-margin, metric: gross_margin, below: 50}
  - {name: any-revenue, metric: revenue, above: 1}
"""


@pytest.fixture
def app(tmp_path, edgar_servers):
    www, data = edgar_servers
    app = edgar_app(tmp_path, www, data, extra=RULES)
    yield app
    app.close()


def job(app) -> Backfill:
    return Backfill(app, EdgarSource(app, limiter=RateLimiter(1000), sleep=lambda s: None))


def rows(app, model):
    with store.transaction(app.engine) as s:
        return list(s.exec(select(model)))


def test_backfill_walks_every_page_and_stores_history_without_alerts(app, edgar_servers) -> None:
    _, data = edgar_servers
    backfill = job(app)
    plan = backfill.plan(edgar_feeds(app))
    assert [p.filing.accession for p in plan][:2] == ["0001571996-24-000027",  # older page
                                                      "0001571996-24-000046"]
    assert {p.filing.form for p in plan} == {"8-K", "10-Q", "10-K"}  # no Form 4
    ticks: list[int] = []
    report = backfill.run(plan, progress=ticks.append)
    assert (report.filings, report.new_items, report.skipped, report.problems) == (8, 8, 0, [])
    assert ticks == [1] * 8
    assert rows(app, AlertRow) == []  # history is stored, not alerted
    with store.transaction(app.engine) as s:
        gm = store.figures.current(s, company="DELL", metric="gross_margin", basis="actual",
                                   period="FY2025-Q2")
        rev = store.figures.current(s, company="DELL", metric="revenue", basis="actual",
                                    period="FY2025-Q1")
    assert (gm.value, gm.source_kind) == (21.4, "xbrl")
    assert (rev.value, rev.source_kind) == (22_244_000_000, "xbrl")
    assert len(data.hits(FACTS_PATH)) == 1  # one companyfacts download for the walk
    assert len(data.hits(SUBMISSIONS_PAGE_PATH)) == 1
    # the live feed's state is untouched; the walk keeps its own
    assert {s.name for s in rows(app, FeedState)} == {"sec-dell.backfill"}
    assert {i.feed for i in rows(app, ItemRow)} == {"sec-dell"}


def test_since_skips_older_pages_and_filings(app, edgar_servers) -> None:
    _, data = edgar_servers
    plan = job(app).plan(edgar_feeds(app), since=date(2025, 1, 1))
    assert [p.filing.accession for p in plan] == [
        "0001571996-25-000011", "0001571996-25-000075", "0001571996-25-000088", EARNINGS_8K,
        "0001571996-25-000104"]
    assert data.hits(SUBMISSIONS_PAGE_PATH) == []


def test_backfill_is_rerunnable_and_polls_then_find_nothing_new(app, edgar_servers) -> None:
    www, _ = edgar_servers
    backfill = job(app)
    backfill.run(backfill.plan(edgar_feeds(app)))
    again = backfill.run(backfill.plan(edgar_feeds(app)))
    assert (again.filings, again.new_items) == (8, 0)
    assert len(www.hits(EX991_PATH)) == 1
    source = EdgarSource(app, limiter=RateLimiter(1000))
    live = Pipeline(app, {"edgar": source}).poll(edgar_feeds(app)[0])
    assert live.ok and live.new_items == 0 and live.alerts == 0


def test_backfill_needs_the_user_agent(tmp_path, edgar_servers) -> None:
    www, data = edgar_servers
    app = edgar_app(tmp_path, www, data, ua=None)
    try:
        with pytest.raises(Exception, match="SEC requires a User-Agent"):
            job(app).plan(edgar_feeds(app))
    finally:
        app.close()
    assert data.hits(SUBMISSIONS_PATH) == []


def test_edgar_feeds_by_name(app) -> None:
    assert [f.name for f in edgar_feeds(app, ["sec-dell"])] == ["sec-dell"]
    with pytest.raises(KeyError):
        edgar_feeds(app, ["nope"])
