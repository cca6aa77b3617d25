"""Article URLs: the cache key, the canonical choice, and which hosts may be fetched."""

from __future__ import annotations

import pytest

from bot.article.urls import check_public, choose_canonical, normalise
from bot.errors import FetchError


@pytest.mark.parametrize("url,key", [
    ("HTTPS://WWW.Example.COM/News/Dell?id=7#comments", "https://www.example.com/News/Dell?id=7"),
    ("https://example.com/a?utm_source=rss&utm_medium=feed&id=3",
     "https://example.com/a?id=3"),
    ("https://example.com/a?fbclid=x&gclid=y&ncid=z", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com./a", "https://example.com/a"),
    # Parameters that may choose the page are kept, in their order.
    ("https://example.com/story?p=12&ref=home", "https://example.com/story?p=12&ref=home"),
    ("  https://example.com/a  ", "https://example.com/a"),
])
def test_normalise(url, key) -> None:
    assert normalise(url) == key


@pytest.mark.parametrize("final,declared,canonical", [
    ("https://m.example.com/a?utm_source=x", "https://www.example.com/a",
     "https://www.example.com/a"),
    ("https://example.com/a?utm_source=x", None, "https://example.com/a"),
    # A site that declares its home page for every article: ignored.
    ("https://example.com/a", "https://example.com/", "https://example.com/a"),
    ("https://example.com/a", "/a/amp", "https://example.com/a"),
    ("https://example.com/a", "javascript:void(0)", "https://example.com/a"),
    # Another site's article: a page may not claim it (cache poisoning).
    ("https://evil.example.net/x", "https://www.reuters.com/dell-q1", "https://evil.example.net/x"),
    ("https://news.example.co.uk/a", "https://www.example.co.uk/a", "https://www.example.co.uk/a"),
    ("https://news.other.co.uk/a", "https://www.example.co.uk/a", "https://news.other.co.uk/a"),
])
def test_choose_canonical(final, declared, canonical) -> None:
    assert choose_canonical(final, declared) == canonical


@pytest.mark.parametrize("url,addresses,refused", [
    ("http://127.0.0.1:8080/a", None, "127.0.0.1"),
    ("http://[::1]/a", None, "::1"),
    ("http://169.254.169.254/latest/meta-data/", None, "169.254.169.254"),
    ("http://10.1.2.3/a", None, "10.1.2.3"),
    ("https://intranet.corp/a", ["192.168.1.20"], "192.168.1.20"),
    ("https://news.example/a", ["93.184.215.14", "10.0.0.1"], "10.0.0.1"),
    ("https://news.example/a", ["93.184.215.14"], None),
])
def test_links_to_non_public_hosts_are_refused(url, addresses, refused) -> None:
    def resolve(host):
        assert addresses is not None, "an IP literal needs no DNS lookup"
        return addresses

    if refused is None:
        check_public(url, resolve)
        return
    with pytest.raises(FetchError) as err:
        check_public(url, resolve)
    assert err.value.reason.startswith("refused: ") and refused in err.value.reason
    assert not err.value.retryable
