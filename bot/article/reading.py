"""A fetched page → its main text, title, date and canonical URL (pure).

Main-text extraction is trafilatura's (Barbaresi, ACL 2021: the best F1 of the
open-source extractors it was compared with, and the reference choice of the
issue): navigation, ads, comment threads and related-story boxes are dropped.
We hand it a string we fetched and decoded ourselves, so it never touches the
network. Options, and why:

- favor_precision: a stray "gross margin of 21.2%" from a related-stories box
  is an alert on the wrong company; a missed sentence costs little, since the
  feed text is still read.
- include_comments=False: readers' guesses are not figures.
- include_tables=False: tables on news pages are mostly quote widgets and
  market data; filings' tables come from EDGAR, where they are read as tables.
- the date: htmldate (through trafilatura) with original_date, so "updated"
  stamps don't win, and no extensive search, so a date in a footer or a
  related link isn't taken for the article's.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura

HTML_TYPES = ("text/html", "application/xhtml+xml")
MIN_TEXT = 200  # characters: less is a caption, a teaser or a consent page
PAYWALL_TEXT = 800  # characters: a marked page with less than this is a teaser

# Publishers mark paid content for search engines with schema.org's
# isAccessibleForFree (developers.google.com/search/docs/appearance/structured-data/paywalled-content);
# the rest show a subscribe wall in a container named for it.
_PAYWALL = re.compile(
    r"""isAccessibleForFree["']?\s*[:=]\s*["']?false"""
    r"""|(?:class|id)\s*=\s*["'][^"']*\b(?:paywall|pay-wall|regwall|subscriber-only|"""
    r"""premium-content|piano-offer|meter-wall)"""
    r"""|subscribe\s+(?:now\s+)?to\s+(?:continue|keep)\s+reading"""
    r"""|to\s+continue\s+reading,?\s+(?:please\s+)?(?:subscribe|sign\s+in|log\s+in)"""
    r"""|this\s+(?:article|story|content)\s+is\s+(?:only\s+)?(?:for|available\s+to)\s+subscribers""",
    re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""",
                           re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """What a page says. `error` is set (and `text` empty) when it has no usable text."""

    text: str = ""
    title: str = ""
    published: datetime | None = None
    canonical: str | None = None  # as the page declares it (not normalised)
    error: str | None = None


def quiet_trafilatura() -> None:
    """trafilatura and htmldate log every page they find too short at WARNING/ERROR;
    our own log line says the same once, with the feed and the URL."""
    for name in ("trafilatura", "htmldate", "courlan", "justext", "readability"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def decode(body: bytes, content_type: str = "") -> str:
    """Bytes → text: the charset the server names, else the page's <meta charset>,
    else UTF-8, else Windows-1252 (what browsers assume for 'latin-1' pages)."""
    for name in (_header_charset(content_type), _meta_charset(body)):
        if name and _known(name):
            return body.decode(name, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _header_charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return None


def _meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def read_page(html: str, *, url: str) -> Reading:
    """The main text of an HTML page, or the reason there is none."""
    if html.lstrip().startswith("%PDF"):
        return Reading(error="not HTML (application/pdf)")
    doc = trafilatura.bare_extraction(
        html, url=url, favor_precision=True, include_comments=False, include_tables=False,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True})
    text = _drop_headline(_tidy(doc.text or ""), doc.title or "") if doc else ""
    title = " ".join((doc.title or "").split()) if doc else ""
    if _PAYWALL.search(html) and len(text) < PAYWALL_TEXT:
        return Reading(title=title, error="paywall")
    if len(text) < MIN_TEXT:
        return Reading(title=title, error="no main text found")
    return Reading(text=text, title=title, published=_date(doc.date), canonical=doc.url)


def _tidy(text: str) -> str:
    """One paragraph per line from trafilatura → blank-line-separated paragraphs,
    the shape feed text has (bot.text), so the extractor reads both alike."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _drop_headline(text: str, title: str) -> str:
    """trafilatura keeps the <h1>; the item's title already says it."""
    first, _, rest = text.partition("\n\n")
    if title and _plain(first) == _plain(title):
        return rest
    return text


def _plain(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split()).casefold()


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": "-"})


def _date(value: str | None) -> datetime | None:
    """htmldate gives a day ('2026-05-28'): midnight UTC of that day."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None
