"""Tables in plain text: pipe tables, flattened tables, and ones that lost their columns."""

from datetime import date

from bot.extract import extract
from bot.extract.document import figures_of
from bot.fiscal import DELL, FiscalCalendar

PIPE_NO_YEARS = """Results for the Second Quarter of Fiscal 2024
| Three Months Ended | | Six Months Ended |
| August 4, | July 29, | Change | August 4, | July 29, | Change |
| (in millions, except per-share figures and percentages; unaudited) |
Total net revenue | $ 22,934 | $ 26,425 | (13) % | $ 43,856 | $ 52,541 | (17) % |
Operating income | $ 1,165 | $ 1,270 | (8) % | $ 1,866 | $ 2,285 | (18) % |
"""

FLATTENED = (
    "Statements of Income (in millions, other than percentages; unaudited figures) Three Months Ended Six Months Ended "
    "May 2, 2025 May 3, 2024 Change May 2, 2025 May 3, 2024 Change Net revenue $ 23,378 $ 22,244 5% "
    "$ 23,378 $ 22,244 5% Gross margin 4,960 4,876 2% 4,960 4,876 2% Percentage of Total Net Revenue: "
    "Gross margin 21.2 % 21.9 % 21.2 % 21.9 % Operating income 5.3 % 4.6 % 5.3 % 4.6 %"
)


def _keys(figs):
    return sorted((f.metric, f.period, round(f.value, 2), f.comparative, f.table) for f in figs)


def test_pipe_table_with_yearless_dates_takes_years_from_publication():
    figs = [f for f in extract(PIPE_NO_YEARS, published=date(2023, 8, 31)) if f.table]
    assert _keys(figs) == [
        ("revenue", "FY2023-Q2", 26425e6, True, True),
        ("revenue", "FY2024-Q2", 22934e6, False, True),
    ]
    assert figs[0].evidence.startswith("Total net revenue")


def test_yearless_dates_without_publication_take_years_from_the_title():
    # "Second Quarter Fiscal 2024 Financial Results": the columns end on or before FY2024-Q2.
    figs = [f for f in extract(PIPE_NO_YEARS) if f.table]
    assert _keys(figs) == [
        ("revenue", "FY2023-Q2", 26425e6, True, True),
        ("revenue", "FY2024-Q2", 22934e6, False, True),
    ]


def test_yearless_dates_with_no_period_anywhere_give_figures_without_period():
    # No title, no publication date: the first column of a group is the result, the next one
    # compares; which quarter they are the text does not tell (corpus NOTES, policy 1).
    text = PIPE_NO_YEARS.split("\n", 1)[1]
    figs = [f for f in extract(text) if f.table]
    assert _keys(figs) == [
        ("revenue", None, 22934e6, False, True),
        ("revenue", None, 26425e6, True, True),
    ]


def test_flattened_table_reads_rows_and_sections():
    figs = extract(FLATTENED, published=date(2025, 5, 29))
    assert _keys(figs) == [
        ("gross_margin", "FY2025-Q1", 21.9, True, True),
        ("gross_margin", "FY2026-Q1", 21.2, False, True),
        ("operating_margin", "FY2025-Q1", 4.6, True, True),
        ("operating_margin", "FY2026-Q1", 5.3, False, True),
        ("revenue", "FY2025-Q1", 22244e6, True, True),
        ("revenue", "FY2026-Q1", 23378e6, False, True),
    ]


def test_rows_that_lost_their_columns_yield_nothing():
    # Three cells under a header of six (or four without "Change"): which is which is unknowable.
    text = (
        "Three Months Ended Six Months Ended August 1, 2025 August 2, 2024 Change August 1, 2025 "
        "August 2, 2024 Change (in millions) Net revenue $ 29,776 $ 25,026 $ 53,154 "
        "Free cash flow 1,868 704 4,096"
    )
    assert extract(text, published=date(2025, 8, 28)) == []


def test_change_column_must_hold_a_change():
    text = (
        "Three Months Ended Six Months Ended August 1, 2025 August 2, 2024 Change August 1, 2025 "
        "August 2, 2024 Change (in millions) Net revenue $ 29,776 $ 25,026 $ 53,154 $ 47,270 $ 1 $ 2"
    )
    assert extract(text, published=date(2025, 8, 28)) == []


def test_balance_sheet_dates_without_a_period_group_give_nothing():
    text = "(in millions) August 1, 2025 January 31, 2025 Total net revenue $ 8,145 $ 3,633"
    assert extract(text, published=date(2025, 8, 28)) == []


def test_guidance_columns_ending_after_publication():
    text = (
        "Three Months Ending Fiscal Year Ending October 31, 2025 January 30, 2026 "
        "Non-GAAP diluted earnings per share attributable to Dell Technologies $ 2.45 $ 9.55"
    )
    figs = extract(text, published=date(2025, 8, 28))
    assert sorted((f.basis, f.period, f.value, f.accounting) for f in figs) == [
        ("guidance", "FY2026", 9.55, "non_gaap"),
        ("guidance", "FY2026-Q3", 2.45, "non_gaap"),
    ]


def test_another_companys_calendar():
    # A 52/53-week year ending on the last Saturday of September (Apple's rule).
    cal = FiscalCalendar(year_end_month=9, rule="last_weekday", weekday=5)
    text = (
        "Three Months Ended | December 28, 2024 | December 30, 2023\n"
        "(in millions)\nTotal net revenue | $ 124,300 | $ 119,575\n"
    )
    figs = extract(text, published=date(2025, 1, 30), calendar=cal)
    assert _keys(figs) == [
        ("revenue", "FY2024-Q1", 119575e6, True, True),
        ("revenue", "FY2025-Q1", 124300e6, False, True),
    ]


def test_quarter_and_year_columns_side_by_side():
    # A Q4 release: "Twelve Months Ended" columns are fiscal years, each compared within its kind.
    text = (
        "Three Months Ended Twelve Months Ended January 31, 2025 February 2, 2024 Change January 31, 2025 "
        "February 2, 2024 Change (in millions, except per-share data and percentages; unaudited) "
        "Net revenue $ 23,931 $ 22,318 7% $ 95,567 $ 88,425 8% "
        "Percentage of Total Net Revenue: Gross margin 22.2 % 23.8 % 22.2 % 23.6 %"
    )
    figs = figures_of(text, date(2025, 2, 27), DELL)
    assert _keys(figs) == [
        ("gross_margin", "FY2024", 23.6, True, True),
        ("gross_margin", "FY2024-Q4", 23.8, True, True),
        ("gross_margin", "FY2025", 22.2, False, True),
        ("gross_margin", "FY2025-Q4", 22.2, False, True),
        ("revenue", "FY2024", 88425e6, True, True),
        ("revenue", "FY2024-Q4", 22318e6, True, True),
        ("revenue", "FY2025", 95567e6, False, True),
        ("revenue", "FY2025-Q4", 23931e6, False, True),
    ]


def test_53_week_year_end_column():
    text = "Three Months Ended | February 3, 2023 | January 28, 2022\n(in millions)\nNet revenue | $ 25,039 | $ 27,997\n"
    figs = figures_of(text, date(2023, 3, 2), DELL)
    assert _keys(figs) == [
        ("revenue", "FY2022-Q4", 27997e6, True, True),
        ("revenue", "FY2023-Q4", 25039e6, False, True),
    ]


def test_period_label_headers_read_like_date_headers():
    text = (
        "Q2 FY26 | Q2 FY25 | Change\n"
        "(in millions, except percentages)\n"
        "Net revenue | $ 29,776 | $ 25,026 | 19%\n"
        "Operating income | $ 1,773 | $ 1,392 | 27%\n"
    )
    figs = figures_of(text, date(2025, 8, 28), DELL)
    assert _keys(figs) == [
        ("revenue", "FY2025-Q2", 25026e6, True, True),
        ("revenue", "FY2026-Q2", 29776e6, False, True),
    ]
    assert all(f.basis == "actual" for f in figs)


def test_three_quarter_label_columns_flattened():
    text = (
        "Q1 FY27 Q4 FY26 Q1 FY26 (in billions) Revenue $ 35.6 $ 33.4 $ 23.4 "
        "Gross margin % 18.3 % 19.2 % 21.0 %"
    )
    figs = figures_of(text, date(2026, 5, 28), DELL)
    assert _keys(figs) == [
        ("gross_margin", "FY2026-Q1", 21.0, True, True),
        ("gross_margin", "FY2026-Q4", 19.2, True, True),
        ("gross_margin", "FY2027-Q1", 18.3, False, True),
        ("revenue", "FY2026-Q1", 23.4e9, True, True),
        ("revenue", "FY2026-Q4", 33.4e9, True, True),
        ("revenue", "FY2027-Q1", 35.6e9, False, True),
    ]


def test_label_column_of_a_year_not_yet_ended_is_guidance():
    text = "FY26 | FY25\nNon-GAAP earnings per share — diluted | $ 9.55 | $ 8.14\n"
    figs = figures_of(text, date(2025, 8, 28), DELL)
    assert sorted((f.basis, f.period, f.value, f.accounting, f.comparative) for f in figs) == [
        ("actual", "FY2025", 8.14, "non_gaap", False),
        ("guidance", "FY2026", 9.55, "non_gaap", False),
    ]


def test_a_lone_period_label_in_prose_is_no_table_header():
    text = "Q2 FY26 revenue was $29.8 billion, and Q2 FY25 revenue was $25.0 billion."
    assert not [f for f in figures_of(text, date(2025, 8, 28), DELL) if f.table]
