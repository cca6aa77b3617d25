"""HTML → plain text for feed summaries and content (untrusted markup).

lxml's HTML parser neither fetches nor expands external entities; scripts and
styles are dropped, block elements become line breaks so that sentences from
separate paragraphs or table cells never run together.
"""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

_BLOCK = frozenset(
    "p div br li ul ol tr table h1 h2 h3 h4 h5 h6 section article header footer blockquote "
    "pre dd dt dl figcaption hr".split()
)
_CELL = frozenset(("td", "th"))
_DROP = frozenset(("script", "style", "noscript", "template", "iframe", "object"))
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")
_BLANKS = re.compile(r"\n\s*\n\s*(\n\s*)+")
_TAGGY = re.compile(r"<[a-zA-Z/!]")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment; plain text passes through unchanged."""
    if not markup or not _TAGGY.search(markup):
        return _tidy(html.unescape(markup or ""))
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _tidy(markup)
    out: list[str] = []
    _walk(root, out)
    return _tidy("".join(out))


def _walk(el, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _DROP:
        if el.tail:
            out.append(el.tail)
        return
    if tag in _BLOCK:
        out.append("\n")
    if el.text and tag not in _DROP:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    if tag in _BLOCK:
        out.append("\n")
    elif tag in _CELL:
        out.append(" | ")
    if el.tail:
        out.append(el.tail)


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


_SENTENCE_END = re.compile(r"(?<!\d)[.!?][\"”’)]?(?=\s)|(?<=\d)\.(?=\s+[A-Z\"“])|\n")


def sentence_at(text: str, start: int, end: int, limit: int = 400) -> str:
    """The sentence around text[start:end] (for quoting evidence), at most ~limit chars."""
    if not text or start < 0 or end > len(text) or start >= end:
        return ""
    lo = max(0, start - limit)
    head = text[lo:start]
    cut = [m.end() for m in _SENTENCE_END.finditer(head)]
    begin = lo + cut[-1] if cut else lo
    m = _SENTENCE_END.search(text, end, min(len(text), end + limit))
    stop = m.end() if m else min(len(text), end + limit)
    quote = " ".join(text[begin:stop].split())
    if len(quote) > 2 * limit:  # a table row run-on: keep the evidence and some context
        quote = " ".join(text[max(0, start - 80):min(len(text), end + 80)].split())
    return quote
