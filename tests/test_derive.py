"""Derived metrics (pure): formulas, inputs recorded, and what each input affects."""

from __future__ import annotations

import pytest

from bot.derive import affected, compute
from bot.rules import Observation


def o(metric, value, period, basis="actual", accounting=None, unit=None):
    unit = unit or ("%" if "margin" in metric else "USD")
    return Observation(company="DELL", metric=metric, basis=basis, period=period, value=value,
                       unit=unit, accounting=accounting, source_kind="company-ir")


# Dell FY2027 Q1 as reported (orders $24.4B, AI server revenue $16.1B, backlog $51.3B,
# FY27 AI revenue outlook $60B); the FY2026-Q4 backlog here is illustrative.
HISTORY = [
    o("ai_orders", 24.4e9, "FY2027-Q1"), o("ai_revenue", 16.1e9, "FY2027-Q1"),
    o("ai_backlog", 51.3e9, "FY2027-Q1"), o("ai_backlog", 43.0e9, "FY2026-Q4"),
    o("ai_revenue", 60e9, "FY2027", basis="guidance"),
    o("gross_margin", 17.8, "FY2027-Q1"), o("gross_margin", 18.9, "FY2026-Q4"),
    o("gross_margin", 20.4, "FY2026-Q1"),
    o("gross_margin", 19.0, "FY2027-Q1", accounting="non_gaap"),
]


def lookup(metric, basis, period, accounting):
    for h in HISTORY:
        if (h.metric, h.basis, h.period) == (metric, basis, period) and \
                (h.accounting == "non_gaap") == (accounting == "non_gaap"):
            return h
    return None


@pytest.mark.parametrize("metric,period,accounting,value,unit,inputs", [
    ("ai_book_to_bill", "FY2027-Q1", None, 24.4 / 16.1, "x", ["ai_orders", "ai_revenue"]),
    ("ai_backlog_conversion", "FY2027-Q1", None, 16.1 / 43.0 * 100, "%",
     ["ai_revenue", "ai_backlog"]),
    ("ai_backlog_coverage", "FY2027-Q1", None, 51.3 / 16.1, "quarters",
     ["ai_backlog", "ai_revenue"]),
    ("ai_guidance_coverage", "FY2027-Q1", None, 51.3 / (60 - 16.1), "x",
     ["ai_backlog", "ai_revenue", "ai_revenue"]),
    ("gross_margin_qoq_bps", "FY2027-Q1", None, -110.0, "bps", ["gross_margin"] * 2),
    ("gross_margin_yoy_bps", "FY2027-Q1", None, -260.0, "bps", ["gross_margin"] * 2),
])
def test_formulas(metric, period, accounting, value, unit, inputs) -> None:
    d = compute(metric, period, accounting, lookup)
    assert d is not None and d.value == pytest.approx(value) and d.unit == unit
    assert [i.metric for i in d.inputs] == inputs
    assert f" = {d.formula} (" in d.evidence  # the evidence shows the formula and its inputs
    assert all(i.metric in d.evidence for i in d.inputs)


@pytest.mark.parametrize("metric,period,accounting", [
    ("ai_book_to_bill", "FY2026-Q4", None),  # no orders for that quarter
    ("ai_backlog_conversion", "FY2026-Q4", None),  # no backlog a quarter earlier
    ("ai_guidance_coverage", "FY2027-Q2", None),  # Q2 revenue not known yet
    ("gross_margin_qoq_bps", "FY2027-Q1", "non_gaap"),  # no non-GAAP Q4 to compare with
    ("ai_book_to_bill", "FY2027", None),  # ratios are quarterly
])
def test_missing_inputs_give_nothing(metric, period, accounting) -> None:
    assert compute(metric, period, accounting, lookup) is None


def test_evidence_names_every_input() -> None:
    d = compute("ai_book_to_bill", "FY2027-Q1", None, lookup)
    assert d.evidence == ("AI book-to-bill 1.52x = AI orders / AI revenue (ai_orders $24.4B "
                          "FY2027-Q1 [company-ir], ai_revenue $16.1B FY2027-Q1 [company-ir])")


@pytest.mark.parametrize("metric,basis,period,expected", [
    ("ai_orders", "actual", "FY2027-Q1", {("ai_book_to_bill", "FY2027-Q1")}),
    ("ai_backlog", "actual", "FY2027-Q4", {("ai_backlog_coverage", "FY2027-Q4"),
                                           ("ai_guidance_coverage", "FY2027-Q4"),
                                           ("ai_backlog_conversion", "FY2028-Q1")}),
    ("ai_revenue", "actual", "FY2027-Q3", {("ai_book_to_bill", "FY2027-Q3"),
                                           ("ai_backlog_conversion", "FY2027-Q3"),
                                           ("ai_backlog_coverage", "FY2027-Q3"),
                                           ("ai_guidance_coverage", "FY2027-Q3"),
                                           ("ai_guidance_coverage", "FY2027-Q4")}),
    ("ai_revenue", "guidance", "FY2027", {("ai_guidance_coverage", f"FY2027-Q{q}")
                                          for q in (1, 2, 3, 4)}),
    ("gross_margin", "actual", "FY2026-Q4", {("gross_margin_qoq_bps", "FY2026-Q4"),
                                             ("gross_margin_qoq_bps", "FY2027-Q1"),
                                             ("gross_margin_yoy_bps", "FY2026-Q4"),
                                             ("gross_margin_yoy_bps", "FY2027-Q4")}),
    ("revenue", "actual", "FY2027-Q1", set()),
    ("ai_orders", "actual", None, set()),
])
def test_affected(metric, basis, period, expected) -> None:
    assert {(m, p) for m, p, _ in affected(metric, basis, period)} == expected
