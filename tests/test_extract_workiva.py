"""EX-99.1 tables as EDGAR's filing agents (Workiva) lay them out (issue 10, class 8).

tests/fixtures/extract/workiva-segments-q2fy25.html is written for these tests in that shape:
the "$", the number, the ")" and the "%" each in a cell of their own, spacer and sizing
cells, segment group headers over the rows (one without its colon), three- and six-month
column groups side by side, and a second table whose dates lost their years to a row below.
The -cells.txt fixture is the segment table as a site that lists every cell on a line of its
own (class 7). Only the quarter's columns are figures: the six-month ones never are.
"""

from datetime import date
from pathlib import Path

import pytest

from bot.extract import extract, extract_html

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
HTML = (FIXTURES / "workiva-segments-q2fy25.html").read_text()
CELLS = (FIXTURES / "workiva-segments-q2fy25-cells.txt").read_text()

SEGMENTS = {
    ("servers_networking_revenue", "FY2025-Q2", 7672e6, False),
    ("servers_networking_revenue", "FY2024-Q2", 4274e6, True),
    ("storage_revenue", "FY2025-Q2", 3974e6, False),
    ("storage_revenue", "FY2024-Q2", 4201e6, True),
    ("isg_revenue", "FY2025-Q2", 11646e6, False),
    ("isg_revenue", "FY2024-Q2", 8475e6, True),
    ("isg_operating_margin", "FY2025-Q2", 11.0, False),
    ("isg_operating_margin", "FY2024-Q2", 12.2, True),
    ("csg_revenue", "FY2025-Q2", 12414e6, False),
    ("csg_revenue", "FY2024-Q2", 12594e6, True),
    ("csg_operating_margin", "FY2025-Q2", 6.6, False),
    ("csg_operating_margin", "FY2024-Q2", 7.1, True),
}
CONSOLIDATED = {
    ("revenue", "FY2025-Q2", 25026e6, False),
    ("revenue", "FY2024-Q2", 22934e6, True),
    ("gross_margin", "FY2025-Q2", 21.4, False),
    ("gross_margin", "FY2024-Q2", 24.1, True),
    ("operating_margin", "FY2025-Q2", 5.6, False),
    ("operating_margin", "FY2024-Q2", 5.1, True),
}


def _keys(figs):
    return {(f.metric, f.period, round(f.value, 2), f.comparative) for f in figs}


@pytest.mark.parametrize(
    ("name", "figures", "expected"),
    [
        ("html, published", lambda: extract_html(HTML, published=date(2024, 8, 29))[1],
         SEGMENTS | CONSOLIDATED),
        # Undated: the first table's dates carry their years; the second's come from the row
        # under them.
        ("html, undated", lambda: extract_html(HTML)[1], SEGMENTS | CONSOLIDATED),
        ("one cell per line", lambda: extract(CELLS, published=date(2024, 8, 29)), SEGMENTS),
    ],
)
def test_workiva_tables(name, figures, expected):
    figs = figures()
    assert _keys(figs) == expected
    assert all(f.table and f.basis == "actual" for f in figs)


def test_cells_of_their_own_are_joined_in_the_derived_text():
    text, figs = extract_html(HTML, published=date(2024, 8, 29))
    assert "Servers and networking | $ 7,672 | $ 4,274 | 80 % |" in text
    assert "| (5)% |" in text and "| (8) % |" in text  # ")%" in one cell, and ")" then "%"
    for f in figs:
        assert text[f.span[0] : f.span[1]] == f.evidence
        assert f.evidence.startswith(("Servers", "Storage", "Total", "%", "Gross", "Operating"))
