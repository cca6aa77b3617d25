"""EdgarSource through the real pipeline, over loopback stand-ins for www.sec.gov and
data.sec.gov: what is stored, what is fetched, and what is skipped."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot import store
from bot.edgar.client import RateLimiter
from bot.edgar.source import EdgarSource
from bot.pipeline import Pipeline, RssSource
from tests.edgar_server import (
    BROWSE,
    EARNINGS_8K,
    EX991_PATH,
    FACTS_PATH,
    FULL_TXT_PATH,
    HTML,
    JSON,
    PRESENTATION_8K,
    PRESENTATION_PATH,
    Q2_FY26_10Q,
    SUBMISSIONS_PATH,
    EdgarServer,
    edgar_app,
    fixture,
    index_path,
    serve_dell_data,
    serve_dell_www,
)
from tests.loopback import Reply


@dataclass
class Rig:
    tmp_path: object
    www: EdgarServer
    data: EdgarServer
    apps: list = field(default_factory=list)
    sleeps: list = field(default_factory=list)

    def pipeline(self, **kw):
        app = edgar_app(self.tmp_path, self.www, self.data, **kw)
        self.apps.append(app)
        source = EdgarSource(app, limiter=RateLimiter(1000), sleep=self.sleeps.append)
        return app, Pipeline(app, {"edgar": source, "rss": RssSource(app)})


@pytest.fixture
def rig(tmp_path) -> Iterator[Rig]:
    with EdgarServer() as www, EdgarServer() as data:
        serve_dell_www(www)
        serve_dell_data(data)
        r = Rig(tmp_path, www, data)
        yield r
        for app in r.apps:
            app.close()


def figures(app) -> list:
    with store.transaction(app.engine) as s:
        return store.figures.history(s)


def items(app) -> dict:
    from sqlmodel import select

    from bot.store.tables import ItemRow
    with store.transaction(app.engine) as s:
        return {i.guid: i for i in s.exec(select(ItemRow))}


def current(rows, metric, period, source, *, accounting=("gaap", None)):
    found = [f for f, _ in rows if f.metric == metric and f.period == period
             and f.source_kind == source and f.accounting in accounting and not f.comparative
             and f.basis == "actual"]
    assert found, f"no {metric} {period} from {source}"
    return found


def feed(app, name="sec-dell"):
    return next(f for f in app.config.feeds if f.name == name)


# ---------------------------------------------------------------- the happy path


def test_first_poll_stores_the_release_and_the_xbrl_facts(rig: Rig) -> None:
    app, pipeline = rig.pipeline()
    result = pipeline.poll(feed(app))
    assert result.ok, result.error
    stored = items(app)
    assert set(stored) == {EARNINGS_8K, PRESENTATION_8K, Q2_FY26_10Q, "0001571996-24-000062",
                           "0001571996-24-000046", "0001571996-24-000027",
                           "0001571996-25-000011"}
    assert stored[EARNINGS_8K].source_kind == "sec-filing"
    assert stored[Q2_FY26_10Q].source_kind == "xbrl"
    assert stored[EARNINGS_8K].link == (
        "https://www.sec.gov" + EX991_PATH)  # users get the canonical link

    rows = figures(app)
    revenue = current(rows, "revenue", "FY2026-Q2", "sec-filing")
    assert {f.value for f in revenue} >= {29_800_000_000}
    xbrl = {f.metric: f.value for f in current(rows, "revenue", "FY2026-Q2", "xbrl")
            + current(rows, "gross_margin", "FY2026-Q2", "xbrl")
            + current(rows, "operating_margin", "FY2026-Q2", "xbrl")}
    assert xbrl == {"revenue": 29_776_000_000, "gross_margin": 18.3, "operating_margin": 6.0}
    assert current(rows, "revenue", "FY2025-Q4", "xbrl")[0].value == 23_931_000_000

    # XBRL evidence is quoted from the item's own text (spans index into it)
    for f, item in rows:
        if f.source_kind == "xbrl":
            assert item.text[f.span_start:f.span_end] == f.evidence
    # every XBRL-sourced figure is one the facts state: nothing extracted from its text
    assert all(f.evidence.startswith("XBRL us-gaap:") for f, _ in rows if f.source_kind == "xbrl")


def test_release_tables_give_gaap_gross_margin_and_isg_margin(rig: Rig) -> None:
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    rows = figures(app)
    gm = current(rows, "gross_margin", "FY2026-Q2", "sec-filing", accounting=("gaap", None))
    assert 18.3 in {f.value for f in gm}
    isg = current(rows, "isg_operating_margin", "FY2026-Q2", "sec-filing",
                  accounting=("gaap", None))
    assert 8.8 in {f.value for f in isg}


def test_only_new_accessions_cost_requests(rig: Rig) -> None:
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).new_items == 7
    before = len(rig.www.requests) + len(rig.data.requests)
    again = pipeline.poll(feed(app))
    assert again.ok and again.new_items == 0 and again.figures == 0
    assert len(rig.www.requests) + len(rig.data.requests) - before == 3  # the 3 Atom feeds
    assert len(rig.data.hits(FACTS_PATH)) == 1 and len(rig.www.hits(EX991_PATH)) == 1


def test_item_701_presentations_are_recorded_but_never_read(rig: Rig) -> None:
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    assert rig.www.hits(PRESENTATION_PATH) == [] and rig.www.hits(index_path(PRESENTATION_8K)) == []
    rows = figures(app)
    assert not [f for f, i in rows if i.guid == PRESENTATION_8K]
    assert 99_900_000_000 not in {f.value for f, _ in rows}
    assert "Items 7.01, 9.01" in items(app)[PRESENTATION_8K].title


def test_8k_without_item_numbers_is_judged_by_its_index_page(rig: Rig) -> None:
    atom = fixture("atom-dell-8-K.xml")
    for text in (b"<items-desc>items 2.02 and 9.01</items-desc>",
                 b"<items-desc>items 7.01 and 9.01</items-desc>",
                 b"&lt;br&gt;Item 2.02: Results of Operations and Financial Condition",
                 b"&lt;br&gt;Item 7.01: Regulation FD Disclosure",
                 b"&lt;br&gt;Item 9.01: Financial Statements and Exhibits"):
        assert text in atom
        atom = atom.replace(text, b"")
    rig.www.route(f"{BROWSE}?type=8-K", Reply(200, atom, HTML))
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    assert len(rig.www.hits(index_path(EARNINGS_8K))) == 1  # read once, for both purposes
    assert len(rig.www.hits(EX991_PATH)) == 1
    assert rig.www.hits(PRESENTATION_PATH) == []  # its box says 7.01
    assert "Items 7.01, 9.01" in items(app)[PRESENTATION_8K].title


def test_prompt_atom_feed_is_read_not_the_trailing_submissions_json(rig: Rig) -> None:
    """The submissions JSON can trail a new 8-K by hours: a poll reads the Atom feeds."""
    data = json.loads(fixture("submissions-CIK0001571996.json"))
    recent = data["filings"]["recent"]
    for col in recent.values():
        del col[2]  # the earnings 8-K is not in the JSON yet
    rig.data.route(SUBMISSIONS_PATH, Reply(200, json.dumps(data), JSON))
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    assert EARNINGS_8K in items(app)
    assert rig.data.hits(SUBMISSIONS_PATH) == []
    assert {r.query["type"][0] for r in rig.www.browse_hits()} == {"8-K", "10-Q", "10-K"}
    assert {r.query["CIK"][0] for r in rig.www.browse_hits()} == {"0001571996"}


def test_atom_failure_falls_back_to_the_submissions_json(rig: Rig, caplog) -> None:
    rig.www.route(f"{BROWSE}?type=10-Q", Reply(404, "no such page", HTML))
    app, pipeline = rig.pipeline()
    with caplog.at_level(logging.WARNING, logger="marketbot"):
        assert pipeline.poll(feed(app)).ok
    assert "sec-dell: Atom filing feed failed (HTTP 404" in caplog.text
    assert len(rig.data.hits(SUBMISSIONS_PATH)) == 1
    # the older page is backfill's business, not a poll's
    assert set(items(app)) == {EARNINGS_8K, PRESENTATION_8K, "0001571996-25-000075",  # 5.07
                               Q2_FY26_10Q, "0001571996-24-000062", "0001571996-24-000046",
                               "0001571996-25-000011"}


def test_both_listings_failing_fails_the_feed(rig: Rig) -> None:
    for form in ("8-K", "10-Q", "10-K"):
        rig.www.route(f"{BROWSE}?type={form}", Reply(200, "<html>maintenance</html>", HTML))
    rig.data.route(SUBMISSIONS_PATH, Reply(200, "{", JSON))
    app, pipeline = rig.pipeline()
    result = pipeline.poll(feed(app))
    assert not result.ok
    assert "Atom filing feed: not an EDGAR Atom feed" in result.error
    assert "submissions JSON: malformed submissions JSON" in result.error


# ---------------------------------------------------------------- skipping, not stopping


@pytest.mark.parametrize("index_reply, reason", [
    (Reply(200, "<html><body><p>Internal error</p></body></html>", HTML),
     "filing index: filing index page has no document table; full submission text: HTTP 404"),
    (Reply(200, fixture(f"index-{EARNINGS_8K}.htm").replace(b">EX-99.1</td>", b">EX-99.2</td>"),
           HTML), "no EX-99.1 exhibit in the filing (document types: 8-K, EX-99.2, GRAPHIC"),
])
def test_malformed_index_or_missing_exhibit_is_logged_and_skipped(rig, caplog, index_reply,
                                                                 reason) -> None:
    rig.www.route(index_path(EARNINGS_8K), index_reply)
    rig.www.route(FULL_TXT_PATH, Reply(404, "not found", HTML))
    app, pipeline = rig.pipeline()
    with caplog.at_level(logging.WARNING, logger="marketbot"):
        result = pipeline.poll(feed(app))
    assert result.ok and result.new_items == 7  # everything else is stored
    assert Q2_FY26_10Q in items(app)
    skipped = items(app)[EARNINGS_8K]  # stored without figures, with the reason
    assert skipped.article_error.startswith(f"skipped: {reason}")
    assert f"edgar: sec-dell: 8-K {EARNINGS_8K} skipped: {reason}" in caplog.text
    assert app.telemetry.value("marketbot_items_skipped", feed="sec-dell") == 1
    hits = len(rig.www.hits(index_path(EARNINGS_8K)))
    assert pipeline.poll(feed(app)).ok
    _, restarted = rig.pipeline()  # a new process: the database remembers the skip
    assert restarted.poll(feed(app)).ok
    assert len(rig.www.hits(index_path(EARNINGS_8K))) == hits  # not fetched again


def test_missing_index_page_falls_back_to_the_full_submission_text(rig: Rig) -> None:
    rig.www.route(index_path(EARNINGS_8K), Reply(404, "not found", HTML))
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    assert len(rig.www.hits(FULL_TXT_PATH)) == 1 and rig.www.hits(EX991_PATH) == []
    rows = figures(app)
    from_txt = [f for f, i in rows if i.guid == EARNINGS_8K]
    assert [(f.metric, f.value) for f in from_txt] == [("revenue", 29_800_000_000)]


def test_429_on_the_exhibit_is_retried_after_backing_off(rig: Rig) -> None:
    rig.www.route(EX991_PATH, Reply(429, "", {"Retry-After": "2"}),
                  Reply(200, fixture("ex99-1-dell-q2fy26.htm"), HTML))
    app, pipeline = rig.pipeline()
    assert pipeline.poll(feed(app)).ok
    assert len(rig.www.hits(EX991_PATH)) == 2 and 2.0 in rig.sleeps
    assert EARNINGS_8K in items(app)


def test_persistent_server_errors_leave_the_filing_for_the_next_poll(rig: Rig, caplog) -> None:
    rig.www.route(EX991_PATH, Reply(503), Reply(503), Reply(503), Reply(503),
                  Reply(200, fixture("ex99-1-dell-q2fy26.htm"), HTML))
    app, pipeline = rig.pipeline()
    with caplog.at_level(logging.WARNING, logger="marketbot"):
        first = pipeline.poll(feed(app))
    assert first.ok and EARNINGS_8K not in items(app)
    assert "left for the next poll" in caplog.text
    second = pipeline.poll(feed(app))
    assert second.ok and EARNINGS_8K in items(app)


def test_10q_waits_for_its_xbrl_facts(rig: Rig) -> None:
    """companyfacts trails a new 10-Q: the filing is not stored (so it is retried)
    until its facts appear."""
    facts = json.loads(fixture("companyfacts-CIK0001571996.json"))
    gaap = facts["facts"]["us-gaap"]
    without = {k: {**v, "units": {"USD": [r for r in v["units"]["USD"]
                                          if r["accn"] != Q2_FY26_10Q]}}
               for k, v in gaap.items()}
    rig.data.route(FACTS_PATH, Reply(200, json.dumps({**facts, "facts": {"us-gaap": without}}),
                                     JSON), Reply(200, json.dumps(facts), JSON))
    soon_after = datetime(2025, 9, 9, 21, 0, tzinfo=UTC)
    app, pipeline = rig.pipeline(clock=lambda: soon_after)
    assert pipeline.poll(feed(app)).ok
    assert Q2_FY26_10Q not in items(app) and "0001571996-24-000046" in items(app)
    assert pipeline.poll(feed(app)).ok
    assert Q2_FY26_10Q in items(app)
    assert len(rig.data.hits(FACTS_PATH)) == 2


def test_10q_without_facts_after_a_week_is_recorded_without_figures(rig: Rig, caplog) -> None:
    facts = json.loads(fixture("companyfacts-CIK0001571996.json"))
    for concept in facts["facts"]["us-gaap"].values():
        concept["units"]["USD"] = [r for r in concept["units"]["USD"]
                                   if r["accn"] != Q2_FY26_10Q]
    rig.data.route(FACTS_PATH, Reply(200, json.dumps(facts), JSON))
    later = datetime(2025, 9, 9, tzinfo=UTC) + timedelta(days=30)
    app, pipeline = rig.pipeline(clock=lambda: later)
    with caplog.at_level(logging.WARNING, logger="marketbot"):
        assert pipeline.poll(feed(app)).ok
    assert Q2_FY26_10Q in items(app)
    assert not [f for f, i in figures(app) if i.guid == Q2_FY26_10Q]
    assert "recorded without figures" in caplog.text


# ---------------------------------------------------------------- the User-Agent rule


def test_missing_user_agent_stops_edgar_feeds_only(rig: Rig, tmp_path, caplog) -> None:
    rss = tmp_path / "news.xml"
    rss.write_text("""<?xml version="1.0"?><rss version="2.0"><channel><title>n</title>
        <item><title>Dell posts record revenue of $29.8 billion</title>
        <link>https://n.example/1</link>
        <guid>n-1</guid><pubDate>Thu, 28 Aug 2025 21:00:00 GMT</pubDate></item></channel></rss>""")
    with caplog.at_level(logging.INFO, logger="marketbot"):
        app, pipeline = rig.pipeline(ua=None, extra_feeds=f"  - {{name: news, url: '{rss}'}}")
    assert ("edgar: SEC requires a User-Agent naming you and a contact e-mail (SEC fair-access "
            "policy): set edgar.user_agent in feeds.yaml or SEC_USER_AGENT") in caplog.text
    assert "EDGAR feed(s) sec-dell will not poll" in caplog.text
    result = pipeline.poll(feed(app))
    assert not result.ok and result.error.startswith("SEC requires a User-Agent")
    assert rig.www.requests == [] and rig.data.requests == []
    assert pipeline.poll(feed(app, "news")).ok


def test_edgar_feeds_are_wired_by_default(rig: Rig) -> None:
    from bot.pipeline import default_sources
    app, _ = rig.pipeline()
    assert isinstance(default_sources(app)["edgar"], EdgarSource)
