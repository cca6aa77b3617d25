"""Classes 2 and 4 of issue 10: quarter versus full year, and which earlier period.

Every sentence is the project's own (real figures, our wording). Each row: a text, its
publication date, and the figures expected as (metric, basis, period, value, comparative).
Only the listed metrics are compared; a row lists every figure of those metrics.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.extract import extract

Q4 = date(2026, 2, 27)  # two days after Dell reported its fourth quarter of fiscal 2026

CASES = [
    # Class 2: a fourth-quarter text states the year and the quarter side by side.
    (
        "backlog-exiting-year",
        "Dell said it was exiting its fiscal year with an AI backlog of $43 billion.",
        Q4,
        [("ai_backlog", "actual", "FY2026-Q4", 43e9, False)],
    ),
    (
        "annual-cash-flow",
        "Dell produced more than $11 billion in annual cash flow from operations.",
        Q4,
        [("operating_cash_flow", "actual", "FY2026", 11e9, False)],
    ),
    (
        "current-year-guidance",
        "Dell will generate about $50 billion of AI server revenue during the current "
        "fiscal year, which ends in January 2027.",
        Q4,
        [("ai_revenue", "guidance", "FY2027", 50e9, False)],
    ),
    (
        "this-year-guidance",
        "The company now aims for AI server sales of $60 billion this year.",
        Q4,
        [("ai_revenue", "guidance", "FY2027", 60e9, False)],
    ),
    # A guidance period carries to the guidance after it that names none.
    (
        "guidance-thread",
        "For the first quarter of fiscal 2027, Dell expects revenue of $35 billion to "
        "$36 billion. Non-GAAP EPS is expected to be $2.90 at the midpoint.",
        Q4,
        [
            ("revenue", "guidance", "FY2027-Q1", 35.5e9, False),
            ("eps", "guidance", "FY2027-Q1", 2.90, False),
        ],
    ),
    (
        "guidance-heading",
        "Q1 Guidance\nRevenue: expected between $35 billion and $36 billion\n"
        "Diluted EPS: expected to be $2.90",
        Q4,
        [
            ("revenue", "guidance", "FY2027-Q1", 35.5e9, False),
            ("eps", "guidance", "FY2027-Q1", 2.90, False),
        ],
    ),
    # Class 4: which earlier period a compared value belongs to.
    (
        "one-year-ago",
        "In the fourth quarter, revenue fell 3% from $24.1 billion one year ago to $23.4 billion.",
        Q4,
        [
            ("revenue", "actual", "FY2026-Q4", 23.4e9, False),
            ("revenue", "actual", "FY2025-Q4", 24.1e9, True),
        ],
    ),
    (
        "prior-quarter",
        "Fourth-quarter gross margin was 17.5%, compared with 18.2% in the prior quarter.",
        Q4,
        [
            ("gross_margin", "actual", "FY2026-Q4", 17.5, False),
            ("gross_margin", "actual", "FY2026-Q3", 18.2, True),
        ],
    ),
    (
        "undated-previous-quarter",
        "AI orders reached $5.6 billion, down from $12.1 billion in the previous quarter.",
        None,
        [("ai_orders", "actual", None, 5.6e9, False), ("ai_orders", "actual", None, 12.1e9, True)],
    ),
]


@pytest.mark.parametrize(
    ("text", "published", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_period_classes(text, published, want):
    metrics = {w[0] for w in want}
    got = sorted(
        (f.metric, f.basis, f.period, round(f.value, 4), f.comparative)
        for f in extract(text, published=published)
        if f.metric in metrics
    )
    assert got == sorted((m, b, p, round(v, 4), c) for m, b, p, v, c in want)
