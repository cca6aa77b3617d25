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
