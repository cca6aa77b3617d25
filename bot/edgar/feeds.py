"""EDGAR listings → values (pure: bytes in, Filings and Documents out).

    parse_atom(body)            company filing feed (browse-edgar … output=atom) → Filings
    parse_submissions(body)     data.sec.gov submissions JSON (or an older page of it) → Filings
    submission_pages(body)      the older pages a submissions JSON points to
    parse_index_htm(body)       a filing's `{accession}-index.htm` → Documents with their Type
    parse_index_items(body)     the 8-K item numbers that page lists ("Items" box)
    parse_full_submission(body) a filing's `{accession}.txt` → Documents with Type and content
    parse_index_json(body)      a filing folder's `index.json` → file names (no Type: EDGAR
                                does not say there which file is EX-99.1)

Every parser raises ParseError (not retryable) on a body it cannot read; a bad entry
inside a readable listing is skipped and counted, never losing the others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import lxml.etree
import lxml.html

from bot.errors import ParseError

ACCESSION = re.compile(r"^\d{10}-\d{2}-\d{6}$")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ITEM_NUMBER = re.compile(r"\b(\d{1,2}\.\d{2})\b")
_SUMMARY_ITEM = re.compile(r"Item\s+(\d{1,2}\.\d{2})\b", re.IGNORECASE)  # "…1 MBItem 2.02"
_ACCESSION_IN = re.compile(r"(\d{10}-\d{2}-\d{6})")


@dataclass(frozen=True)
class Filing:
    """One EDGAR submission, as a listing describes it."""

    accession: str  # 0001571996-25-000096
    form: str  # 8-K, 10-Q, 10-K, 8-K/A …
    filed: date
    items: tuple[str, ...] = ()  # 8-K item numbers: ("2.02", "9.01")
    accepted: datetime | None = None  # acceptance time, UTC
    report_date: date | None = None  # period of report
    primary_document: str | None = None

    @property
    def folder(self) -> str:
        """The accession without dashes: the filing's folder under Archives/edgar/data/{cik}/."""
        return self.accession.replace("-", "")

    @property
    def published(self) -> datetime:
        return self.accepted or datetime(self.filed.year, self.filed.month, self.filed.day,
                                         tzinfo=UTC)


@dataclass(frozen=True)
class Document:
    """One document of a filing. `type` is EDGAR's document type (8-K, EX-99.1,
    GRAPHIC…) or None when the listing does not say (index.json)."""

    name: str
    type: str | None
    description: str = ""
    href: str | None = None  # as the listing spells it (relative or absolute)
    content: str | None = field(default=None, repr=False, compare=False)  # full .txt only


@dataclass(frozen=True)
class SubmissionPage:
    """An older page of a company's submissions (`filings.files` in the JSON)."""

    name: str  # CIK0001318605-submissions-001.json
    filing_from: date | None
    filing_to: date | None


# ---------------------------------------------------------------- Atom company feed


def parse_atom(body: bytes) -> tuple[list[Filing], int]:
    """A company filing feed → (filings, entries skipped)."""
    root = _xml(body, "EDGAR Atom feed")
    if _local(root.tag) != "feed":
        raise ParseError(f"not an EDGAR Atom feed (root element <{_local(root.tag)}>)",
                         retryable=False)
    filings, skipped = [], 0
    for entry in (el for el in root if _local(el.tag) == "entry"):
        filing = _atom_entry(entry)
        if filing is None:
            skipped += 1
        else:
            filings.append(filing)
    return filings, skipped


def _atom_entry(entry) -> Filing | None:
    fields = {_local(el.tag): (el.text or "").strip() for el in entry.iter()
              if isinstance(el.tag, str)}
    accession = fields.get("accession-number") or _accession_in(fields.get("id", ""))
    category = next((el.get("term") for el in entry if _local(el.tag) == "category"), None)
    form = fields.get("filing-type") or (category or "").strip()
    filed = _date(fields.get("filing-date"))
    if not accession or not ACCESSION.match(accession) or not form or filed is None:
        return None
    items = _ITEM_NUMBER.findall(fields.get("items-desc", ""))
    if not items:
        items = _SUMMARY_ITEM.findall(_html_text(fields.get("summary", "")))
    return Filing(accession, form, filed, tuple(dict.fromkeys(items)),
                  accepted=_datetime(fields.get("updated")))


# ---------------------------------------------------------------- submissions JSON


def parse_submissions(body: bytes) -> tuple[list[Filing], int]:
    """`submissions/CIK##########.json` (its `filings.recent`) or one of its older
    pages (the same columns at the top level) → (filings, rows skipped).

    Tolerates the string "None" where JSON has null, and columns of unequal length."""
    data = _json(body, "submissions JSON")
    columns = data.get("filings", {}).get("recent") if isinstance(data.get("filings"),
                                                                  dict) else data
    if not isinstance(columns, dict) or not isinstance(columns.get("accessionNumber"), list):
        raise ParseError("submissions JSON has no accessionNumber column", retryable=False)
    rows = len(columns["accessionNumber"])
    filings, skipped = [], 0
    for i in range(rows):
        filing = _submission_row(columns, i)
        if filing is None:
            skipped += 1
        else:
            filings.append(filing)
    return filings, skipped


def submission_pages(body: bytes) -> list[SubmissionPage]:
    data = _json(body, "submissions JSON")
    files = data.get("filings", {}).get("files") if isinstance(data.get("filings"),
                                                              dict) else None
    pages = []
    for f in files or []:
        if isinstance(f, dict) and _value(f.get("name")):
            pages.append(SubmissionPage(str(f["name"]), _date(_value(f.get("filingFrom"))),
                                        _date(_value(f.get("filingTo")))))
    return pages


def _submission_row(columns: dict, i: int) -> Filing | None:
    def col(name: str):
        values = columns.get(name)
        return _value(values[i]) if isinstance(values, list) and i < len(values) else None

    accession, form, filed = col("accessionNumber"), col("form"), _date(col("filingDate"))
    if not isinstance(accession, str) or not ACCESSION.match(accession) or not form \
            or filed is None:
        return None
    items = tuple(_ITEM_NUMBER.findall(str(col("items") or "")))
    primary = col("primaryDocument")
    return Filing(accession, str(form), filed, items,
                  accepted=_datetime(col("acceptanceDateTime")),
                  report_date=_date(col("reportDate")),
                  primary_document=str(primary) if primary else None)


# ---------------------------------------------------------------- filing documents


def parse_index_htm(body: bytes) -> list[Document]:
    """The document tables of a `-index.htm` page ("Document Format Files", "Data Files")."""
    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ParseError(f"unreadable filing index page: {exc}", retryable=False) from exc
    docs: list[Document] = []
    for table in root.xpath('//table[contains(concat(" ", @class, " "), " tableFile ")]'):
        docs += _index_table(table)
    if not docs:
        raise ParseError("filing index page has no document table", retryable=False)
    return docs


def parse_index_items(body: bytes) -> tuple[str, ...]:
    """The item numbers in an index page's "Items" box (8-Ks; empty if there is none)."""
    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return ()
    boxes = root.xpath('//div[@class="infoHead"][normalize-space()="Items"]'
                       '/following-sibling::div[@class="info"][1]')
    text = " ".join(b.text_content() for b in boxes)
    return tuple(dict.fromkeys(_SUMMARY_ITEM.findall(text)))


def _index_table(table) -> list[Document]:
    rows = table.xpath(".//tr")
    if not rows:
        return []
    header = [_cell_text(c).lower() for c in rows[0].xpath("./th|./td")]
    try:
        at = {k: header.index(k) for k in ("description", "document", "type")}
    except ValueError:
        return []
    docs = []
    for row in rows[1:]:
        cells = row.xpath("./td")
        if len(cells) <= max(at.values()):
            continue
        links = cells[at["document"]].xpath(".//a")
        name = _cell_text(links[0]) if links else _cell_text(cells[at["document"]])
        if not name:
            continue
        href = _document_href(links[0].get("href")) if links else None
        docs.append(Document(name, _cell_text(cells[at["type"]]) or None,
                             _cell_text(cells[at["description"]]), href))
    return docs


def _document_href(href: str | None) -> str | None:
    """Inline XBRL documents link through the viewer: /ix?doc=/Archives/… → /Archives/…"""
    if not href:
        return None
    split = urlsplit(href)
    if split.path.rstrip("/").endswith("/ix"):
        doc = parse_qs(split.query).get("doc")
        return doc[0] if doc else None
    return href


_SGML_DOCUMENT = re.compile(rb"<DOCUMENT>(.*?)</DOCUMENT>", re.DOTALL | re.IGNORECASE)
_SGML_FIELD = re.compile(rb"^<(TYPE|SEQUENCE|FILENAME|DESCRIPTION)>([^\r\n]*)",
                         re.MULTILINE | re.IGNORECASE)
_SGML_TEXT = re.compile(rb"<TEXT>\s*(?:<XBRL>\s*)?(.*?)\s*(?:</XBRL>\s*)?</TEXT>",
                        re.DOTALL | re.IGNORECASE)


def parse_full_submission(body: bytes) -> list[Document]:
    """The complete submission text file: every <DOCUMENT> with its TYPE, FILENAME,
    DESCRIPTION and the document itself (the HTML of an exhibit, for one)."""
    docs = []
    for block in _SGML_DOCUMENT.findall(body):
        fields = {k.decode().upper(): v.decode("utf-8", "replace").strip()
                  for k, v in _SGML_FIELD.findall(block)}
        if not fields.get("FILENAME") and not fields.get("TYPE"):
            continue
        text = _SGML_TEXT.search(block)
        docs.append(Document(fields.get("FILENAME") or "", fields.get("TYPE") or None,
                             fields.get("DESCRIPTION", ""), None,
                             text[1].decode("utf-8", "replace") if text else None))
    if not docs:
        raise ParseError("full submission text has no <DOCUMENT>", retryable=False)
    return docs


def parse_index_json(body: bytes) -> list[Document]:
    """A filing folder's index.json: file names only, `type` None."""
    data = _json(body, "filing index.json")
    items = data.get("directory", {}).get("item") if isinstance(data.get("directory"),
                                                                dict) else None
    if not isinstance(items, list):
        raise ParseError("filing index.json has no directory.item list", retryable=False)
    base = str(data["directory"].get("name") or "").rstrip("/")
    return [Document(str(i["name"]), None, "", f"{base}/{i['name']}" if base else None)
            for i in items if isinstance(i, dict) and i.get("name")]


# ---------------------------------------------------------------- helpers


def _xml(body: bytes, what: str):
    if not body.strip():
        raise ParseError(f"empty {what}", retryable=False)
    if _ENTITY_DECL.search(body[:65536]):
        raise ParseError(f"{what}: XML entity declarations are not allowed", retryable=False)
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed {what}: {exc}", retryable=False) from exc


def _json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"malformed {what}: {exc}", retryable=False) from exc
    if not isinstance(data, dict):
        raise ParseError(f"malformed {what}: not an object", retryable=False)
    return data


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _value(v):
    """JSON re-serialized by some tools carries null as the string "None"."""
    return None if v is None or v == "None" or v == "" else v


def _accession_in(text: str) -> str | None:
    m = _ACCESSION_IN.search(text or "")
    return m[1] if m else None


def _date(text) -> date | None:
    try:
        return date.fromisoformat(str(text).strip()[:10]) if text else None
    except ValueError:
        return None


def _datetime(text) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(str(text).strip())  # 3.11 reads "…Z"
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _cell_text(el) -> str:
    return " ".join(el.text_content().replace("\xa0", " ").split())


def _html_text(markup: str) -> str:
    if not markup:
        return ""
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div").text_content()
    except (lxml.etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", markup)
