"""The article stage over a real loopback site: reading, caching, every way a
page can fail to be read, redirects, and the politeness rules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot import store
from bot.article import ArticleReader
from bot.config import ArticlesConfig, FeedConfig
from bot.fetcher import Fetcher, make_client
from bot.items import Item
from bot.store.tables import ArticleRow
from tests.fixtures.articles.site import HTML, STORIES, page
from tests.loopback import FeedServer, Reply

UA = "marketbot/0.1 (+https://github.com/marketbot/marketbot; feed poller)"
NEWS = FeedConfig(name="news", url="https://news.example/rss", fetch_article=True)
OTHER = FeedConfig(name="other", url="https://other.example/rss", fetch_article=True)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_reader(engine, clock):
    clients: list[httpx.Client] = []

    def make(**settings) -> ArticleReader:
        config = ArticlesConfig(**{"allow_private_hosts": True, "host_interval": 0,
                                   "timeout": 5.0, **settings})
        client = make_client(timeout=20, user_agent=UA)
        clients.append(client)
        return ArticleReader(fetcher=Fetcher(client, max_bytes=config.max_bytes),
                             engine=engine, config=config, clock=clock)

    yield make
    for c in clients:
        c.close()


def item(site: FeedServer, name: str, *, feed: str = "news", query: str = "",
         published: datetime | None = None) -> Item:
    st = STORIES[name]
    return Item(feed=feed, title=st.title, link=site.url + st.path + query,
                guid=f"{feed}-{name}", summary=st.summary, published=published)


def articles(engine) -> list[ArticleRow]:
    with store.transaction(engine) as s:
        return list(s.exec(select(ArticleRow).order_by(ArticleRow.id)))


# ---------------------------------------------------------------- reading


def test_the_item_gets_the_articles_main_text(site, make_reader) -> None:
    [got] = make_reader()(NEWS, [item(site, "ai-orders")])
    assert got.content.startswith("Dell Technologies reported a jump in demand")
    assert "Dell booked $24.4 billion in AI orders in the first quarter" in got.text
    assert "Gross margin of 17.8%" in got.text
    assert "21.2%" not in got.text and "bullbear42" not in got.text  # related box, comments
    assert got.summary == STORIES["ai-orders"].summary  # the feed's text stays
    assert got.article_url == site.url + STORIES["ai-orders"].path
    assert got.article_error is None
    page_request = site.hits(STORIES["ai-orders"].path)[0]
    assert page_request.headers["user-agent"] == UA
    assert page_request.headers["accept"].startswith("text/html")


def test_the_pages_date_is_used_only_when_the_feed_gives_none(site, make_reader) -> None:
    feed_date = datetime(2026, 5, 30, 8, 0, tzinfo=UTC)
    dated, undated = make_reader()(NEWS, [item(site, "isg", published=feed_date),
                                          item(site, "ai-orders")])
    assert dated.published == feed_date
    assert undated.published == datetime(2026, 5, 28, tzinfo=UTC)


def test_items_of_feeds_without_fetch_article_are_left_alone(site, make_reader) -> None:
    plain = FeedConfig(name="plain", url="https://x.example/rss")
    original = item(site, "ai-orders")
    assert make_reader()(plain, [original]) == [original]
    assert site.requests == []


def test_items_without_an_http_link_are_left_alone(make_reader) -> None:
    items = [Item(feed="news", title="No link"), Item(feed="news", title="x", link="mailto:a@b")]
    assert make_reader()(NEWS, items) == items


# ---------------------------------------------------------------- cache


def test_an_article_in_two_feeds_is_fetched_once(site, make_reader, engine) -> None:
    reader = make_reader()
    [a] = reader(NEWS, [item(site, "ai-orders", feed="news")])
    # The second feed's link differs only by tracking parameters and a fragment.
    [b] = reader(OTHER, [item(site, "ai-orders", feed="other",
                              query="?utm_source=other&utm_medium=rss#top")])
    assert len(site.hits(STORIES["ai-orders"].path)) == 1
    assert a.content == b.content and b.article_error is None
    assert len(articles(engine)) == 1


def test_two_feeds_polled_at_once_fetch_the_article_once(site, make_reader) -> None:
    reader = make_reader()
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda f: reader(f, [item(site, "ai-orders", feed=f.name)]),
                             [NEWS, OTHER, NEWS, OTHER]))
    assert len(site.hits(STORIES["ai-orders"].path)) == 1
    assert all(got.content.startswith("Dell Technologies reported") for [got] in done)


def test_aggregator_links_end_at_the_publisher_and_share_its_cache(site, make_reader,
                                                                  engine) -> None:
    reader = make_reader()
    direct = item(site, "ai-orders")
    via = Item(feed="gnews", title="Dell books… - Market Ledger", link=site.url + "/go/1",
               guid="agg-1")
    [d] = reader(NEWS, [direct])
    [v] = reader(OTHER, [via])
    assert v.link == site.url + "/go/1"  # the stored item keeps both URLs
    assert v.article_url == site.url + STORIES["ai-orders"].path
    assert v.content == d.content
    assert len(site.hits(STORIES["ai-orders"].path)) == 1  # the publisher's page: once
    assert [len(site.hits(p)) for p in ("/go/1", "/r/1")] == [1, 1]
    # The aggregator's link now leads to the article without a request.
    [again] = reader(OTHER, [via.with_(guid="agg-1-repost")])
    assert again.content == d.content and len(site.hits("/go/1")) == 1
    [row] = articles(engine)
    assert row.canonical_url == site.url + "/tech/2026/05/28/dell-ai-orders-record/"
    with store.transaction(engine) as s:
        urls = store.articles.urls_of(s, row.id)
    assert site.url + "/go/1" in urls and site.url + "/r/1" in urls  # utm_ dropped
    assert site.url + STORIES["ai-orders"].path in urls


def test_pages_with_the_same_canonical_url_are_one_article(site, make_reader,
                                                           engine) -> None:
    site.route("/amp/dell-ai-orders", Reply(200, page("dell-ai-orders.html", site.url),
                                              HTML))
    reader = make_reader()
    reader(NEWS, [item(site, "ai-orders")])
    [amp] = reader(OTHER, [Item(feed="other", title="AMP", link=site.url + "/amp/dell-ai-orders")])
    assert amp.article_error is None
    assert len(articles(engine)) == 1


# ---------------------------------------------------------------- unreadable

UNREADABLE = [
    ("forbidden", "HTTP 403 Forbidden"),
    ("missing", "HTTP 404 Not Found"),
    ("slow", "timed out after 2s"),
    ("pdf", "not HTML (application/pdf)"),
    ("paywall", "paywall"),
    ("video", "no main text found"),
    ("huge-late", "no main text found in the first 5,242,880 bytes (page cut at the cap)"),
    ("loop", "redirect loop ({url}/loop/a → {url}/loop/b → {url}/loop/a)"),
]


def test_what_cannot_be_read_is_recorded_and_the_rest_goes_on(site, make_reader,
                                                              engine) -> None:
    """One poll with every kind of unreadable page and one good one: each item gets
    its reason and keeps its feed text; the good article is read all the same."""
    names = [name for name, _ in UNREADABLE] + ["ai-orders"]
    feed_items = [item(site, name) for name in names]
    got = {i.guid.removeprefix("news-"): i for i in make_reader(timeout=2.0)(NEWS, feed_items)}
    for (name, reason), original in zip(UNREADABLE, feed_items):
        assert got[name].article_error == reason.format(url=site.url), name
        assert got[name].content == "" and got[name].text == original.text, name
    assert got["ai-orders"].article_error is None and got["ai-orders"].content
    failed = {r.error for r in articles(engine) if r.status == "error"}
    assert failed == {reason.format(url=site.url) for _, reason in UNREADABLE}


def test_a_10_mb_page_is_cut_at_the_cap_and_read_from_what_arrived(site, make_reader,
                                                                   engine) -> None:
    [got] = make_reader()(NEWS, [item(site, "huge")])
    assert got.article_error is None
    assert "Dell booked $24.4 billion in AI orders" in got.content
    [row] = articles(engine)
    assert row.truncated and row.status == "ok"


@pytest.mark.parametrize("location,reason", [
    ("file:///etc/passwd", "not an http(s) URL: file:/etc/passwd"),  # as httpx joins it
    ("ftp://files.example/dell.html", "not an http(s) URL: ftp://files.example/dell.html"),
])
def test_redirects_off_the_web_are_refused(site, make_reader, location, reason) -> None:
    site.route("/bounce", Reply(302, b"", {"Location": location}))
    [got] = make_reader()(NEWS, [Item(feed="news", title="x", link=site.url + "/bounce")])
    assert got.article_error == reason


def test_a_redirect_chain_is_followed_to_its_end_and_a_long_one_is_cut(site,
                                                                      make_reader) -> None:
    for n in range(3):
        site.route(f"/short/{n}", Reply(302, b"", {"Location": f"/short/{n + 1}"}))
    site.route("/short/3", Reply(301, b"", {"Location": STORIES["isg"].path}))
    for n in range(12):
        site.route(f"/long/{n}", Reply(302, b"", {"Location": f"/long/{n + 1}"}))
    site.route("/long/12", Reply(301, b"", {"Location": STORIES["ai-orders"].path}))
    reader = make_reader(max_redirects=10)
    followed, cut = reader(NEWS, [Item(feed="news", title="Short", link=site.url + "/short/0"),
                                  Item(feed="news", title="Long", link=site.url + "/long/0")])
    assert followed.article_error is None
    assert followed.link == site.url + "/short/0"
    assert followed.article_url == site.url + STORIES["isg"].path
    assert "ISG revenue was $18.9 billion" in followed.content
    assert cut.article_error == "too many redirects (more than 10)"
    assert site.hits(STORIES["ai-orders"].path) == []


def test_links_to_private_addresses_are_refused_before_any_request(site,
                                                                   make_reader) -> None:
    [got] = make_reader(allow_private_hosts=False)(NEWS, [item(site, "ai-orders")])
    assert got.article_error == "refused: 127.0.0.1 is a non-public address (127.0.0.1)"
    assert site.requests == []


# ---------------------------------------------------------------- retries


def test_a_failed_article_is_not_fetched_again_before_its_retry_time(site, make_reader,
                                                                     clock) -> None:
    reader = make_reader(retry_failed="1h", retry_failed_max="1d")
    path = STORIES["forbidden"].path
    for minutes in (0, 1, 60, 22 * 60):  # new items with the same link keep coming
        clock.now += timedelta(minutes=minutes)
        [got] = reader(NEWS, [item(site, "forbidden", feed=f"f{minutes}")])
        assert got.article_error == "HTTP 403 Forbidden"
    assert len(site.hits(path)) == 1
    clock.now += timedelta(hours=2)  # a day has passed: tried once more
    reader(NEWS, [item(site, "forbidden", feed="later")])
    assert len(site.hits(path)) == 2


def test_transient_failures_back_off_doubling_and_success_is_kept(site, make_reader,
                                                                  clock, engine) -> None:
    site.route("/flaky", Reply(503, b"busy"), Reply(500, b"boom"),
                 Reply(200, page("dell-isg-margin.html"), {"Content-Type": "text/html"}))
    reader = make_reader(retry_failed="1h", retry_failed_max="1d")
    flaky = Item(feed="news", title="Flaky", link=site.url + "/flaky")
    delays = []
    for _ in range(2):
        [got] = reader(NEWS, [flaky])
        assert got.article_error.startswith("HTTP 5")
        [row] = articles(engine)
        delays.append(row.retry_at - clock.now)
        clock.now = row.retry_at
    assert delays == [timedelta(hours=1), timedelta(hours=2)]
    [got] = reader(NEWS, [flaky])
    assert got.article_error is None and "ISG revenue" in got.content
    clock.now += timedelta(days=30)
    reader(NEWS, [flaky])
    assert len(site.hits("/flaky")) == 3  # a read article is never fetched again


def test_a_page_may_redirect_to_itself_once_to_set_a_cookie(site, make_reader) -> None:
    """Consent and cookie checks: /story → /story?check=1 → /story (cookie set)."""
    site.route("/cookie/story", Reply(302, b"", {"Location": "/cookie/check",
                                                  "Set-Cookie": "seen=1; Path=/"}),
                 Reply(200, page("dell-isg-margin.html"), {"Content-Type": "text/html"}))
    site.route("/cookie/check", Reply(302, b"", {"Location": "/cookie/story"}))
    [got] = make_reader()(NEWS, [Item(feed="news", title="x", link=site.url + "/cookie/story")])
    assert got.article_error is None and "ISG revenue" in got.content
    assert site.hits("/cookie/story")[1].headers.get("cookie") == "seen=1"
