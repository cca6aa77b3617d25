"""The Fetcher options article fetching uses, over a loopback server; without
them the Fetcher behaves as before (feeds: redirects followed, over-cap refused)."""

from __future__ import annotations

import pytest

from bot.errors import FetchError
from bot.fetcher import Fetcher, make_client
from tests.loopback import FeedServer, Reply

HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def server():
    with FeedServer() as s:
        s.httpd.handle_error = lambda *_: None  # we hang up mid-body on purpose (the cap)
        yield s


@pytest.fixture
def fetcher():
    client = make_client(timeout=5, user_agent="marketbot-test/1")
    yield Fetcher(client, max_bytes=1000)
    client.close()


def test_truncate_cuts_the_body_at_the_cap(server, fetcher) -> None:
    url = server.route("/big", Reply(200, b"<p>" + b"x" * 50_000, HTML))
    r = fetcher.get(url, truncate=True)
    assert (len(r.body), r.truncated) == (1000, True)
    small = fetcher.get(server.route("/small", Reply(200, b"<p>ok</p>", HTML)), truncate=True)
    assert (small.body, small.truncated) == (b"<p>ok</p>", False)


def test_without_truncate_an_over_cap_body_is_still_refused(server, fetcher) -> None:
    url = server.route("/big", Reply(200, b"x" * 50_000, HTML))
    with pytest.raises(FetchError, match="over the 1,000-byte cap"):
        fetcher.get(url)


def test_redirects_come_back_one_hop_at_a_time_when_asked(server, fetcher) -> None:
    url = server.route("/a", Reply(301, b"", {"Location": "/b?x=1"}))
    server.route("/b", Reply(200, b"<p>b</p>", HTML))
    hop = fetcher.get(url, follow_redirects=False)
    assert (hop.status, hop.location, hop.body) == (301, server.url + "/b?x=1", b"")
    followed = fetcher.get(url)
    assert followed.url == server.url + "/b?x=1" and followed.redirects == (url,)
    assert not followed.is_redirect


@pytest.mark.parametrize("ctype,ok", [
    ("text/html; charset=utf-8", True), ("application/xhtml+xml", True),
    ("", True),  # no Content-Type: the caller sniffs the body
    ("application/pdf", False), ("image/png", False), ("application/json", False),
])
def test_types_are_checked_before_the_body_is_read(server, fetcher, ctype, ok) -> None:
    url = server.route("/doc", Reply(200, b"%PDF-1.7" if not ok else b"<p>hi</p>",
                                     {"Content-Type": ctype} if ctype else {}))
    kw = {"types": ("text/html", "application/xhtml+xml"), "type_name": "HTML"}
    if ok:
        assert fetcher.get(url, **kw).status == 200
        return
    with pytest.raises(FetchError) as err:
        fetcher.get(url, **kw)
    assert err.value.reason == f"not HTML ({ctype})" and not err.value.retryable


def test_a_per_request_timeout_is_reported_with_its_own_value(server, fetcher) -> None:
    url = server.route("/slow", Reply(200, b"<p>late</p>", HTML, delay=5))
    with pytest.raises(FetchError) as err:
        fetcher.get(url, timeout=0.3)
    assert err.value.reason == "timed out after 0.3s" and err.value.retryable

