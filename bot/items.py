"""The Item value: one story, filing or document a source produced.

Sources (RSS feeds, EDGAR, article fetching) produce Items; the pipeline
stores them, extracts figures from `text`, and never looks at where they
came from beyond `source_kind`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.figures import Figure


@dataclass(frozen=True)
class Item:
    feed: str
    title: str
    link: str | None = None
    guid: str | None = None
    summary: str = ""  # plain text
    content: str = ""  # plain text (the article body when it was fetched)
    published: datetime | None = None  # timezone-aware UTC
    source_kind: str = "news"
    company: str = "DELL"
    html: str | None = None  # HTML whose tables the extractor should read (EDGAR exhibits)
    # Figures a source states itself, not extracted from text (XBRL facts).
    figures: tuple[Figure, ...] = ()
    # True when `figures` is all there is to read (a labeled corpus replayed as figures):
    # the text is kept for evidence and not extracted.
    stated_only: bool = False
    # Article fetching (fetch_article: true): where the link finally led, and why
    # the article could not be read when it could not.
    article_url: str | None = None
    article_error: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> str:
        """What the extractor reads: title, summary and content, without repeats (a feed
        summary that is the article's first paragraph, maybe cut with "…", is read once)."""
        title, summary, content = self.title.strip(), self.summary.strip(), self.content.strip()
        if summary and content and _norm(summary) in _norm(content):
            summary = ""
        parts = [title]
        for part in (summary, content):
            if part and not any(_norm(part) in _norm(p) for p in parts):
                parts.append(part)
        return "\n\n".join(p for p in parts if p)

    @property
    def content_hash(self) -> str:
        basis = f"{self.title.strip()}\n{self.summary.strip()}\n{self.content.strip()}"
        return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()

    @property
    def dedupe_key(self) -> str:
        """The story's identity: guid, else link, else a content hash. A guid that is a URL
        (or a URN, or a tag URI) names the story everywhere; any other guid ("1",
        "post-42", an accession number) only within its feed, so two unrelated feeds that
        both number their items from 1 keep both stories. The same story under another
        key is caught by its content hash (bot.store.items.sort_out)."""
        if self.guid:
            guid = self.guid.strip()[:500]
            return f"guid:{guid}" if _GLOBAL_ID.match(guid) else f"guid:{self.feed}:{guid}"
        if self.link:
            return "link:" + self.link.strip()[:500]
        return "hash:" + self.content_hash

    def with_(self, **changes) -> Item:
        return replace(self, **changes)


# Identifiers unique beyond their feed: URLs (RFC 3986 scheme + "//"), URNs (RFC 8141,
# e.g. urn:uuid:…) and tag URIs (RFC 4151, Atom's recommended ids).
_GLOBAL_ID = re.compile(r"(?:[a-z][a-z0-9+.\-]*://|urn:|tag:)", re.IGNORECASE)

_ELLIPSIS = ("…", "...", "[…]", "[...]", "(…)")


def _norm(text: str) -> str:
    """Whitespace- and case-insensitive form, without a trailing ellipsis."""
    text = " ".join(text.split()).lower()
    for mark in _ELLIPSIS:
        text = text.removesuffix(mark.lower()).rstrip()
    return text
