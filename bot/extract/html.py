"""HTML → text the extractor reads: an EDGAR EX-99.1 exhibit, an IR page, a feed summary.

Paragraphs, headings and list items become lines; a `<br>` breaks a line. Each
`<table>` row becomes one line with its cells joined by " | ", so `tables.py` reads
it as a table with its columns intact: empty spacer cells are dropped, a cell
holding only "$" joins the next cell and one holding only "%" or ")" joins the
previous one ("$ | 29,776" → "$ 29,776", "18.3 | %" → "18.3 %"), as Dell's
exhibits set currency and percent signs in cells of their own.

The derived text is what `Figure.span` indexes for `extract(html, html=True)`.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from bot.text import html_to_text, printable

_BLOCKS = frozenset(
    ["p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "title", "center"]
)
_DROP = ("script", "style", "head", "noscript", "template", "svg")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b]+")
_BLANKS = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_DOCUMENT = re.compile(r"<html|<body|<!doctype", re.IGNORECASE)
_JOIN_NEXT = frozenset({"$", "US$", "(", "•", "·", "▪", "◦", "●"})
_JOIN_PREV = re.compile(r"^(?:%|\)|\)\s*%|pts?\.?|x)$")


def html_text(html: str) -> str:
    """Readable text of an HTML document or fragment, tables as " | " rows ("" if unparsable).

    Control characters, bidi overrides and surrogates are dropped first (`printable`):
    they mean nothing in HTML, and lxml refuses to hold some of them. A document nested
    deeper than libxml2 builds (256 levels) is read as flat text, tags stripped, rather
    than cut where the tree stopped."""
    html = printable(html)
    parser = lxml_html.HTMLParser()
    root = _parse(html, parser)
    if root is None:
        return ""
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return _tidy(html_to_text(html))
    for el in list(root.iter(*_DROP)):
        _remove(el)
    for table in reversed(list(root.iter("table"))):
        _render_table(table)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag in _BLOCKS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    return _tidy(root.text_content())


def strip_html(snippet: str) -> str:
    """Plain text of an HTML snippet (a feed summary); text without tags comes back tidied."""
    if not snippet:
        return ""
    if "<" not in snippet and "&" not in snippet:
        return _tidy(snippet)
    return html_text(snippet)


# "<?xml version='1.0' encoding='ASCII'?>" opens real EDGAR exhibits (XHTML). lxml refuses a
# decoded str that declares an encoding (ValueError: "Unicode strings with encoding
# declaration are not supported"), and the text is already decoded: the declaration says
# nothing more, so it is dropped (with a byte-order mark or blanks before it).
_XML_DECL = re.compile(r"\A[\ufeff\s]*<\?xml\b[^>]*\?>", re.IGNORECASE)


def _parse(html: str, parser):
    html = _XML_DECL.sub("", html, count=1)
    if not html or not html.strip():
        return None
    try:
        if _DOCUMENT.search(html, 0, 2000):
            root = lxml_html.document_fromstring(html, parser=parser)
        else:
            # A fragment (a feed summary, a lone table): wrap it so every element has a parent.
            root = lxml_html.fragment_fromstring(html, create_parent="div", parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, TypeError):
        return None
    return root


def _remove(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail or ""
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def _render_table(table) -> None:
    lines = []
    for tr in table.iter("tr"):
        cells = [_cell_text(td) for td in tr if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")]
        row = _merge_signs([c for c in cells if c])
        if row:
            lines.append(" | ".join(row))
    block = lxml_html.Element("div")
    block.text = "\n" + "\n".join(lines) + "\n"
    block.tail = table.tail
    table.getparent().replace(table, block)


def _cell_text(td) -> str:
    return _SPACES.sub(" ", td.text_content()).strip()


def _merge_signs(cells: list[str]) -> list[str]:
    out: list[str] = []
    carry = ""
    for c in cells:
        if c in _JOIN_NEXT:
            carry += c + " "
            continue
        if out and not carry and _JOIN_PREV.match(c):
            out[-1] = f"{out[-1]} {c}" if c.startswith("%") or c[0].isalpha() else out[-1] + c
            continue
        out.append(carry + c)
        carry = ""
    return out


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
