"""Feed bytes → items: formats, hostile input, broken input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ParseError
from bot.parser import parse_feed

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def parse(name: str):
    return parse_feed((FEEDS / name).read_bytes(), feed="t")


def test_rss_item_carries_title_text_link_guid_and_date() -> None:
    (item,) = parse("seed-q1fy27.xml").items
    assert item.title.startswith("Dell's AI Server Backlog Reaches $51 Billion")
    assert item.guid == "seed-000"
    assert item.link == "https://example.com/analysis/dell-ai-server-backlog"
    assert item.published == datetime(2026, 6, 6, 14, 0, tzinfo=UTC)
    assert "alongside a $51.3B AI server backlog" in item.text
    assert "<p>" not in item.text  # HTML became text


def test_atom_content_is_text_and_scripts_are_dropped() -> None:
    first, second = parse("atom.xml").items
    assert "Dell booked $24.4 billion in AI orders." in first.text
    assert "alert(1)" not in first.text
    assert second.title == "Second & last"


@pytest.mark.parametrize("name,reason", [
    ("billion-laughs.xml", "XML entity declarations are not allowed"),
    ("external-entity.xml", "XML entity declarations are not allowed"),
    ("bomb-after-comment.xml", "XML entity declarations are not allowed"),
    ("bomb-utf16.xml", "XML entity declarations are not allowed"),
    ("malformed.xml", "malformed feed"),
    ("not-a-feed.html", "not an RSS or Atom feed"),
])
def test_unusable_documents_are_parse_errors(name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(name)


def test_entity_bomb_is_refused_without_expanding() -> None:
    with pytest.raises(ParseError) as err:
        parse("billion-laughs.xml")
    assert err.value.retryable is False
    assert "lollol" not in str(err.value)


def test_empty_body_is_an_error() -> None:
    with pytest.raises(ParseError, match="empty response body"):
        parse_feed(b"  \n", feed="t")


def test_wrong_declared_encoding_is_read_anyway() -> None:
    parsed = parse("wrong-encoding.xml")
    (item,) = parsed.items
    assert "gross margin of 18.3%" in item.title
    assert parsed.warning  # feedparser's complaint is kept for the log


def test_entries_without_text_are_skipped_and_counted() -> None:
    parsed = parse("bad-entries.xml")
    assert [i.guid for i in parsed.items] == ["ok-1"]
    assert parsed.skipped == 2


def test_items_carry_source_kind_and_company() -> None:
    parsed = parse_feed((FEEDS / "atom.xml").read_bytes(), feed="ir", source_kind="company-ir",
                        company="AAPL")
    assert {(i.feed, i.source_kind, i.company) for i in parsed.items} == {("ir", "company-ir",
                                                                           "AAPL")}


def test_dedupe_key_prefers_guid_then_link_then_hash() -> None:
    item = parse("seed-q1fy27.xml").items[0]
    assert item.dedupe_key == "guid:t:seed-000"  # a guid that is no URL: within its feed
    assert item.with_(guid="https://x.example/a/1").dedupe_key == "guid:https://x.example/a/1"
    assert item.with_(guid="urn:uuid:1225c695").dedupe_key == "guid:urn:uuid:1225c695"
    assert item.with_(guid=None).dedupe_key == (
        "link:https://example.com/analysis/dell-ai-server-backlog")
    assert item.with_(guid=None, link=None).dedupe_key.startswith("hash:")


@pytest.mark.parametrize("summary,content,expected", [
    ("Dell booked $24.4 billion.", "Dell booked $24.4 billion. More text.",
     "T\n\nDell booked $24.4 billion. More text."),
    ("Dell booked $24.4 billion in AI…", "Dell  booked $24.4 billion in AI orders.",
     "T\n\nDell  booked $24.4 billion in AI orders."),
    ("A summary.", "The article.", "T\n\nA summary.\n\nThe article."),
    ("T", "", "T"),
])
def test_item_text_reads_a_repeated_summary_once(summary, content, expected) -> None:
    from bot.items import Item
    assert Item(feed="f", title="T", summary=summary, content=content).text == expected
