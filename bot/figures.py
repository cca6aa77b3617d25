"""The vocabulary shared by every stage: metrics, and the Figure value.

The names, units and meanings follow the labeled corpus specification (metric
table, `basis`, `period`, `approx`, `low`/`high`, `accounting`, `comparative`,
`table`, `evidence`). A Figure is a plain value: the extractor returns them, the
store persists them, rules read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Basis = Literal["actual", "guidance"]
Unit = Literal["USD", "%", "USD/share", "x", "quarters"]
Accounting = Literal["gaap", "non_gaap"] | None


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    label: str
    derived: bool = False
    margin: bool = False


_EXTRACTED = [
    Metric("revenue", "USD", "Revenue"),
    Metric("gross_margin", "%", "Gross margin", margin=True),
    Metric("operating_margin", "%", "Operating margin", margin=True),
    Metric("eps", "USD/share", "Diluted EPS"),
    Metric("operating_cash_flow", "USD", "Cash flow from operations"),
    Metric("free_cash_flow", "USD", "Free cash flow"),
    Metric("isg_revenue", "USD", "ISG revenue"),
    Metric("isg_operating_margin", "%", "ISG operating margin", margin=True),
    Metric("csg_revenue", "USD", "CSG revenue"),
    Metric("csg_operating_margin", "%", "CSG operating margin", margin=True),
    Metric("servers_networking_revenue", "USD", "Servers & networking revenue"),
    Metric("storage_revenue", "USD", "Storage revenue"),
    Metric("ai_orders", "USD", "AI server orders"),
    Metric("ai_revenue", "USD", "AI server revenue"),
    Metric("ai_backlog", "USD", "AI server backlog"),
]

_DERIVED = [
    Metric("ai_book_to_bill", "x", "AI book-to-bill", derived=True),
    Metric("ai_backlog_conversion", "%", "AI backlog conversion", derived=True),
    Metric("ai_backlog_coverage", "quarters", "AI backlog coverage", derived=True),
    Metric("ai_guidance_coverage", "x", "AI guidance coverage", derived=True),
]

MARGIN_METRICS = tuple(m.name for m in _EXTRACTED if m.margin)
# Margin moves: each margin's change in basis points vs the previous quarter / a year earlier.
_DERIVED += [Metric(f"{m.name}_{kind}_bps", "bps", f"{m.label} {label}", derived=True)
             for m in _EXTRACTED if m.margin
             for kind, label in (("qoq", "change q/q"), ("yoy", "change y/y"))]

METRICS: dict[str, Metric] = {m.name: m for m in _EXTRACTED + _DERIVED}

# Source authority, most authoritative first (used to choose a current value).
SOURCE_KINDS = ("xbrl", "sec-filing", "company-ir", "news")
DERIVED_SOURCE = "derived"  # values we compute; their authority is that of their weakest input


def authority(source_kind: str | None) -> int:
    """Rank of a source kind: 0 is the most authoritative."""
    return SOURCE_KINDS.index(source_kind) if source_kind in SOURCE_KINDS else len(SOURCE_KINDS)


@dataclass(frozen=True)
class Figure:
    """One figure stated by a text, with the evidence that states it.

    `value` is in base units: dollars, percent points, dollars per share.
    `span` is the (start, end) character offsets of `evidence` in the input text.
    """

    metric: str
    basis: Basis
    value: float
    unit: str
    period: str | None
    evidence: str
    span: tuple[int, int]
    approx: bool = False
    low: float | None = None
    high: float | None = None
    accounting: Accounting = None
    comparative: bool = False
    table: bool = False
    confidence: float = 1.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["span"] = list(self.span)
        return d
