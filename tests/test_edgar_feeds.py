"""EDGAR listings → Filings and Documents: real EDGAR bytes and Dell fixtures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.edgar.feeds import (
    parse_atom,
    parse_full_submission,
    parse_index_htm,
    parse_index_items,
    parse_index_json,
    parse_submissions,
    submission_pages,
)
from bot.errors import ParseError
from tests.edgar_server import FIXTURES, fixture


def test_real_apple_atom_feed() -> None:
    filings, skipped = parse_atom(fixture("real-atom-AAPL-first8.xml"))
    assert skipped == 0 and len(filings) == 8
    first = filings[0]
    assert (first.accession, first.form, first.filed, first.items) == (
        "0001193125-21-054710", "8-K", date(2021, 2, 24), ("5.07",))
    assert first.accepted == datetime(2021, 2, 24, 21, 31, 21, tzinfo=UTC)
    assert filings[5].items == ("8.01", "9.01")  # "items 8.01 and 9.01"
    assert {f.form for f in filings} >= {"PX14A6G", "SC 13G/A", "424B2"}


@pytest.mark.parametrize("form, expected", [
    ("8-K", [("0001571996-25-000096", ("2.02", "9.01")),
             ("0001571996-25-000088", ("7.01", "9.01"))]),
    ("10-Q", [("0001571996-25-000104", ()), ("0001571996-24-000062", ()),
              ("0001571996-24-000046", ()), ("0001571996-24-000027", ())]),
    ("10-K", [("0001571996-25-000011", ())]),
])
def test_dell_atom_feeds(form: str, expected: list) -> None:
    filings, skipped = parse_atom(fixture(f"atom-dell-{form}.xml"))
    assert skipped == 0
    assert [(f.accession, f.items) for f in filings] == expected
    assert {f.form for f in filings} == {form}


def test_atom_items_fall_back_to_the_summary() -> None:
    body = fixture("atom-dell-8-K.xml").replace(b"<items-desc>items 2.02 and 9.01</items-desc>",
                                                b"")
    filings, _ = parse_atom(body)
    assert filings[0].items == ("2.02", "9.01")  # "Item 2.02: Results of …" in the summary


def test_atom_entry_without_accession_is_skipped_not_fatal() -> None:
    body = fixture("atom-dell-8-K.xml").replace(
        b"<accession-number>0001571996-25-000088</accession-number>", b"").replace(
        b"accession-number=0001571996-25-000088</id>", b"</id>")
    filings, skipped = parse_atom(body)
    assert skipped == 1 and [f.accession for f in filings] == ["0001571996-25-000096"]


@pytest.mark.parametrize("body, message", [
    (b"", "empty EDGAR Atom feed"),
    (b"<html><body>Request Rate Threshold Exceeded</body></html>", "not an EDGAR Atom feed"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "malformed EDGAR Atom feed"),
    (b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><feed>&a;</feed>',
     "entity declarations are not allowed"),
])
def test_unreadable_atom_is_a_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as err:
        parse_atom(body)
    assert err.value.retryable is False


def test_submissions_json_recent_and_pages() -> None:
    body = fixture("submissions-CIK0001571996.json")
    filings, skipped = parse_submissions(body)
    assert skipped == 0 and len(filings) == 8
    by_acc = {f.accession: f for f in filings}
    earnings = by_acc["0001571996-25-000096"]
    assert (earnings.form, earnings.items, earnings.report_date) == (
        "8-K", ("2.02", "9.01"), date(2025, 8, 28))
    assert by_acc["0001571996-24-000046"].items == ()  # "None" read as nothing
    assert by_acc["0000899243-25-031744"].report_date is None  # "None"
    pages = submission_pages(body)
    assert [(p.name, p.filing_to) for p in pages] == [
        ("CIK0001571996-submissions-001.json", date(2024, 6, 11))]
    older, _ = parse_submissions(fixture("submissions-CIK0001571996-submissions-001.json"))
    assert [f.form for f in older] == ["10-Q", "4"]


def test_submissions_json_tolerates_short_columns_and_bad_rows() -> None:
    data = json.loads(fixture("submissions-CIK0001571996.json"))
    recent = data["filings"]["recent"]
    recent["items"] = recent["items"][:2]  # a short column
    recent["accessionNumber"][3] = "None"  # a row without accession
    recent["filingDate"][4] = "not a date"
    filings, skipped = parse_submissions(json.dumps(data).encode())
    assert skipped == 2 and len(filings) == 6
    assert all(f.items == () for f in filings[2:])


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"filings": {"recent": {}}}'])
def test_unreadable_submissions_json(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_submissions(body)


def test_real_lennar_index_page_has_types() -> None:
    docs = parse_index_htm(fixture("real-index-LEN-0001628280-17-000327.htm"))
    types = {d.name: d.type for d in docs}
    assert types["len-20161130x10k.htm"] == "10-K"
    assert types["len-20161130x10kxexh1018.htm"] == "EX-10.18"
    assert types["len-20161130_cal.xml"] == "EX-101.CAL"
    main = next(d for d in docs if d.type == "10-K")
    # the iXBRL viewer link (/ix?doc=…) is resolved to the document itself
    assert main.href == "/Archives/edgar/data/920760/000162828017000327/len-20161130x10k.htm"
    assert len(docs) == 16


def test_dell_index_page_finds_the_press_release() -> None:
    docs = parse_index_htm(fixture("index-0001571996-25-000096.htm"))
    ex = [d for d in docs if d.type == "EX-99.1"]
    assert [(d.name, d.href) for d in ex] == [(
        "dell-q2fy26xex991.htm",
        "/Archives/edgar/data/1571996/000157199625000096/dell-q2fy26xex991.htm")]


@pytest.mark.parametrize("name, items", [
    ("index-0001571996-25-000096.htm", ("2.02", "9.01")),
    ("index-0001571996-25-000088.htm", ("7.01", "9.01")),
    ("real-index-LEN-0001628280-17-000327.htm", ()),  # a 10-K: no "Items" box
])
def test_index_page_items_box(name: str, items: tuple) -> None:
    assert parse_index_items(fixture(name)) == items


@pytest.mark.parametrize("body", [
    b"",
    b"<html><body><p>Service unavailable</p></body></html>",
    b"<html><table class='tableFile'><tr><th>Seq</th><th>Nope</th></tr></table></html>",
])
def test_index_page_without_document_table_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_index_htm(body)


def test_full_submission_text_carries_types_and_documents() -> None:
    docs = parse_full_submission(fixture("full-submission-0001571996-25-000096.txt"))
    assert [(d.type, d.name) for d in docs] == [
        ("8-K", "dell-20250828.htm"), ("EX-99.1", "dell-q2fy26xex991.htm"),
        ("GRAPHIC", "dell-20250828_g1.jpg")]
    ex = docs[1]
    assert ex.content.startswith("<?xml") and "a record $29.8 billion" in ex.content
    assert "<XBRL>" not in docs[0].content and "Item 2.02" in docs[0].content
    with pytest.raises(ParseError):
        parse_full_submission(b"<html>not a submission</html>")


def test_index_json_names_files_without_types() -> None:
    docs = parse_index_json(fixture("real-index-0001213900-24-004875.json"))
    assert "ea191807ex99-1_datchat.htm" in [d.name for d in docs]
    assert {d.type for d in docs} == {None}
    with pytest.raises(ParseError):
        parse_index_json(b'{"directory": {}}')


def test_fixture_readme_lists_every_fixture() -> None:
    readme = (FIXTURES / "README.md").read_text()
    missing = [p.name for p in FIXTURES.iterdir() if p.name != "README.md"
               and p.name not in readme]
    assert not missing, f"describe these fixtures in {FIXTURES / 'README.md'}: {missing}"
