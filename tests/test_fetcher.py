"""Fetching over a real loopback server: conditional GET, statuses, caps, errors."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import FetchError
from bot.fetcher import Fetcher, make_client, parse_retry_after
from tests.loopback import FeedServer, Reply


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


_clients: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _clients:
        _clients.pop().close()


def fetcher(max_bytes: int = 1_000_000, timeout: float = 5.0, **kw) -> Fetcher:
    client = make_client(timeout=timeout, user_agent="marketbot-test/1 (+tests)", **kw)
    _clients.append(client)
    return Fetcher(client, max_bytes=max_bytes)


def test_conditional_get_turns_an_unchanged_feed_into_a_304(server) -> None:
    url = server.route("/feed.xml", Reply(200, b"<rss/>", {"Content-Type": "application/rss+xml",
                                                            "Last-Modified": "Mon, 01 Jun 2026 "
                                                            "10:00:00 GMT"}, etag='"v1"'))
    f = fetcher()
    first = f.get(url)
    assert first.status == 200 and first.body == b"<rss/>" and first.etag == '"v1"'
    second = f.get(url, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    sent = server.hits("/feed.xml")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 01 Jun 2026 10:00:00 GMT"
    assert sent["user-agent"] == "marketbot-test/1 (+tests)"


@pytest.mark.parametrize("reply,reason,retryable,retry_after", [
    (Reply(404, b"nope"), "HTTP 404 Not Found", False, None),
    (Reply(403, b"no"), "HTTP 403 Forbidden", False, None),
    (Reply(500, b"boom"), "HTTP 500 Internal Server Error", True, None),
    (Reply(503, b"busy", {"Retry-After": "120"}), "HTTP 503 Service Unavailable", True, 120.0),
    (Reply(429, b"slow down", {"Retry-After": "30"}), "HTTP 429 Too Many Requests", True, 30.0),
])
def test_http_errors_carry_reason_and_retryability(server, reply, reason, retryable,
                                                   retry_after) -> None:
    url = server.route("/x", reply)
    with pytest.raises(FetchError) as err:
        fetcher().get(url)
    assert (err.value.reason, err.value.retryable, err.value.retry_after) == (
        reason, retryable, retry_after)
    assert err.value.status == int(reason.split()[1])


def test_oversize_by_content_length(server) -> None:
    url = server.route("/big", Reply(200, b"x" * 5000))
    with pytest.raises(FetchError, match="5,000 bytes is over the 1,000-byte cap"):
        fetcher(max_bytes=1000).get(url)


def test_oversize_while_streaming_without_content_length(server) -> None:
    url = server.route("/big", Reply(200, b"y" * 50_000, chunked=True))
    with pytest.raises(FetchError, match="response is over the 10,000-byte cap"):
        fetcher(max_bytes=10_000).get(url)
    assert fetcher(max_bytes=60_000).get(url).body == b"y" * 50_000


def test_gzip_bomb_stops_at_the_cap(server) -> None:
    import gzip
    bomb = gzip.compress(b"0" * 5_000_000)
    url = server.route("/gz", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match="over the 100,000-byte cap"):
        fetcher(max_bytes=100_000).get(url)


def test_timeout(server) -> None:
    url = server.route("/slow", Reply(200, b"late", delay=2.0))
    with pytest.raises(FetchError, match=r"timed out after 0.5s") as err:
        fetcher(timeout=0.5).get(url)
    assert err.value.retryable


def test_connection_refused() -> None:
    with FeedServer() as s:
        url = s.url + "/gone"
    with pytest.raises(FetchError, match="connection failed") as err:
        fetcher().get(url)
    assert err.value.retryable


def test_dns_failure_is_named() -> None:
    def fail(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
    client = make_client(timeout=1, user_agent="t", transport=httpx.MockTransport(fail))
    _clients.append(client)
    f = Fetcher(client, max_bytes=100)
    with pytest.raises(FetchError, match="DNS lookup failed"):
        f.get("https://no-such-host.invalid/feed")


def test_redirects_are_followed_and_recorded(server) -> None:
    server.route("/a", Reply(301, b"", {"Location": "/b"}))
    server.route("/b", Reply(302, b"", {"Location": "/c"}))
    server.route("/c", Reply(200, b"end"))
    resp = fetcher().get(server.url + "/a")
    assert resp.body == b"end" and resp.url.endswith("/c")
    assert [r.rsplit("/", 1)[1] for r in resp.redirects] == ["a", "b"]


def test_redirect_loop_is_stopped(server) -> None:
    server.route("/loop1", Reply(302, b"", {"Location": "/loop2"}))
    server.route("/loop2", Reply(302, b"", {"Location": "/loop1"}))
    with pytest.raises(FetchError, match="too many redirects"):
        fetcher(max_redirects=5).get(server.url + "/loop1")


def test_local_files_by_path_and_file_url(tmp_path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<rss/>")
    assert fetcher().get(str(path)).body == b"<rss/>"
    assert fetcher().get(path.as_uri()).body == b"<rss/>"
    with pytest.raises(FetchError, match="cannot read"):
        fetcher().get(str(tmp_path / "missing.xml"))
    with pytest.raises(FetchError, match="over the 3-byte cap"):
        fetcher(max_bytes=3).get(str(path))


@pytest.mark.parametrize("value,seconds", [
    ("120", 120.0), (None, None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
])
def test_retry_after(value, seconds) -> None:
    from email.utils import parsedate_to_datetime
    now = parsedate_to_datetime("Wed, 21 Oct 2015 07:27:00 GMT").timestamp()
    assert parse_retry_after(value, now=now) == seconds


# ---------------------------------------------------------------- hostile servers


def _peak_memory(fn) -> tuple[object, int]:
    """fn()'s result (or exception) and the peak of Python allocations meanwhile, in every
    thread (the HTTP loop's included)."""
    import tracemalloc
    tracemalloc.start()
    try:
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 (returned for the caller to check)
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_stacked_gzip_is_bounded_on_every_layer(server) -> None:
    # Hole 1: "Content-Encoding: gzip, gzip" — a few KB that inflate to 300 MB. Each layer
    # was inflated whole before the cap was checked; now every layer stops at the cap.
    import gzip
    import zlib
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    inner = b"".join([z.compress(block) for _ in range(300)] + [z.flush()])
    body = gzip.compress(inner, 9)
    assert len(body) < 5_000
    url = server.route("/gz2", Reply(200, body, {"Content-Encoding": "gzip, gzip"}))
    f = fetcher(max_bytes=1_000_000)
    result, peak = _peak_memory(lambda: f.get(url))
    assert isinstance(result, FetchError) and "over the 1,000,000-byte cap" in result.reason
    assert peak < 20_000_000, f"peak {peak:,} bytes"


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", lambda b: __import__("gzip").compress(b)),
    ("deflate", lambda b: __import__("zlib").compress(b)),  # zlib-wrapped, as RFC 9110 says
    ("deflate", lambda b: __import__("zlib").compress(b)[2:-4]),  # raw, as many servers send
    ("gzip, gzip", lambda b: __import__("gzip").compress(__import__("gzip").compress(b))),
    ("x-gzip", lambda b: __import__("gzip").compress(b[:5000]) + __import__("gzip").compress(
        b[5000:])),  # two gzip members (RFC 1952 §2.2)
    ("identity", lambda b: b),
])
def test_content_codings_are_decoded(server, encoding, encode) -> None:
    text = b"<rss>" + b"Dell revenue of $29.8 billion. " * 400 + b"</rss>"
    url = server.route("/enc", Reply(200, encode(text), {"Content-Encoding": encoding}))
    assert fetcher().get(url).body == text


@pytest.mark.parametrize("encoding,body,reason", [
    ("br", b"\x0b\x02\x80hello\x03", "unsupported Content-Encoding 'br'"),
    ("gzip", b"not gzip at all", "undecodable response body"),
    ("gzip, gzip, gzip, gzip", b"", "4 content codings"),
])
def test_bad_content_codings_are_refused(server, encoding, body, reason) -> None:
    url = server.route("/bad", Reply(200, body, {"Content-Encoding": encoding}))
    with pytest.raises(FetchError, match=reason) as err:
        fetcher().get(url)
    assert err.value.retryable is False


def test_a_body_cut_at_the_cap_when_asked(server) -> None:
    import gzip
    url = server.route("/page", Reply(200, gzip.compress(b"a" * 50_000),
                                      {"Content-Encoding": "gzip"}))
    resp = fetcher(max_bytes=10_000).get(url, truncate=True)
    assert resp.truncated and resp.body == b"a" * 10_000


def test_a_server_dripping_one_byte_at_a_time_hits_the_whole_request_deadline(server) -> None:
    # Hole 3: a byte every 0.4 s never trips a 1.5 s per-read timeout; the deadline for the
    # whole request does (the body would take 20 s).
    import time
    url = server.route("/drip", Reply(200, b"<rss>" + b"x" * 45 + b"</rss>", drip=0.4))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 1.5s") as err:
        fetcher(timeout=1.5).get(url)
    assert err.value.retryable
    assert time.monotonic() - started < 10  # not the 20 s the body takes


def test_a_terminal_escape_in_the_reason_phrase_is_not_repeated(server) -> None:
    # Hole 11: the reason phrase is the server's text; it reaches logs, `marketbot feeds`
    # and Slack notices through FetchError.reason.
    url = server.route("/esc", Reply(503, b"", reason="Down\x9b2J\x1b]0;owned\x07 ok"))
    with pytest.raises(FetchError) as err:
        fetcher().get(url)
    assert err.value.reason == "HTTP 503 Down2J]0;owned ok"


def test_interrupt_abandons_requests_in_flight_at_once(server) -> None:
    import threading
    import time

    from bot.errors import Interrupted
    url = server.route("/slow", Reply(200, b"late", delay=30))
    f = fetcher(timeout=60)
    threading.Timer(0.3, f.client.interrupt).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        f.get(url)
    assert time.monotonic() - started < 10
    with pytest.raises(Interrupted):  # and no new request starts
        f.get(url)
