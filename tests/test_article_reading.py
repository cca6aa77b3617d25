"""HTML → main text: each fixture page with what its text must and must not say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.article.reading import decode, read_page

PAGES = Path(__file__).parent / "fixtures" / "articles"


def page(name: str) -> str:
    return decode((PAGES / name).read_bytes())


@pytest.mark.parametrize("name,error,says,never", [
    ("dell-ai-orders.html", None,
     ["Dell booked $24.4 billion in AI orders in the first quarter", "Gross margin of 17.8%",
      "AI backlog of $32.6 billion", "operating margin of 10.9%"],
     # navigation, ticker, ads, related stories, comments, sidebar, footer
     ["Subscribe for $1", "5,912.17", "5.9% APR", "4.5% on uninvested", "21.2%",
      "$40 billion", "$23.9 billion", "Gross margin of 25%", "$50 billion", "9.8%",
      "$27.4 billion", "All rights reserved", "Related stories", "bullbear42"]),
    ("dell-isg-margin.html", None,
     ["ISG revenue was $18.9 billion in the first quarter", "storage revenue was $4.3 billion",
      "operating margin was 10.9%", "Technologies’ Infrastructure"],
     ["63%", "68%", "$861 million", "$399", "$0.99", "29.1%", "13.0%", "$6 billion",
      "Posted by", "Tags:", "Copyright"]),
    ("paywalled.html", "paywall", [], []),
    ("video-only.html", "no main text found", [], []),
])
def test_main_text_keeps_the_story_and_drops_the_rest(name, error, says, never) -> None:
    reading = read_page(page(name), url="https://news.example/story")
    assert reading.error == error
    for text in says:
        assert text in reading.text
    for text in never:
        assert text not in reading.text, f"{text!r} is boilerplate"


def test_headline_is_not_repeated_at_the_top_of_the_text() -> None:
    for name in ("dell-ai-orders.html", "dell-isg-margin.html"):
        reading = read_page(page(name), url="https://news.example/story")
        assert not reading.text.startswith("Dell books") and "widens its lead" not in reading.text


def test_paragraphs_are_separated_like_feed_text() -> None:
    reading = read_page(page("dell-ai-orders.html"), url="https://news.example/story")
    assert reading.text.count("\n\n") == 5 and "\n\n\n" not in reading.text


@pytest.mark.parametrize("name,published,canonical", [
    ("dell-ai-orders.html", datetime(2026, 5, 28, tzinfo=UTC),
     "https://www.marketledger.example/tech/2026/05/28/dell-ai-orders-record/"),
    # JSON-LD datePublished wins over dateModified; no rel=canonical: none declared
    ("dell-isg-margin.html", datetime(2026, 5, 29, tzinfo=UTC), "https://news.example/story"),
])
def test_title_date_and_canonical_come_from_the_page(name, published, canonical) -> None:
    reading = read_page(page(name), url="https://news.example/story")
    assert reading.published == published
    assert reading.canonical == canonical
    assert reading.title.startswith("Dell")


def test_a_pdf_served_as_html_is_not_read() -> None:
    assert read_page("%PDF-1.7\n%âãÏÓ\n1 0 obj", url="https://x.example/a").error == \
        "not HTML (application/pdf)"


@pytest.mark.parametrize("body,content_type,text", [
    ("café".encode("cp1252"), "text/html; charset=windows-1252", "café"),
    ("café".encode(), "text/html; charset=utf-8", "café"),
    ("café".encode(), "text/html", "café"),  # UTF-8 by default
    (b'<meta charset="iso-8859-1"><p>caf\xe9', "text/html", "café"),
    (b"caf\xe9", "", "café"),  # not UTF-8: Windows-1252
    ("café".encode(), "text/html; charset=no-such-charset", "café"),
])
def test_decode(body, content_type, text) -> None:
    assert text in decode(body, content_type)
