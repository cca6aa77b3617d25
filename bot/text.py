"""HTML → plain text for feed summaries and content (untrusted markup), and
untrusted text made safe to print, log or post.

lxml's HTML parser neither fetches nor expands external entities; scripts and
styles are dropped, block elements become line breaks so that sentences from
separate paragraphs or table cells never run together.

`printable()` removes what changes how text is shown rather than what it says:
terminal escapes (ESC, CSI and every other C0/C1 control), bidirectional
overrides and isolates (the "Trojan Source" trick, CVE-2021-42574: a line that
reads one way and says another) and lone surrogates. Feed text, HTTP reason
phrases and error texts pass through it before they are stored, logged, printed
or posted.
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

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI),
# the Arabic letter mark, LRM/RLM, the bidi embeddings and overrides (U+202A–U+202E)
# and isolates (U+2066–U+2069), and surrogates (not characters: lxml and UTF-8 refuse them).
_UNSAFE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")
_BREAKS = re.compile("\r\n?|[\x0b\x0c\u2028\u2029]")


def printable(text: str | None, *, one_line: bool = False) -> str:
    """`text` without terminal escapes, control characters or bidi overrides. Line
    breaks (CR, LF, VT, FF, U+2028/9) become "\n", or one space with `one_line` (a
    reason phrase or an error message must not forge a second log line)."""
    if not text:
        return ""
    text = _UNSAFE.sub("", _BREAKS.sub("\n", text))
    return " ".join(text.split()) if one_line else text


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment; plain text passes through unchanged. Never
    raises; the result is `printable()`."""
    markup = printable(markup)
    if not markup or not _TAGGY.search(markup):
        return _tidy(printable(html.unescape(markup)))
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return _tidy(printable(_strip_tags(markup)))
    if _cut_short(parser):
        return _tidy(printable(_strip_tags(markup)))
    out: list[str] = []
    _walk(root, out)
    return _tidy(printable("".join(out)))


def _cut_short(parser) -> bool:
    """libxml2 stops building the tree at 256 nested elements ("Excessive depth in
    document") and drops everything after: the text must then be read without a tree."""
    return any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


_SKIP = re.compile(r"<(script|style|noscript|template|iframe|object)\b.*?</\1\s*>|<!--.*?-->",
                   re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<[!?/][^>]*>")


def _strip_tags(markup: str) -> str:
    """Text of markup the tree builder cannot hold: tags removed, block tags as line
    breaks and cells as " | ", entities decoded. Linear in the input."""
    def tag(m: re.Match) -> str:
        name = (m.group(2) or "").lower()
        if name in _BLOCK:
            return "\n"
        return " | " if name in _CELL and m.group(1) else ""
    return html.unescape(_TAG.sub(tag, _SKIP.sub("", markup)))


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
