"""Number forms: amounts, percents, basis points, ranges, hedges (bot.extract.numbers)."""

import pytest

from bot.extract.numbers import find_quantities

CASES = [
    # text, kind, value, low, high, approx
    ("$51.3B", "usd", 51.3e9, None, None, False),
    ("$51.3 billion", "usd", 51.3e9, None, None, False),
    ("51.3 billion dollars", "usd", 51.3e9, None, None, False),
    ("US$2.1bn", "usd", 2.1e9, None, None, False),
    ("$1,043 million", "usd", 1.043e9, None, None, False),
    ("$653m", "usd", 653e6, None, None, False),
    ("$ 29,776", "usd", 29776, None, None, False),
    ("$5.24", "usd", 5.24, None, None, False),
    ("17.8%", "pct", 17.8, None, None, False),
    ("17.8 percent", "pct", 17.8, None, None, False),
    ("8.8 %", "pct", 8.8, None, None, False),
    ("310 basis points", "bps", 310, None, None, False),
    ("45 bps", "bps", 45, None, None, False),
    ("$101 billion to $105 billion", "usd", 103e9, 101e9, 105e9, False),
    ("$23.5–24.5 billion", "usd", 24e9, 23.5e9, 24.5e9, False),
    ("$23.5-$24.5 billion", "usd", 24e9, 23.5e9, 24.5e9, False),
    ("between $26.5 billion and $27.5 billion", "usd", 27e9, 26.5e9, 27.5e9, False),
    ("17% to 18%", "pct", 17.5, 17, 18, False),
    ("about $60B", "usd", 60e9, None, None, True),
    ("~12%", "pct", 12, None, None, True),
    ("roughly $25 billion", "usd", 25e9, None, None, True),
    ("nearly $2 billion", "usd", 2e9, None, None, True),
    ("more than $1.5B", "usd", 1.5e9, None, None, True),
    ("under $2B", "usd", 2e9, None, None, True),
    ("$15 billion plus", "usd", 15e9, None, None, True),
    ("$15B+", "usd", 15e9, None, None, True),
    ("approximately $0.3 billion", "usd", 0.3e9, None, None, True),
    ("$9.30, plus or minus $0.25", "usd", 9.30, 9.05, 9.55, False),
    ("$1.65, plus or minus 10 cents", "usd", 1.65, 1.55, 1.75, False),
    ("$103 billion, plus or minus $2 billion", "usd", 103e9, 101e9, 105e9, False),
    ("negative $0.5 billion", "usd", -0.5e9, None, None, False),
    ("-$0.2 billion", "usd", -0.2e9, None, None, False),
]


@pytest.mark.parametrize("text,kind,value,low,high,approx", CASES, ids=[c[0] for c in CASES])
def test_number_forms(text, kind, value, low, high, approx):
    (q,) = find_quantities(text)
    assert (q.kind, q.low, q.high, q.approx) == (kind, low, high, approx)
    assert q.value == pytest.approx(value)
    assert text[q.first : q.end].strip() == text.strip().removeprefix("between ").removeprefix(
        "negative "
    ).removeprefix("-")


@pytest.mark.parametrize(
    "text",
    ["P/E of 20.28x", "fiscal 2026", "Q1 FY27", "3,000 customers", "EX-99.1", "up 12 points"],
)
def test_not_quantities(text):
    assert find_quantities(text) == []


@pytest.mark.parametrize(
    "text,n",
    [("from $2B to $16B", 2), ("up 5% to 18%", 2), ("$5 to 20,000 dollars", 2), ("$10.6 billionDiluted", 1)],
)
def test_changes_and_unrelated_numbers_are_not_ranges(text, n):
    qs = find_quantities(text)
    assert len(qs) == n and all(q.low is None for q in qs)
