"""Fiscal calendars: Dell's 52/53-week year to the day, and other companies' rules."""

from datetime import date

import pytest

from bot.fiscal import DELL, FiscalCalendar, Period

APPLE = FiscalCalendar(year_end_month=9, rule="last_weekday", weekday=5)
MSFT = FiscalCalendar(year_end_month=6, rule="month_end")


@pytest.mark.parametrize(
    "fy,q,end",
    [
        (2027, 1, date(2026, 5, 1)),    # corpus README: fiscal 2027's Q1 ended 1 May 2026
        (2027, 4, date(2027, 1, 29)),
        (2026, 2, date(2025, 8, 1)),
        (2026, 3, date(2025, 10, 31)),
        (2026, 4, date(2026, 1, 30)),
        (2024, 2, date(2023, 8, 4)),
        (2023, 2, date(2022, 7, 29)),
        (2023, 4, date(2023, 2, 3)),    # the 53-week year ends a week later
        (2025, 1, date(2024, 5, 3)),
    ],
)
def test_dell_quarter_ends(fy, q, end):
    assert DELL.quarter_end(fy, q) == end


def test_dell_fy2023_has_53_weeks_and_a_14_week_q4():
    start, end = DELL.bounds(Period(2023))
    assert (end - start).days + 1 == 53 * 7
    q4_start, q4_end = DELL.bounds(Period(2023, 4))
    assert (q4_end - q4_start).days + 1 == 14 * 7
    assert DELL.year_start(2027) == date(2026, 1, 31)


@pytest.mark.parametrize(
    "published,quarter,expected",
    [
        (date(2026, 5, 2), 1, "FY2027-Q1"),    # the day after Q1 ended
        (date(2026, 5, 1), 1, "FY2026-Q1"),    # on the quarter-end day, the quarter has not ended
        (date(2026, 6, 6), 1, "FY2027-Q1"),
        (date(2025, 8, 28), 2, "FY2026-Q2"),
        (date(2025, 8, 28), None, "FY2026-Q2"),
        (date(2023, 2, 4), 4, "FY2023-Q4"),    # the day after the 53-week year ended
        (date(2023, 2, 3), 4, "FY2022-Q4"),
        (date(2023, 2, 3), None, "FY2023-Q3"),
    ],
)
def test_latest_ended_quarter(published, quarter, expected):
    assert DELL.latest_ended_quarter(published, quarter).label == expected


def test_other_rules():
    assert APPLE.year_end(2024) == date(2024, 9, 28)
    assert APPLE.quarter_of(date(2024, 12, 28)) == Period(2025, 1)
    assert MSFT.year_end(2025) == date(2025, 6, 30)
    assert MSFT.quarter_end(2025, 1) == date(2024, 9, 30)
    assert MSFT.quarter_of(date(2025, 1, 15)) == Period(2025, 3)


def test_period_labels_round_trip_and_reject_junk():
    assert Period.parse("FY2027-Q1") == Period(2027, 1)
    assert str(Period(2026)) == "FY2026"
    assert Period(2026, 1).previous() == Period(2025, 4)
    assert Period(2026, 3).year_ago() == Period(2025, 3)
    with pytest.raises(ValueError):
        Period.parse("Q1 2026")
