"""Plausibility (pure): is a figure believable next to its series and its siblings?

Before a figure can fire a rule it is checked against what else is stored for its company
(bot.analysis gathers the `Context`). Each check either does not apply, passes, or gives
a doubt — a reason a careful analyst would stop at:

    range            a margin outside its metric's sane range (plausibility.ranges)
    year_share       a quarter of a flow metric (revenue, orders, cash flow…) at or near
                     its fiscal year's value: a full-year figure read as the quarter's
    recent_quarters  k× above or below the median of the previous quarters (dollars), or
                     further than max_points from it (margins)
    quarters_sum     the four quarters of a flow metric against the fiscal year's value
    approx_source    an approximate figure ("~12%", "about $2B") from a news source: a
                     rounded or long-run number, not a reported one

A low-authority figure that disagrees with an authoritative one for the same period never
reaches the rules: the authoritative one stands (bot.series.standing). Two reports of the
same authority that disagree are not doubtful in themselves: guidance is revised, and
outlets restate; the value first stated latest stands and a correction follows a change.

A doubtful figure's alert is held until it is confirmed: stated (within the reconcile
tolerance) by a second independent source — another item from another feed or another
outlet — or by a more authoritative one (which then stands). `confirmed` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from bot.config import PlausibilityConfig, ReconcileConfig
from bot.figures import METRICS
from bot.rules import Observation, format_value
from bot.series import differs

# Metrics that add up over a period: a fiscal year's value is the sum of its quarters.
# (A backlog is a level at a date, a margin or EPS a ratio: neither adds up.)
FLOW_METRICS = frozenset({
    "revenue", "operating_cash_flow", "free_cash_flow", "isg_revenue", "csg_revenue",
    "servers_networking_revenue", "storage_revenue", "ai_orders", "ai_revenue",
})
CHECKS = ("range", "year_share", "recent_quarters", "quarters_sum", "approx_source")


@dataclass(frozen=True)
class Source:
    """Where an observation came from, to tell independent sources apart."""

    item_id: int | None
    feed: str
    outlet: str  # the host of the article's URL, else the feed


@dataclass(frozen=True)
class Context:
    """What is stored around an observation (standing values, actual basis)."""

    year: Observation | None = None  # the fiscal year's value (quarters of flow metrics)
    quarters: tuple[Observation, ...] = ()  # the fiscal year's quarters Q1–Q4 known
    recent: tuple[Observation, ...] = ()  # the quarters before, newest first


@dataclass(frozen=True)
class Verdict:
    passed: tuple[str, ...] = ()  # names of the checks that applied and passed
    doubts: tuple[str, ...] = ()  # why the figure is doubtful (empty: plausible)
    doubted: tuple[str, ...] = field(default=(), compare=False)  # names of failed checks

    @property
    def ok(self) -> bool:
        return not self.doubts


def check(obs: Observation, ctx: Context, cfg: PlausibilityConfig) -> Verdict:
    passed, doubts, doubted = [], [], []
    for name in CHECKS:
        outcome = _CHECKS[name](obs, ctx, cfg)
        if outcome is None:
            continue
        if outcome is True:
            passed.append(name)
        else:
            doubts.append(outcome)
            doubted.append(name)
    return Verdict(tuple(passed), tuple(doubts), tuple(doubted))


def confirmed(obs: Observation, agreeing: Sequence[tuple[Observation, Source]],
              tol: ReconcileConfig) -> list[Source]:
    """The independent sources that state obs's value (obs's own included): two or more
    confirm it. Two items are independent when they come from different feeds or
    different outlets; a more authoritative source that agrees counts on its own."""
    out: list[Source] = []
    for other, src in agreeing:
        if differs(obs.value, other.value, obs.unit, tol):
            continue
        if all(src.feed != s.feed or src.outlet != s.outlet for s in out) \
                and all(src.item_id != s.item_id for s in out):
            out.append(src)
    return out


# ---------------------------------------------------------------- checks
# Each: None (does not apply), True (passed) or the reason it failed.


def _range(obs: Observation, ctx: Context, cfg: PlausibilityConfig) -> str | bool | None:
    metric = METRICS.get(obs.metric)
    if metric is None or not metric.margin:
        return None
    low, high = cfg.ranges.get(obs.metric, cfg.default_margin_range)
    if low <= obs.value <= high:
        return True
    return (f"{_say(obs)} is outside the sane range of {metric.label.lower()} "
            f"({low:g}% to {high:g}%)")


def _year_share(obs: Observation, ctx: Context, cfg: PlausibilityConfig
                ) -> str | bool | None:
    if obs.metric not in FLOW_METRICS or not _is_quarter(obs) or ctx.year is None \
            or ctx.year.value <= 0 or obs.value <= 0:
        return None
    share = obs.value / ctx.year.value
    if share < cfg.year_share:
        return True
    return (f"{_say(obs)} is {share:.0%} of the fiscal year's "
            f"{format_value(ctx.year.value, ctx.year.unit)} ({ctx.year.period}): a full-year "
            "figure read as the quarter's?")


def _recent(obs: Observation, ctx: Context, cfg: PlausibilityConfig) -> str | bool | None:
    recent = [o.value for o in ctx.recent[:cfg.recent_quarters]]
    if not _is_quarter(obs) or len(recent) < 2:
        return None
    mid = median(recent)
    listed = ", ".join(format_value(o.value, o.unit) for o in ctx.recent[:cfg.recent_quarters])
    if obs.unit == "%":
        if abs(obs.value - mid) <= cfg.max_points:
            return True
        return (f"{_say(obs)} is {abs(obs.value - mid):.1f} points from the median of the "
                f"previous quarters ({listed})")
    if obs.unit != "USD" or mid <= 0 or obs.value <= 0:
        return None
    ratio = obs.value / mid
    if 1 / cfg.max_ratio <= ratio <= cfg.max_ratio:
        return True
    times = f"{ratio:.1f}×" if ratio > 1 else f"1/{1 / ratio:.1f}"
    return f"{_say(obs)} is {times} the median of the previous quarters ({listed})"


def _quarters_sum(obs: Observation, ctx: Context, cfg: PlausibilityConfig
                  ) -> str | bool | None:
    if obs.metric not in FLOW_METRICS or ctx.year is None or len(ctx.quarters) < 4 \
            or ctx.year.value <= 0:
        return None
    total = sum(q.value for q in ctx.quarters)
    gap = abs(total - ctx.year.value) / ctx.year.value * 100
    if gap <= cfg.quarters_sum_tolerance_pct:
        return True
    return (f"the quarters of {ctx.year.period} add up to {format_value(total, obs.unit)}, "
            f"the fiscal year states {format_value(ctx.year.value, ctx.year.unit)}")


def _approx_source(obs: Observation, ctx: Context, cfg: PlausibilityConfig
                   ) -> str | bool | None:
    if not cfg.approx_news:
        return None
    if obs.source_kind != "news":
        return None
    if not obs.approx:
        return True
    return f"{_say(obs)} is an approximate figure from a news source"


_CHECKS = {"range": _range, "year_share": _year_share, "recent_quarters": _recent,
           "quarters_sum": _quarters_sum, "approx_source": _approx_source}


def _is_quarter(obs: Observation) -> bool:
    return bool(obs.period and "-Q" in obs.period)


def _say(obs: Observation) -> str:
    label = METRICS[obs.metric].label if obs.metric in METRICS else obs.metric
    approx = "~" if obs.approx else ""
    return f"{label} {approx}{format_value(obs.value, obs.unit)} for {obs.period}"
