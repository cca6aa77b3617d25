"""companyfacts → figures for a filing's fiscal period."""

from __future__ import annotations

import json

import pytest

from bot.edgar.xbrl import filing_figures, parse_companyfacts
from bot.errors import ParseError
from bot.fiscal import DELL, FiscalCalendar
from tests.edgar_server import fixture

FACTS = parse_companyfacts(fixture("companyfacts-CIK0001571996.json"))


def _by(result) -> dict:
    return {(f.metric, f.period, f.comparative): f for f in result.figures}


def test_q2_fy2026_10q_reports_revenue_and_margins() -> None:
    result = filing_figures(FACTS, "0001571996-25-000104", "10-Q", DELL)
    assert result.period == "FY2026-Q2" and result.note is None
    got = _by(result)
    revenue = got["revenue", "FY2026-Q2", False]
    assert (revenue.value, revenue.unit, revenue.accounting, revenue.basis) == (
        29_776_000_000, "USD", "gaap", "actual")
    assert got["gross_margin", "FY2026-Q2", False].value == 18.3  # 5,447 / 29,776 = 18.29…, stated to 0.1 like the release
    assert got["operating_margin", "FY2026-Q2", False].value == 6.0  # 1,773 / 29,776
    assert got["gross_margin", "FY2026-Q2", False].evidence == (
        "XBRL us-gaap:Revenues 29,776,000,000 / GrossProfit 5,447,000,000 for "
        "2025-05-03–2025-08-01 (10-Q 0001571996-25-000104)")


def test_prior_year_quarter_is_comparative_and_year_to_date_is_ignored() -> None:
    result = filing_figures(FACTS, "0001571996-25-000104", "10-Q", DELL)
    got = _by(result)
    assert got["gross_margin", "FY2025-Q2", True].value == 21.4  # 5,361 / 25,026
    assert got["revenue", "FY2025-Q2", True].value == 25_026_000_000
    values = {f.value for f in result.figures if f.unit == "USD"}
    assert 53_154_000_000 not in values and 47_270_000_000 not in values  # six months
    assert len(result.figures) == 6


@pytest.mark.parametrize("accession, form, period, metrics", [
    ("0001571996-24-000046", "10-Q", "FY2025-Q2", {"revenue", "gross_margin", "operating_margin"}),
    ("0001571996-24-000027", "10-Q", "FY2025-Q1", {"revenue"}),  # revenue only in the fixture
    ("0001571996-24-000062", "10-Q", "FY2025-Q3", {"revenue"}),
])
def test_each_10q_is_labelled_from_its_dates(accession, form, period, metrics) -> None:
    result = filing_figures(FACTS, accession, form, DELL)
    assert result.period == period
    assert {f.metric for f in result.figures if f.period == period} == metrics


def test_10k_gives_the_fiscal_year_and_derives_q4() -> None:
    result = filing_figures(FACTS, "0001571996-25-000011", "10-K", DELL)
    assert result.period == "FY2025"
    got = _by(result)
    assert got["revenue", "FY2025", False].value == 95_567_000_000
    q4 = got["revenue", "FY2025-Q4", False]
    assert q4.value == 95_567_000_000 - 22_244_000_000 - 25_026_000_000 - 24_366_000_000
    assert "less Q1–Q3" in q4.evidence and "2024-11-02–2025-01-31" in q4.evidence


def _facts(**concepts) -> bytes:
    """A synthetic companyfacts document (round numbers, not any company's)."""
    return json.dumps({"cik": 1, "entityName": "Synthetic Co", "facts": {"us-gaap": {
        name: {"units": {"USD": rows}} for name, rows in concepts.items()}}}).encode()


def _row(start, end, val, accn="0000000001-26-000001", form="10-K", fy=2026, fp="FY",
         filed="2026-03-20"):
    return {"start": start, "end": end, "val": val, "accn": accn, "fy": fy, "fp": fp,
            "form": form, "filed": filed}


def test_q4_margins_are_derived_concept_by_concept() -> None:
    # A synthetic Dell-calendar FY2026 (31 Jan 2025 – 30 Jan 2026): quarters of 100, 100,
    # 100 revenue, a year of 500 → Q4 revenue 200; gross profit 20 × 3 and 100 → Q4 40.
    q = [("2025-02-01", "2025-05-02"), ("2025-05-03", "2025-08-01"), ("2025-08-02", "2025-10-31")]
    tenq = {"accn": "0000000001-25-000009", "form": "10-Q", "fp": "Q1", "filed": "2025-06-01"}
    body = _facts(
        RevenueFromContractWithCustomerExcludingAssessedTax=[
            _row(*q[i], 100, **tenq) for i in range(3)] + [_row("2025-02-01", "2026-01-30", 500)],
        GrossProfit=[_row(*q[i], 20, **tenq) for i in range(3)]
        + [_row("2025-02-01", "2026-01-30", 100)],
        OperatingIncomeLoss=[_row(*q[i], 5, **tenq) for i in range(2)]  # Q3 missing
        + [_row("2025-02-01", "2026-01-30", 40)])
    result = filing_figures(parse_companyfacts(body), "0000000001-26-000001", "10-K", DELL)
    got = _by(result)
    assert got["revenue", "FY2026-Q4", False].value == 200
    assert got["gross_margin", "FY2026-Q4", False].value == 20.0  # 40 / 200
    assert ("operating_margin", "FY2026-Q4", False) not in got  # a quarter is missing
    assert got["operating_margin", "FY2026", False].value == 8.0
    assert "RevenueFromContractWithCustomerExcludingAssessedTax" in got[
        "revenue", "FY2026", False].evidence


def test_fiscal_calendar_wins_over_xbrl_fy_fp_and_says_so() -> None:
    body = _facts(Revenues=[_row("2025-05-03", "2025-08-01", 10, form="10-Q", fy=2025, fp="Q2")])
    result = filing_figures(parse_companyfacts(body), "0000000001-26-000001", "10-Q", DELL)
    assert result.period == "FY2026-Q2"
    assert "XBRL says FY2025-Q2" in result.note and "FY2026-Q2 (used)" in result.note


def test_month_end_calendar_company() -> None:
    msft = FiscalCalendar(year_end_month=6, rule="month_end")
    body = _facts(Revenues=[_row("2025-04-01", "2025-06-30", 10, form="10-Q", fp="Q4")])
    assert filing_figures(parse_companyfacts(body), "0000000001-26-000001", "10-Q",
                          msft).period == "FY2025-Q4"


def test_filing_without_facts_yet() -> None:
    result = filing_figures(FACTS, "0001571996-25-000999", "10-Q", DELL)
    assert result.period is None and result.figures == ()
    assert "no quarterly revenue fact carries accession 0001571996-25-000999" in result.note


def test_odd_facts_are_skipped() -> None:
    body = _facts(Revenues=[
        {"end": "2025-08-01", "val": 1, "accn": "x"},  # an instant
        _row("2025-05-03", "2025-08-01", "n/a"),  # not a number
        "junk",
        _row("2025-05-03", "2025-08-01", 10, form="10-Q", fy="None", fp="None"),
    ])
    facts = parse_companyfacts(body)
    assert len(facts.facts["Revenues"]) == 1
    assert filing_figures(facts, "0000000001-26-000001", "10-Q", DELL).period == "FY2026-Q2"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"cik": 1}'])
def test_unreadable_companyfacts(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_companyfacts(body)
