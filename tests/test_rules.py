"""Rule evaluation (pure): a table of (rule, new observation, history) → crossed."""

from __future__ import annotations

import pytest

from bot.config import RuleConfig
from bot.rules import Observation, compare_period, evaluate_rule, format_change, format_value


def obs(metric="gross_margin", value=17.8, period="FY2027-Q1", basis="actual", **kw):
    unit = kw.pop("unit", "%" if "margin" in metric else "USD")
    return Observation(company="DELL", metric=metric, basis=basis, period=period, value=value,
                       unit=unit, **kw)


def history(*observations):
    table = {(o.metric, o.basis, o.period, o.accounting == "non_gaap"): o for o in observations}
    return lambda m, b, p, a: table.get((m, b, p, a == "non_gaap"))


CASES = [
    # name, rule, new observation, history, expected crossed (None = no firing)
    ("q/q drop past 50 bps", dict(metric="gross_margin", change_bps=50),
     obs(value=17.8), [obs(value=18.9, period="FY2026-Q4")], ["fell ≥ 50 bps q/q"]),
    ("exactly 50 bps counts", dict(metric="gross_margin", change_bps=50),
     obs(value=17.8), [obs(value=18.3, period="FY2026-Q4")], ["fell ≥ 50 bps q/q"]),
    ("49 bps does not", dict(metric="gross_margin", change_bps=50),
     obs(value=17.81), [obs(value=18.3, period="FY2026-Q4")], None),
    ("direction up ignores a drop", dict(metric="gross_margin", change_bps=50, direction="up"),
     obs(value=17.8), [obs(value=18.9, period="FY2026-Q4")], None),
    ("y/y compares the same quarter a year earlier",
     dict(metric="gross_margin", change_bps=100, compare="yoy"),
     obs(value=18.3, period="FY2026-Q2"), [obs(value=21.4, period="FY2025-Q2")],
     ["fell ≥ 100 bps y/y"]),
    ("no previous period: nothing to compare", dict(metric="gross_margin", change_bps=50),
     obs(value=17.8), [], None),
    ("below a level", dict(metric="isg_operating_margin", below=10),
     obs("isg_operating_margin", 8.8, "FY2026-Q2"), [], ["below 10%"]),
    ("above a level", dict(metric="ai_backlog", above=50e9),
     obs("ai_backlog", 51.3e9), [], ["above $50B"]),
    ("percent change of dollars", dict(metric="ai_backlog", change_pct=10),
     obs("ai_backlog", 51.3e9), [obs("ai_backlog", 43.0e9, "FY2026-Q4")], ["rose ≥ 10% q/q"]),
    ("guidance revision raised", dict(metric="ai_revenue", basis="guidance", revision_pct=5),
     obs("ai_revenue", 60e9, "FY2027", basis="guidance"),
     [obs("ai_revenue", 50e9, "FY2027", basis="guidance")], ["guidance raised ≥ 5%"]),
    ("guidance revision too small", dict(metric="ai_revenue", basis="guidance", revision_pct=5),
     obs("ai_revenue", 25e9, "FY2026", basis="guidance"),
     [obs("ai_revenue", 24.5e9, "FY2026", basis="guidance")], None),
    ("a rule on actuals ignores guidance", dict(metric="ai_revenue", above=1e9),
     obs("ai_revenue", 60e9, "FY2027", basis="guidance"), [], None),
    ("comparative figures are old news", dict(metric="gross_margin", below=30),
     obs(value=21.4, period="FY2025-Q2", comparative=True), [], None),
    ("no period: no alert", dict(metric="gross_margin", below=30),
     obs(value=20.0, period=None), [], None),
    ("confidence floor", dict(metric="gross_margin", below=30, min_confidence=0.9),
     obs(value=17.8, confidence=0.5), [], None),
    ("non-GAAP rule ignores GAAP", dict(metric="gross_margin", below=30, accounting="non_gaap"),
     obs(value=17.8), [], None),
    ("non-GAAP compares with non-GAAP",
     dict(metric="gross_margin", change_bps=100, compare="yoy", accounting="non_gaap"),
     obs(value=18.7, period="FY2026-Q2", accounting="non_gaap"),
     [obs(value=21.4, period="FY2025-Q2"),
      obs(value=22.0, period="FY2025-Q2", accounting="non_gaap")],
     ["fell ≥ 100 bps y/y"]),
    ("another company's rule", dict(metric="gross_margin", below=30, company="AAPL"),
     obs(value=17.8), [], None),
]


@pytest.mark.parametrize("name,rule,new,past,crossed", CASES, ids=[c[0] for c in CASES])
def test_rules(name, rule, new, past, crossed) -> None:
    firing = evaluate_rule(RuleConfig(**rule), new, history(*past))
    if crossed is None:
        assert firing is None
    else:
        assert firing is not None and list(firing.crossed) == crossed


def test_change_carries_previous_and_amount() -> None:
    firing = evaluate_rule(RuleConfig(metric="gross_margin", change_bps=50), obs(value=17.8),
                           history(obs(value=20.5, period="FY2026-Q4")))
    assert firing.change.previous.value == 20.5
    assert round(firing.change.amount) == -270
    assert format_change(firing.change) == "−270 bps q/q"


def test_a_rule_fires_once_per_period_whatever_the_source_or_value() -> None:
    rule = RuleConfig(metric="gross_margin", below=30)
    a = evaluate_rule(rule, obs(source_kind="news", figure_id=1), history())
    b = evaluate_rule(rule, obs(source_kind="company-ir", figure_id=2), history())
    c = evaluate_rule(rule, obs(value=17.9), history())  # a later value: a correction
    d = evaluate_rule(rule, obs(period="FY2027-Q2"), history())
    e = evaluate_rule(rule, obs(accounting="non_gaap"), history())
    assert a.dedupe_key == b.dedupe_key == c.dedupe_key
    assert len({a.dedupe_key, d.dedupe_key, e.dedupe_key}) == 3


def test_each_guidance_revision_is_its_own_event() -> None:
    rule = RuleConfig(metric="ai_revenue", basis="guidance", revision_pct=5)
    past = history(obs("ai_revenue", 20e9, "FY2026", basis="guidance"))
    first = evaluate_rule(rule, obs("ai_revenue", 25e9, "FY2026", basis="guidance"), past)
    second = evaluate_rule(rule, obs("ai_revenue", 30e9, "FY2026", basis="guidance"), past)
    assert first.dedupe_key != second.dedupe_key


@pytest.mark.parametrize("period,compare,expected", [
    ("FY2027-Q1", "qoq", "FY2026-Q4"), ("FY2027-Q3", "qoq", "FY2027-Q2"),
    ("FY2027-Q1", "yoy", "FY2026-Q1"), ("FY2027", "qoq", "FY2026"), ("FY2027", "yoy", "FY2026"),
])
def test_compare_period(period, compare, expected) -> None:
    assert compare_period(period, compare) == expected


@pytest.mark.parametrize("value,unit,text", [
    (17.8, "%", "17.8%"), (20.0, "%", "20%"), (51.3e9, "USD", "$51.3B"), (60e9, "USD", "$60B"),
    (1.043e9, "USD", "$1.04B"), (803e6, "USD", "$803M"), (5.24, "USD/share", "$5.24"),
    (1.25, "x", "1.25x"),
])
def test_format_value(value, unit, text) -> None:
    assert format_value(value, unit) == text


@pytest.mark.parametrize("failures,retry_after,delay", [
    (1, None, 300), (2, None, 600), (3, None, 1200), (4, None, 2400), (5, None, 3600),
    (50, None, 3600),  # capped at interval × 12, never dropped
    (1, 900, 900),  # Retry-After wins when longer
    (1, 86400, 3600),  # …but the cap still holds
])
def test_feed_backoff(failures, retry_after, delay) -> None:
    from bot.pipeline import backoff_delay
    assert backoff_delay(300, failures, retry_after) == delay
