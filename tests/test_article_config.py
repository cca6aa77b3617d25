"""The articles: block: defaults, strictness, and its one cross-field rule."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config

BASE = """\
feeds:
  - name: news
    url: https://news.example/rss
    fetch_article: true
slack:
  channel: "#alerts"
"""


def test_defaults_when_the_block_is_absent() -> None:
    config = parse_config(BASE)
    a = config.articles
    assert config.feeds[0].fetch_article
    assert (a.timeout, a.max_bytes, a.per_host, a.host_interval) == (15, 5 * 1024 * 1024, 2, 1)
    assert (a.retry_failed, a.retry_failed_max, a.allow_private_hosts) == (3600, 86400, False)


def test_fetch_article_is_off_by_default() -> None:
    assert not parse_config(BASE.replace("    fetch_article: true\n", "")).feeds[0].fetch_article


def test_a_full_block_loads() -> None:
    config = parse_config(BASE + """\
articles:
  timeout: 10s
  max_bytes: 2097152
  max_redirects: 5
  workers: 2
  per_host: 1
  host_interval: 0
  retry_failed: 30m
  retry_failed_max: 12h
  allow_private_hosts: true
""")
    a = config.articles
    assert (a.timeout, a.host_interval, a.retry_failed, a.retry_failed_max) == (10, 0, 1800, 43200)


@pytest.mark.parametrize("block,problem", [
    ("articles:\n  timout: 10s\n", "feeds.yaml:8: articles.timout: unknown key"),
    ("articles:\n  per_host: 0\n",
     "feeds.yaml:8: articles.per_host: Input should be greater than or equal to 1"),
    ("articles:\n  timeout: soon\n",
     "feeds.yaml:8: articles.timeout: must be a positive duration like 30s, 5m, 1h (got 'soon')"),
    ("articles:\n  retry_failed: 2h\n  retry_failed_max: 1h\n",
     "feeds.yaml:7: articles: retry_failed_max (1h) is shorter than retry_failed (2h)"),
])
def test_bad_articles_block_names_the_key(block, problem) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(BASE + block)
    assert problem in str(err.value)
