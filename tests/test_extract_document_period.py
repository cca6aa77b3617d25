"""Class 1 of issue 10: the period a text reports, read from its head as a careful reader would.

Every sentence here is the project's own, written for the case it tests (real figures, made-up
wording). Each row: a text, its publication date (None: undated), the period it reports.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.extract import extract
from bot.extract.context import document_period
from bot.extract.document import _with_head
from bot.extract.periods import find_periods
from bot.fiscal import DELL, FiscalCalendar

HPE = FiscalCalendar(10, "month_end")


def _period(text: str, published: date | None, cal: FiscalCalendar = DELL) -> str | None:
    p = document_period(text, _with_head(text, cal, find_periods(text, cal)), published, cal)
    return p.label if p else None


@pytest.mark.parametrize(
    ("text", "published", "want"),
    [
        # A heading or an opening line names the period, with or without a date.
        ("Q1 FY27 Earnings Review\nDell grew revenue to $43.8 billion.", None, "FY2027-Q1"),
        (
            "Welcome to the fiscal year 2026 second quarter results call for Dell.",
            None,
            "FY2026-Q2",
        ),
        (
            "Dell posted revenue of $23.4 billion in its fiscal-2026 first-quarter.",
            None,
            "FY2026-Q1",
        ),
        (
            "For the second quarter of its 2026 fiscal year, Dell's sales came to $29.8 billion.",
            None,
            "FY2026-Q2",
        ),
        # A quarter without its year: the publication date places it ...
        (
            "Dell's fiscal third-quarter sales climbed to $24.4 billion.",
            date(2024, 11, 27),
            "FY2025-Q3",
        ),
        # ... or, undated, the fiscal year the text names: guidance for fiscal 2025 is the year under way.
        (
            "Sales reached $22.2 billion for the quarter ended May 3. Dell lifted its forecast for the fiscal "
            "year ending in February 2025 to $95.5 billion.",
            None,
            "FY2025-Q1",
        ),
        (
            "Dell had a strong fiscal fourth quarter. It shipped about $10 billion of AI servers in fiscal "
            "2025 and expects $15 billion in fiscal 2026.",
            None,
            "FY2025-Q4",
        ),
        (
            "In the first quarter Dell booked $12.1 billion of AI orders, more than it shipped in all of "
            "fiscal 2025.",
            None,
            "FY2026-Q1",
        ),
        # "first quarter 2024" in June 2023 can only be Dell's fiscal quarter.
        ("Dell's first quarter 2024 revenue came to $20.9 billion.", date(2023, 6, 6), "FY2024-Q1"),
        # A comparison names an earlier quarter, not the text's.
        ("Versus Q4 FY25, revenue grew in the third quarter.", date(2025, 11, 26), "FY2026-Q3"),
        # No year named and no date: no period (corpus NOTES, policy 1).
        ("Dell's second-quarter revenue rose to $29.8 billion.", None, None),
        ("Sales rose to $22.2 billion for the quarter ended May 3.", None, None),
        # Another calendar: HPE's fiscal year ends on 31 October.
        (
            "HPE reported results for its third quarter of fiscal 2025, ended July 31, 2025.",
            None,
            "FY2025-Q3",
        ),
    ],
)
def test_document_period(text, published, want):
    cal = HPE if text.startswith("HPE") else DELL
    assert _period(text, published, cal) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("fiscal 2025/26", "FY2026"),
        ("its 2023/2024 fiscal year", "FY2024"),
        ("the current fiscal year, which ends in January 2027", "FY2027"),
        ("the fiscal year ending in February 2025", "FY2025"),
        ("Q3'24", "FY2024-Q3"),
        ("full fiscal year 2025", "FY2025"),
        ("the fiscal year 2026 second quarter", "FY2026-Q2"),
    ],
)
def test_named_periods(text, want):
    found = [p for p in find_periods(text, DELL) if p.period is not None]
    assert [p.period.label for p in found] == [want]
    assert text[found[0].start : found[0].end].endswith(text.split()[-1])


def test_unplaced_figures_take_the_texts_period_with_less_confidence():
    text = (
        "Dell Technologies reported results for the fiscal 2026 second quarter.\n"
        "Revenue was $29.8 billion. Second-quarter operating margin was 7.7%."
    )
    figs = {f.metric: f for f in extract(text)}
    assert figs["revenue"].period == figs["operating_margin"].period == "FY2026-Q2"
    assert figs["revenue"].confidence < figs["operating_margin"].confidence
