"""Article fetching in the whole pipeline: feeds over loopback, the real extractor,
the database; and `marketbot run --once` / `history` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from bot import store
from bot.app import build_app
from bot.config import Env, parse_config
from bot.delivery import Delivery
from bot.pipeline import build_pipeline
from bot.scheduler import run_once
from bot.store.tables import ArticleRow, FigureRow, ItemRow
from tests.database import url_for
from tests.fixtures.articles.site import STORIES, aggregator_rss, rss
from tests.loopback import FeedServer, Reply

ROOT = Path(__file__).parent.parent
RSS = {"Content-Type": "application/rss+xml"}

# Numbers that only the boilerplate of the fixture pages states: navigation, ticker,
# ads, related stories, trending and "you may also like" boxes, comments, sidebars.
BOILERPLATE = {21.2, 13.9e9, 40e9, 6.3e9, 23.9e9, 22.1, 39.1e9, 25.0, 35e9, 50e9, 27.4e9, 9.8,
               5.9, 4.5, 4.4e9, 68.0, 861e6, 29.1, 13.0, 6e9}
BODY = {("ai_orders", 24.4e9), ("gross_margin", 17.8), ("ai_backlog", 32.6e9),
        ("revenue", 30.2e9), ("isg_revenue", 18.9e9), ("storage_revenue", 4.3e9)}


def config_text(site: FeedServer, *, fetch: bool = True, feeds: dict[str, str]) -> str:
    lines = ["feeds:"]
    for name, path in feeds.items():
        lines += [f"  - name: {name}", f"    url: {site.url}{path}",
                  f"    fetch_article: {'true' if fetch else 'false'}"]
    lines += ['slack:', '  channel: "#dell-alerts"', "articles:",
              "  allow_private_hosts: true   # the fixture site is on 127.0.0.1",
              "  host_interval: 0", "  timeout: 2s"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def run(tmp_path):
    """Poll every feed of a config once; returns the engine."""
    apps = []

    def go(text: str):
        config = parse_config(text)
        app = build_app(config, Env(database_url=url_for(tmp_path)))
        apps.append(app)
        report = run_once(app, build_pipeline(app), Delivery(app.engine, None, config.slack,
                                                             clock=app.clock,
                                                             telemetry=app.telemetry))
        assert not report.failed, report.failed
        return app.engine

    yield go
    for app in apps:
        app.close()


def rows(engine, model, *order):
    with store.transaction(engine) as s:
        return list(s.exec(select(model).order_by(*order)))


def figure_set(engine) -> set[tuple[str, float]]:
    return {(f.metric, round(f.value, 1 if f.unit == "%" else -6))
            for f in rows(engine, FigureRow, FigureRow.id)}


def test_a_news_feed_yields_the_bodys_figures_and_none_from_the_boilerplate(site,
                                                                             run) -> None:
    site.route("/feeds/news.xml", Reply(200, rss(site, ["ai-orders", "isg"]), RSS))
    engine = run(config_text(site, feeds={"news": "/feeds/news.xml"}))
    found = figure_set(engine)
    assert found >= BODY
    assert not {v for _, v in found} & BOILERPLATE, found
    items = {i.id: i for i in rows(engine, ItemRow, ItemRow.id)}
    extracted = [f for f in rows(engine, FigureRow, FigureRow.id) if f.source_kind != "derived"]
    assert extracted
    for f in extracted:
        # Evidence spans point into the stored text, which holds the article.
        assert items[f.item_id].text[f.span_start:f.span_end] == f.evidence
    ai = next(i for i in items.values() if i.title.startswith("Dell books"))
    assert "Dell booked $24.4 billion in AI orders in the first quarter" in ai.text
    assert ai.link == ai.article_url == site.url + STORIES["ai-orders"].path
    isg = next(i for i in items.values() if "server unit" in i.title)
    assert isg.published_at is not None and isg.published_at.date().isoformat() == "2026-05-29"


def test_with_fetch_article_off_only_the_feed_text_is_read(site, run) -> None:
    site.route("/feeds/news.xml", Reply(200, rss(site, ["ai-orders", "isg"]), RSS))
    engine = run(config_text(site, fetch=False, feeds={"news": "/feeds/news.xml"}))
    assert figure_set(engine) <= {("ai_orders", 24.4e9)}  # the headline's, at most
    assert site.hits(STORIES["ai-orders"].path) == []
    assert all(i.article_url is None for i in rows(engine, ItemRow, ItemRow.id))


def test_one_article_in_two_feeds_is_fetched_once_and_both_items_keep_both_urls(site,
                                                                             run) -> None:
    site.route("/feeds/news.xml", Reply(200, rss(site, ["ai-orders"]), RSS))
    site.route("/feeds/search.xml", Reply(200, aggregator_rss(site, {"ai-orders": "/go/1"}),
                                            RSS))
    engine = run(config_text(site, feeds={"news": "/feeds/news.xml",
                                            "search": "/feeds/search.xml"}))
    assert len(site.hits(STORIES["ai-orders"].path)) == 1
    items = rows(engine, ItemRow, ItemRow.feed)
    assert [(i.feed, i.link, i.article_url) for i in items] == [
        ("news", site.url + STORIES["ai-orders"].path, site.url + STORIES["ai-orders"].path),
        ("search", site.url + "/go/1", site.url + STORIES["ai-orders"].path)]
    assert all("Dell booked $24.4 billion" in i.text for i in items)
    assert len(rows(engine, ArticleRow, ArticleRow.id)) == 1


def test_unreadable_articles_are_recorded_on_the_item_and_the_poll_goes_on(site,
                                                                           run) -> None:
    names = ["forbidden", "slow", "pdf", "huge-late", "loop", "ai-orders"]
    site.route("/feeds/news.xml", Reply(200, rss(site, names), RSS))
    # 2 s: well under the slow page's 5 s, well over a loaded CI machine's page load.
    engine = run(config_text(site, feeds={"news": "/feeds/news.xml"}))
    items = {i.title: i for i in rows(engine, ItemRow, ItemRow.id)}
    assert len(items) == len(names)
    errors = {name: items[STORIES[name].title].article_error for name in names}
    assert errors["forbidden"] == "HTTP 403 Forbidden"
    assert errors["slow"] == "timed out after 2s"
    assert errors["pdf"] == "not HTML (application/pdf)"
    assert errors["huge-late"].startswith("no main text found in the first")
    assert errors["loop"].startswith("redirect loop")
    assert errors["ai-orders"] is None
    forbidden = items[STORIES["forbidden"].title]
    assert forbidden.text == f"{STORIES['forbidden'].title}\n\n{STORIES['forbidden'].summary}"


def test_a_story_republished_under_a_new_guid_is_still_a_duplicate(site, run) -> None:
    site.route("/feeds/news.xml", Reply(200, rss(site, ["ai-orders"]), RSS),
                 Reply(200, rss(site, ["ai-orders"]).replace("<guid isPermaLink=\"false\">"
                                                               "ai-orders", "<guid "
                                                               "isPermaLink=\"false\">v2-"), RSS))
    text = config_text(site, feeds={"news": "/feeds/news.xml"})
    run(text)
    engine = run(text)
    assert len(rows(engine, ItemRow, ItemRow.id)) == 1


@pytest.mark.e2e
def test_run_once_and_history_quote_the_article(site, tmp_path) -> None:
    site.route("/feeds/search.xml", Reply(200, aggregator_rss(
        site, {"ai-orders": "/go/1", "isg": "/go/2"}), RSS))
    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(config_text(site, feeds={"search": "/feeds/search.xml"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env |= {"DATABASE_URL": url_for(tmp_path), "PYTHONPATH": str(ROOT)}

    def marketbot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    done = marketbot("run", "--once", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert "article: search: 2 read, 0 unreadable" in done.stderr
    history = marketbot("history", "--format", "json")
    assert history.returncode == 0, history.stderr
    records = json.loads(history.stdout)
    got = {(r["metric"], r["value"]) for r in records}
    assert ("ai_orders", 24.4e9) in got and ("isg_revenue", 18.9e9) in got
    orders = next(r for r in records if r["metric"] == "ai_orders")
    assert "$24.4 billion in AI orders in the first quarter" in orders["evidence"]
    assert orders["link"] == site.url + "/go/1"
