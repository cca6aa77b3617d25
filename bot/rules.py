"""Rule evaluation: pure. A new observation + a way to look up the value that
stood for another period → the rules it fires, with what they crossed.

A rule fires at most once per (rule, company, metric, basis, period, value):
`Firing.dedupe_key` is what the outbox's unique constraint holds, so the same
figure from ten articles, or seen again after a restart, alerts once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import RuleConfig
from bot.figures import METRICS
from bot.fiscal import Period


@dataclass(frozen=True)
class Observation:
    company: str
    metric: str
    basis: str
    period: str | None
    value: float
    unit: str
    accounting: str | None = None
    confidence: float = 1.0
    comparative: bool = False
    source_kind: str = "news"
    published: datetime | None = None
    figure_id: int | None = None
    approx: bool = False
    low: float | None = None
    high: float | None = None
    item_id: int | None = None
    # A stable, content-derived tie-break (the item's dedupe key and the figure's place in
    # it): among equal reports the same one stands whatever order they were stored in.
    rank: str = ""


# lookup(metric, basis, period_label, accounting) → the value standing for that period
Lookup = Callable[[str, str, str, str | None], Observation | None]


@dataclass(frozen=True)
class Change:
    previous: Observation
    amount: float  # in `unit`
    unit: str  # "bps" or "%"
    compare: str  # "qoq", "yoy" or "revision"

    @property
    def direction(self) -> str:
        return "up" if self.amount > 0 else "down" if self.amount < 0 else "flat"


@dataclass(frozen=True)
class Firing:
    rule: RuleConfig
    observation: Observation
    crossed: tuple[str, ...]  # human descriptions of each threshold crossed
    change: Change | None

    @property
    def dedupe_key(self) -> str:
        return alert_key(self.rule, self.observation)


def alert_key(rule: RuleConfig, o: Observation) -> str:
    """Once per (rule, company, metric, basis, accounting family, period): a later,
    different value for the same period is a correction, not a new alert. Guidance
    revisions are events in themselves: each revised value alerts once."""
    family = "non_gaap" if o.accounting == "non_gaap" else "gaap"
    key = f"rule:{rule.rule_id}:{o.company}:{o.metric}:{o.basis}:{family}:{o.period}"
    if rule.revision_pct is not None:
        key += f":{o.value:.6g}"
    return key


def evaluate(rules: tuple[RuleConfig, ...] | list[RuleConfig], obs: Observation,
             lookup: Lookup) -> list[Firing]:
    return [f for rule in rules if (f := evaluate_rule(rule, obs, lookup))]


def applies(rule: RuleConfig, obs: Observation) -> bool:
    """Whether a rule looks at this observation at all."""
    if rule.metric != obs.metric or rule.basis != obs.basis:
        return False
    if obs.period is None or obs.comparative:
        return False  # no period: nothing to compare; comparative: old news
    if rule.company and rule.company != obs.company:
        return False
    if rule.accounting == "non_gaap" and obs.accounting != "non_gaap":
        return False
    if rule.accounting == "gaap" and obs.accounting == "non_gaap":
        return False
    return obs.confidence >= rule.min_confidence


def evaluate_rule(rule: RuleConfig, obs: Observation, lookup: Lookup) -> Firing | None:
    if not applies(rule, obs):
        return None
    crossed: list[str] = []
    unit = METRICS[obs.metric].unit
    if rule.above is not None and obs.value > rule.above:
        crossed.append(f"above {format_value(rule.above, unit)}")
    if rule.below is not None and obs.value < rule.below:
        crossed.append(f"below {format_value(rule.below, unit)}")
    change = None
    if rule.change_bps is not None or rule.change_pct is not None:
        change, text = _period_change(rule, obs, lookup)
        if text:
            crossed.append(text)
    if rule.revision_pct is not None:
        revision, text = _revision(rule, obs, lookup)
        change = change or revision
        if text:
            crossed.append(text)
    if not crossed:
        return None
    if change is None and obs.basis == "actual":
        change = context_change(obs, lookup)  # a level alert still shows the q/q move
    return Firing(rule, obs, tuple(crossed), change)


def comparison(rule: RuleConfig, obs: Observation, lookup: Lookup) -> Change | None:
    """The move a rule judges (or, for a level rule, shows): whether it fires or not."""
    if obs.period is None:
        return None
    if rule.change_bps is not None or rule.change_pct is not None:
        return _period_change(rule, obs, lookup)[0]
    if rule.revision_pct is not None:
        return _revision(rule, obs, lookup)[0]
    return context_change(obs, lookup) if obs.basis == "actual" else None


def context_change(obs: Observation, lookup: Lookup, compare: str = "qoq") -> Change | None:
    """The move vs the comparison period: bps for percentages, percent otherwise."""
    if obs.period is None:
        return None
    if Period.parse(obs.period).quarter is None:
        compare = "yoy"  # a fiscal year compares with the year before
    prev = lookup(obs.metric, obs.basis, compare_period(obs.period, compare), obs.accounting)
    return _change(obs, prev, compare, in_bps=obs.unit == "%") if prev else None


def _change(obs: Observation, prev: Observation, compare: str, *, in_bps: bool
            ) -> Change | None:
    if in_bps:
        return Change(prev, (obs.value - prev.value) * 100, "bps", compare)
    if prev.value == 0:
        return None
    return Change(prev, (obs.value - prev.value) / abs(prev.value) * 100, "%", compare)


def compare_period(period: str, compare: str) -> str:
    p = Period.parse(period)
    return (p.year_ago() if compare == "yoy" else p.previous()).label


def _period_change(rule: RuleConfig, obs: Observation, lookup: Lookup
                   ) -> tuple[Change | None, str | None]:
    if rule.compare == "qoq" and Period.parse(obs.period).quarter is None:
        return None, None  # a fiscal year has no previous quarter; use compare: yoy
    prev = lookup(obs.metric, obs.basis, compare_period(obs.period, rule.compare), obs.accounting)
    if prev is None:
        return None, None
    label = "q/q" if rule.compare == "qoq" else "y/y"
    in_bps = rule.change_bps is not None
    change = _change(obs, prev, rule.compare, in_bps=in_bps)
    if change is None:
        return None, None
    limit = rule.change_bps if in_bps else rule.change_pct
    threshold = f"{limit:g} bps {label}" if in_bps else f"{limit:g}% {label}"
    if not _moved(change.amount, limit, rule.direction):
        return change, None
    verb = {"up": "rose", "down": "fell"}.get(change.direction, "moved")
    return change, f"{verb} ≥ {threshold}"


def _revision(rule: RuleConfig, obs: Observation, lookup: Lookup
              ) -> tuple[Change | None, str | None]:
    prev = lookup(obs.metric, obs.basis, obs.period, obs.accounting)
    change = _change(obs, prev, "revision", in_bps=False) if prev else None
    if change is None:
        return None, None
    if not _moved(change.amount, rule.revision_pct, rule.direction):
        return change, None
    verb = {"up": "raised", "down": "cut"}.get(change.direction, "revised")
    return change, f"guidance {verb} ≥ {rule.revision_pct:g}%"


def _moved(amount: float, threshold: float, direction: str) -> bool:
    # Compare at a precision finer than any figure we store, so that 17.8 − 18.3
    # (−50.000000000000036 bps in floating point) counts as the 50 bps it is.
    amount = round(amount, 6)
    if direction == "up":
        return amount >= threshold
    if direction == "down":
        return -amount >= threshold
    return abs(amount) >= threshold


def format_value(value: float, unit: str) -> str:
    """17.8 % → '17.8%'; 51.3e9 USD → '$51.3B'; 5.24 USD/share → '$5.24'."""
    if unit == "%":
        return f"{value:.2f}".rstrip("0").rstrip(".") + "%"
    if unit == "USD/share":
        return f"${value:,.2f}"
    if unit == "USD":
        for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"${value / size:,.2f}".rstrip("0").rstrip(".") + suffix
        return f"${value:,.0f}"
    if unit == "bps":
        return f"{value:+,.0f} bps".replace("-", "−")
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "quarters":
        return f"{value:.1f} quarters"
    return f"{value:g} {unit}"


def format_change(change: Change) -> str:
    sign = "+" if change.amount > 0 else "−" if change.amount < 0 else "±"
    mag = abs(change.amount)
    amount = f"{mag:,.0f} bps" if change.unit == "bps" else f"{mag:.1f}%"
    label = {"qoq": "q/q", "yoy": "y/y", "revision": "vs prior guidance"}[change.compare]
    return f"{sign}{amount} {label}"
