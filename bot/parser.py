"""Feed bytes → Items (feedparser), with feed text treated as untrusted.

- Entity declarations are refused before parsing: a DOCTYPE with <!ENTITY …> is
  how "billion laughs" and external-entity attacks start, and no real feed needs
  one. The whole document is scanned (also as UTF-16/32 when it is), so neither a
  long comment before the DOCTYPE nor another encoding hides one. (expat's own
  amplification limit stays as a second line of defence.)
- A malformed entry is skipped and counted; it never loses the other entries.
- A document with no entries that feedparser flags as broken is a ParseError.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from bot.errors import ParseError
from bot.items import Item
from bot.text import html_to_text

log = logging.getLogger("marketbot.parser")

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_WIDE_ENCODINGS = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_HTML_PAGE = re.compile(rb"<!doctype html|<html[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: list[Item]
    skipped: int  # malformed entries left out
    warning: str | None  # feedparser's complaint about a document it could still read


def parse_feed(body: bytes, *, feed: str, url: str = "", content_type: str = "",
               source_kind: str = "news", company: str = "DELL") -> ParsedFeed:
    if not body.strip():
        raise ParseError("empty response body", retryable=True)
    if _declares_entities(body):
        raise ParseError("XML entity declarations are not allowed (possible XML bomb)",
                         retryable=False)
    headers = {"content-location": url} if url.startswith("http") else {}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(body, response_headers=headers)
    except Exception as exc:  # feedparser's own bugs must not stop the run
        raise ParseError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    warning = _bozo_reason(parsed) if parsed.get("bozo") else None
    if not parsed.entries:
        if _HTML_PAGE.search(body[:2048]):
            raise ParseError("not an RSS or Atom feed (got an HTML page)")
        if warning:
            raise ParseError(f"malformed feed: {warning}")
        if not parsed.get("version"):
            raise ParseError("not an RSS or Atom feed")
    items, skipped = [], 0
    for index, entry in enumerate(parsed.entries):
        try:
            item = _item(entry, feed=feed, source_kind=source_kind, company=company)
        except Exception as exc:  # noqa: BLE001 (one bad entry never loses the rest)
            log.warning("parse: %s: entry %d skipped: %s: %s", feed, index,
                        type(exc).__name__, exc)
            skipped += 1
            continue
        if item is None:
            log.warning("parse: %s: entry %d skipped: no title, link or text", feed, index)
            skipped += 1
            continue
        items.append(item)
    return ParsedFeed(html_to_text(parsed.feed.get("title", "")), items, skipped, warning)


def _declares_entities(body: bytes) -> bool:
    if _ENTITY_DECL.search(body):
        return True
    if b"\x00" not in body[:1024]:
        return False  # not a UTF-16/32 document
    return any("<!entity" in body.decode(enc, "replace").lower() for enc in _WIDE_ENCODINGS)


def _item(entry, *, feed: str, source_kind: str, company: str) -> Item | None:
    title = html_to_text(entry.get("title", ""))
    summary = html_to_text(entry.get("summary", ""))
    content = "\n\n".join(html_to_text(c.get("value", "")) for c in entry.get("content", []))
    link = (entry.get("link") or "").strip() or None
    guid = (entry.get("id") or "").strip() or None
    if not (title or summary or content):
        return None
    if summary and content.startswith(summary):
        summary = ""
    return Item(feed=feed, title=title, link=link, guid=guid, summary=summary, content=content,
                published=_published(entry), source_kind=source_kind, company=company)


def _published(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            try:
                return datetime.fromtimestamp(calendar.timegm(st), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _bozo_reason(parsed) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "unknown problem"
    text = getattr(exc, "getMessage", lambda: str(exc))()
    return f"{type(exc).__name__}: {text}".strip()
