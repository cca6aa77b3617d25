"""Derived metrics (pure): the conversion ratios and margin moves traders watch.

    ai_book_to_bill        = ai_orders(Q) / ai_revenue(Q)                      (x)
    ai_backlog_conversion  = ai_revenue(Q) / ai_backlog(Q−1) × 100    (% of backlog shipped)
    ai_backlog_coverage    = ai_backlog(Q) / ai_revenue(Q)                     (quarters)
    ai_guidance_coverage   = ai_backlog(Q) / (guidance(FY) − Σ ai_revenue(FY-Q1…Q))  (x)
    <margin>_qoq_bps       = (margin(Q) − margin(Q−1)) × 100                   (bps)
    <margin>_yoy_bps       = (margin(P) − margin(P − 1 year)) × 100            (bps)

`affected(metric, basis, period)` says which derived values an input feeds, so
that a new or corrected input recomputes exactly those; `compute()` builds one
from the current inputs (via `lookup`) and records them, so an alert can show
where a ratio came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.extract.vocab import HEDGE_BEFORE_RE
from bot.figures import MARGIN_METRICS, METRICS
from bot.fiscal import Period
from bot.rules import Observation, format_value

FORMULA = {
    "ai_book_to_bill": "AI orders / AI revenue",
    "ai_backlog_conversion": "AI revenue / prior-quarter AI backlog",
    "ai_backlog_coverage": "AI backlog / AI revenue",
    "ai_guidance_coverage": "AI backlog / (FY AI revenue guidance − AI revenue recognized "
                            "this year)",
}


def formula(metric: str) -> str:
    if metric in FORMULA:
        return FORMULA[metric]
    base, kind = metric.rsplit("_", 2)[0], metric.rsplit("_", 2)[1]
    return f"{METRICS[base].label} change {'q/q' if kind == 'qoq' else 'y/y'}"


# lookup(metric, basis, period, accounting) → the current observation
Lookup = Callable[[str, str, str, str | None], Observation | None]


@dataclass(frozen=True)
class Derived:
    metric: str
    period: str
    value: float
    unit: str
    accounting: str | None
    inputs: tuple[Observation, ...]
    formula: str
    # What the inputs' ranges allow (interval arithmetic); None when every input is a
    # single value.
    low: float | None = None
    high: float | None = None

    @property
    def confidence(self) -> float:
        return min((i.confidence for i in self.inputs), default=1.0)

    @property
    def approx(self) -> bool:
        """Approximate as soon as one input is ("under $2B" → "~6.05x")."""
        return self.low is not None or any(i.approx for i in self.inputs)

    @property
    def evidence(self) -> str:
        parts = ", ".join(describe(i) for i in self.inputs)
        return f"{METRICS[self.metric].label} {format_value(self.value, self.unit)} = " \
               f"{self.formula} ({parts})"


def describe(obs: Observation) -> str:
    basis = " guidance" if obs.basis == "guidance" else ""
    return (f"{obs.metric}{basis} {format_value(obs.value, obs.unit)} {obs.period} "
            f"[{obs.source_kind}]")


def affected(metric: str, basis: str, period: str | None, accounting: str | None = None
             ) -> list[tuple[str, str, str | None]]:
    """(derived metric, period, accounting) pairs that depend on this input."""
    if period is None:
        return []
    p = Period.parse(period)
    out: list[tuple[str, str, str | None]] = []
    if metric in MARGIN_METRICS and basis == "actual":
        later_q = _next(p) if p.quarter else None
        if p.quarter:
            out += [(f"{metric}_qoq_bps", p.label, accounting)]
            out += [(f"{metric}_qoq_bps", later_q.label, accounting)]
        out += [(f"{metric}_yoy_bps", p.label, accounting),
                (f"{metric}_yoy_bps", Period(p.year + 1, p.quarter).label, accounting)]
        return out
    if p.quarter is None:
        if metric == "ai_revenue" and basis == "guidance":
            out += [("ai_guidance_coverage", Period(p.year, q).label, None) for q in (1, 2, 3, 4)]
        return out
    if basis != "actual":
        return out
    if metric == "ai_orders":
        out.append(("ai_book_to_bill", p.label, None))
    elif metric == "ai_revenue":
        out += [("ai_book_to_bill", p.label, None), ("ai_backlog_conversion", p.label, None),
                ("ai_backlog_coverage", p.label, None)]
        out += [("ai_guidance_coverage", Period(p.year, q).label, None)
                for q in range(p.quarter, 5)]
    elif metric == "ai_backlog":
        out += [("ai_backlog_coverage", p.label, None), ("ai_guidance_coverage", p.label, None),
                ("ai_backlog_conversion", _next(p).label, None)]
    return out


def inputs_of(metric: str, period: str, accounting: str | None = None
              ) -> list[tuple[str, str, str, str | None]]:
    """(metric, basis, period, accounting) of every value `compute` may look up: what an
    evaluation loads before it derives."""
    p = Period.parse(period)
    if metric.endswith(("_qoq_bps", "_yoy_bps")):
        base, kind = metric.rsplit("_", 2)[0], metric.rsplit("_", 2)[1]
        if kind == "qoq" and p.quarter is None:
            return []
        before = p.previous() if kind == "qoq" else p.year_ago()
        return [(base, "actual", p.label, accounting), (base, "actual", before.label, accounting)]
    if p.quarter is None:
        return []
    q, prev = p.label, p.previous().label
    return {
        "ai_book_to_bill": [("ai_orders", "actual", q, None), ("ai_revenue", "actual", q, None)],
        "ai_backlog_conversion": [("ai_revenue", "actual", q, None),
                                  ("ai_backlog", "actual", prev, None)],
        "ai_backlog_coverage": [("ai_backlog", "actual", q, None),
                                ("ai_revenue", "actual", q, None)],
        "ai_guidance_coverage": [("ai_backlog", "actual", q, None),
                                 ("ai_revenue", "guidance", Period(p.year).label, None)]
        + [("ai_revenue", "actual", Period(p.year, i).label, None)
           for i in range(1, p.quarter + 1)],
    }.get(metric, [])


def compute(metric: str, period: str, accounting: str | None, lookup: Lookup
            ) -> Derived | None:
    p = Period.parse(period)
    if metric.endswith(("_qoq_bps", "_yoy_bps")):
        return _margin_move(metric, p, accounting, lookup)
    if p.quarter is None:
        return None

    def actual(m: str, q: Period) -> Observation | None:
        return lookup(m, "actual", q.label, None)

    if metric == "ai_book_to_bill":
        orders, revenue = actual("ai_orders", p), actual("ai_revenue", p)
        if orders and revenue and revenue.value > 0:
            return _ratio(metric, period, orders, revenue, "x")
    elif metric == "ai_backlog_conversion":
        revenue, backlog = actual("ai_revenue", p), actual("ai_backlog", p.previous())
        if revenue and backlog and backlog.value > 0:
            return _ratio(metric, period, revenue, backlog, "%", scale=100)
    elif metric == "ai_backlog_coverage":
        backlog, revenue = actual("ai_backlog", p), actual("ai_revenue", p)
        if backlog and revenue and revenue.value > 0:
            return _ratio(metric, period, backlog, revenue, "quarters")
    elif metric == "ai_guidance_coverage":
        return _guidance_coverage(p, lookup)
    return None


def _guidance_coverage(p: Period, lookup: Lookup) -> Derived | None:
    backlog = lookup("ai_backlog", "actual", p.label, None)
    guidance = lookup("ai_revenue", "guidance", Period(p.year).label, None)
    if not backlog or not guidance:
        return None
    recognized = [lookup("ai_revenue", "actual", Period(p.year, q).label, None)
                  for q in range(1, p.quarter + 1)]
    if any(r is None for r in recognized):
        return None  # the year's shipments so far are not all known
    remaining = guidance.value - sum(r.value for r in recognized)
    if remaining <= 0:
        return None
    bounds = None
    if _ranged(backlog, guidance, *recognized):
        rest_low = _lo(guidance) - sum(_hi(r) for r in recognized)
        rest_high = _hi(guidance) - sum(_lo(r) for r in recognized)
        if rest_low > 0:
            bounds = (_lo(backlog) / rest_high, _hi(backlog) / rest_low)
    return Derived("ai_guidance_coverage", p.label, backlog.value / remaining, "x", None,
                   (backlog, guidance, *recognized),
                   formula("ai_guidance_coverage"), *(bounds or (None, None)))


def _margin_move(metric: str, p: Period, accounting: str | None, lookup: Lookup
                 ) -> Derived | None:
    base, kind = metric.rsplit("_", 2)[0], metric.rsplit("_", 2)[1]
    if kind == "qoq" and p.quarter is None:
        return None
    before = p.previous() if kind == "qoq" else p.year_ago()
    now, then = lookup(base, "actual", p.label, accounting), \
        lookup(base, "actual", before.label, accounting)
    if not now or not then:
        return None
    bounds = ((round((_lo(now) - _hi(then)) * 100, 6), round((_hi(now) - _lo(then)) * 100, 6))
              if _ranged(now, then) else (None, None))
    return Derived(metric, p.label, round((now.value - then.value) * 100, 6), "bps",
                   accounting, (now, then), formula(metric), *bounds)


def _ratio(metric: str, period: str, top: Observation, bottom: Observation, unit: str,
           scale: float = 1.0) -> Derived:
    """top / bottom (× scale); with a range on either side, the range it allows."""
    bounds: tuple[float | None, float | None] = (None, None)
    if _ranged(top, bottom) and _lo(bottom) > 0:
        bounds = (_lo(top) / _hi(bottom) * scale, _hi(top) / _lo(bottom) * scale)
    return Derived(metric, period, top.value / bottom.value * scale, unit, None,
                   (top, bottom), formula(metric), *bounds)


def _ranged(*obs: Observation) -> bool:
    return any(o.low is not None or o.high is not None for o in obs)


def _lo(o: Observation) -> float:
    return o.low if o.low is not None else o.value


def _hi(o: Observation) -> float:
    return o.high if o.high is not None else o.value


_NUMBER = re.compile(r"[$€£~≈]?\s?\d")


def hedge(evidence: str | None) -> str | None:
    """The words that make a figure approximate, as its evidence says them ("under" in
    "from under $2B a year earlier"): shown with a derived value's inputs."""
    m = _NUMBER.search(evidence or "")
    if m is None:
        return None
    before = evidence[:m.start() + (1 if evidence[m.start()] in "~≈" else 0)]
    h = HEDGE_BEFORE_RE.regex.search(before)
    return h.group(0).strip() if h else None


def _next(p: Period) -> Period:
    return Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, (p.quarter or 0) + 1)
