"""Uncertainty carried through (issue 11): approximate inputs make a derived value
approximate (with each input's hedge words in the inputs line), ranges stay ranges, and a
derived value is dated by its newest input."""

from __future__ import annotations

import json

import pytest

from bot.derive import compute, hedge
from bot.rules import Observation
from tests.test_plausibility import Bot, story


def o(metric, value, period="FY2026-Q1", basis="actual", **kw):
    unit = kw.pop("unit", "%" if "margin" in metric else "USD")
    return Observation(company="DELL", metric=metric, basis=basis, period=period, value=value,
                       unit=unit, source_kind="company-ir", **kw)


def lookup_of(*obs):
    table = {(x.metric, x.basis, x.period): x for x in obs}
    return lambda m, b, p, a: table.get((m, b, p))


@pytest.mark.parametrize("inputs,metric,approx,low,high", [
    ([o("ai_orders", 12.1e9), o("ai_revenue", 16.1e9)], "ai_book_to_bill", False, None, None),
    ([o("ai_orders", 12.1e9), o("ai_revenue", 2e9, approx=True)], "ai_book_to_bill", True,
     None, None),
    ([o("ai_orders", 12.1e9, low=12e9, high=12.2e9), o("ai_revenue", 2e9, low=1.9e9,
                                                       high=2.1e9)],
     "ai_book_to_bill", True, 12e9 / 2.1e9, 12.2e9 / 1.9e9),
    ([o("gross_margin", 17.8, low=17.5, high=18.0), o("gross_margin", 18.9, "FY2025-Q4")],
     "gross_margin_qoq_bps", True, -140.0, -90.0),
    ([o("ai_backlog", 51.3e9, "FY2027-Q1"), o("ai_revenue", 16.1e9, "FY2027-Q1"),
      o("ai_revenue", 60e9, "FY2027", basis="guidance", low=58e9, high=62e9)],
     "ai_guidance_coverage", True, 51.3e9 / (62e9 - 16.1e9), 51.3e9 / (58e9 - 16.1e9)),
])
def test_derived_values_carry_their_inputs_uncertainty(inputs, metric, approx, low,
                                                       high) -> None:
    period = "FY2027-Q1" if metric == "ai_guidance_coverage" else "FY2026-Q1"
    d = compute(metric, period, None, lookup_of(*inputs))
    assert d is not None and d.approx is approx
    assert (d.low, d.high) == (pytest.approx(low) if low is not None else None,
                               pytest.approx(high) if high is not None else None)


@pytest.mark.parametrize("evidence,words", [
    ("from under $2B a year earlier", "under"), ("about $24 billion in AI orders", "about"),
    ("AI server revenue rose to ~$16B", "~"), ("nearly 18%", "nearly"),
    ("$12.1 billion in AI orders", None),
])
def test_hedge_words_are_read_from_the_evidence(evidence, words) -> None:
    assert hedge(evidence) == words


def test_an_approximate_input_gives_an_approximate_book_to_bill(tmp_path, slack) -> None:
    """'under $2B' of AI server revenue: the book-to-bill is stored approximate, alerts as
    ~6.05x, and its inputs line keeps the input's own words."""
    bot = Bot(tmp_path, slack, [{"name": "b2b-high", "metric": "ai_book_to_bill", "above": 5}])
    orders = story("o", "Dell booked $12.1 billion in AI orders in the first quarter of "
                        "fiscal 2026.", "2025-05-29")
    revenue = story("r", "Dell's AI server revenue was under $2 billion in the first quarter "
                         "of fiscal 2026.", "2025-05-30")
    (alert,) = bot.poll(ir=[orders, revenue])
    p = json.loads(alert.payload)
    assert (p["value_text"], p["approx"]) == ("6.05x", True)
    assert p["inputs"] == ["AI server orders $12.1B (FY2026-Q1, company-ir)",
                           "AI server revenue under $2B (FY2026-Q1, company-ir)"]
    assert "DELL AI book-to-bill ~6.05x (FY2026-Q1)" in json.dumps(slack.messages[0],
                                                                   ensure_ascii=False)
    (row,) = bot.query("SELECT approx, published_at FROM figure WHERE metric = "
                       "'ai_book_to_bill'")
    assert bool(row[0]) is True
    assert str(row[1]).startswith("2025-05-30")  # dated by its newest input


def test_a_range_stays_a_range(tmp_path, slack) -> None:
    bot = Bot(tmp_path, slack, [{"name": "ai-guide-high", "metric": "ai_revenue",
                                 "basis": "guidance", "above": 50e9}])
    (alert,) = bot.poll(ir=[story("g", "Dell expects AI server revenue of $58 billion to "
                                       "$62 billion for fiscal 2027.", "2026-05-28")])
    p = json.loads(alert.payload)
    assert (p["value_text"], p["low_text"], p["high_text"]) == ("$60B", "$58B", "$62B")
