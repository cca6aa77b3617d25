"""Which reported value stands for a period, when it was reported, and when guidance
was revised: pure functions of the set of observations of one (company, metric, basis,
accounting family, period), never of the order they were stored in.

    standing(obs)    the value that stands: the most authoritative source
                     (xbrl > sec-filing > company-ir > news), then the value first
                     stated latest (a later report of a new value supersedes; a recap
                     of an older value does not), then the surest and most precise
                     statement, then the earliest report of it, then a content-derived
                     tie-break (`Observation.rank`)
    reported(obs)    when the period was last reported as news: the newest publication
                     of a non-comparative observation (a comparative column in a later
                     release restates history and does not make it news again)
    revisions(obs)   guidance events: each time the standing value changed, judged at
                     each publication date on what had been published by then

Values "agree" within the reconcile tolerance (`differs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import ReconcileConfig
from bot.figures import authority
from bot.rules import Observation

_NEVER = datetime.min.replace(tzinfo=UTC)


def differs(a: float, b: float, unit: str, tol: ReconcileConfig) -> bool:
    """Whether two values of one metric disagree beyond the reconcile tolerance: points
    for percentages (× 100 for basis points), relative otherwise."""
    if unit == "%":
        return abs(b - a) > tol.tolerance_points + 1e-9
    if unit == "bps":
        return abs(b - a) > tol.tolerance_points * 100 + 1e-9
    return abs(b - a) > abs(a) * tol.tolerance_pct / 100 + 1e-9


def standing(obs: Sequence[Observation], tol: ReconcileConfig) -> Observation | None:
    if not obs:
        return None
    best = min(authority(o.source_kind) for o in obs)
    top = [o for o in obs if authority(o.source_kind) == best]
    first = _first_stated_by_value(top, obs, tol)
    return max(top, key=lambda o: (first[o.value], o.confidence, not o.approx,
                                   _precision(o.value), _earlier(o.published), o.rank))


def reported(obs: Sequence[Observation]) -> datetime | None:
    dates = [o.published for o in obs if not o.comparative and o.published is not None]
    return max(dates, default=None)


def is_reported(obs: Sequence[Observation]) -> bool:
    """Whether the period was ever stated as news (not only as a comparative column)."""
    return any(not o.comparative for o in obs)


@dataclass(frozen=True)
class Revision:
    at: datetime
    before: Observation
    after: Observation


def revisions(obs: Sequence[Observation], tol: ReconcileConfig) -> list[Revision]:
    """Each change of the standing value, at the publication date that made it. A change
    to a value first stated before the value it replaces is a recap of superseded
    guidance coming from a more authoritative source, not a revision."""
    undated = [o for o in obs if o.published is None]
    dates = sorted({o.published for o in obs if o.published is not None})
    out: list[Revision] = []
    before = standing(undated, tol)
    for at in dates:
        now = standing([o for o in obs if o.published is None or o.published <= at], tol)
        if (before is not None and now is not None
                and differs(before.value, now.value, now.unit, tol)
                and _first_stated(now, obs, tol) > _first_stated(before, obs, tol)):
            out.append(Revision(at, before, now))
        before = now
    return out


def _first_stated(o: Observation, obs: Sequence[Observation], tol: ReconcileConfig
                  ) -> datetime:
    """When any source first stated this value (within the tolerance)."""
    return _first_stated_by_value([o], obs, tol)[o.value]


def _first_stated_by_value(of: Sequence[Observation], obs: Sequence[Observation],
                           tol: ReconcileConfig) -> dict[float, datetime]:
    """_first_stated for each value of `of`, over the distinct (value, date) statements of
    `obs`: ten articles repeating one figure cost what one does."""
    stated: dict[float, datetime] = {}
    for p in obs:
        if p.published is not None and (p.value not in stated or p.published < stated[p.value]):
            stated[p.value] = p.published
    unit = of[0].unit if of else ""
    return {v: min((when for w, when in stated.items() if not differs(w, v, unit, tol)),
                   default=_NEVER) for v in {o.value for o in of}}


def _earlier(when: datetime | None) -> float:
    return -(when or _NEVER).timestamp() if when else float("-inf")


def _precision(value: float) -> int:
    """Significant digits: 29,776,000,000 (a table in millions) is more precise than
    29,800,000,000 ("$29.8 billion")."""
    digits = f"{abs(value):.12g}".split("e")[0].replace(".", "").strip("0")
    return len(digits)
