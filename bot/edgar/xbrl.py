"""XBRL company facts → Figures for one filing's fiscal period (pure).

Input: `data.sec.gov/api/xbrl/companyfacts/CIK##########.json`
(`facts → us-gaap → Revenues → units → USD → [{start, end, val, accn, fy, fp, form,
filed, frame}]`). Output: revenue, gross_margin (GrossProfit / revenue) and
operating_margin (OperatingIncomeLoss / revenue), source `xbrl`, GAAP. Margins are
stated to 0.1 point, as filings and releases state them: 5,447 / 29,776 is 18.3, the
release's own figure, so reconciliation sees agreement rather than a 0.01-point
"correction".

Periods are read from the facts' dates through the company's FiscalCalendar, not from
`fy`/`fp`: in companyfacts those describe the *filing* (a 10-Q's prior-year comparative
carries the filing's fy and fp), and companies name fiscal years their own way. A
3-month duration (12–14 weeks) is a quarter, a 52/53-week one a fiscal year; 6- and
9-month year-to-date facts are not figures. For a 10-K, the fourth quarter is the
fiscal year less the three quarters the 10-Qs reported (10-Ks rarely tag Q4 itself).

companyfacts carries only facts without dimensions, so segment figures (ISG, CSG) are
not there; they come from the earnings release (8-K, EX-99.1).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

from bot.errors import ParseError
from bot.figures import Figure
from bot.fiscal import FiscalCalendar, Period

log = logging.getLogger("marketbot.edgar")

# The concept a company tags total revenue with, most specific first (ASC 606 filers
# moved from SalesRevenueNet to RevenueFromContractWithCustomer…; many keep Revenues).
REVENUE = ("Revenues", "RevenueFromContractWithCustomerExcludingAssessedTax",
           "RevenueFromContractWithCustomerIncludingAssessedTax", "SalesRevenueNet")
GROSS_PROFIT = ("GrossProfit",)
OPERATING_INCOME = ("OperatingIncomeLoss",)
CONCEPTS = REVENUE + GROSS_PROFIT + OPERATING_INCOME

QUARTER_DAYS = range(84, 99)  # 12–14 weeks
YEAR_DAYS = range(357, 372)  # 51–53 weeks, or a calendar year


@dataclass(frozen=True)
class Fact:
    concept: str
    value: float
    start: date
    end: date
    accn: str
    form: str = ""
    filed: date | None = None
    fy: int | None = None
    fp: str | None = None
    frame: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_quarter(self) -> bool:
        return self.days in QUARTER_DAYS

    @property
    def is_year(self) -> bool:
        return self.days in YEAR_DAYS


@dataclass(frozen=True)
class CompanyFacts:
    cik: int | None
    name: str
    facts: dict[str, tuple[Fact, ...]]  # us-gaap concept → USD duration facts

    def accessions(self) -> set[str]:
        return {f.accn for facts in self.facts.values() for f in facts}


@dataclass(frozen=True)
class FilingFigures:
    """What a 10-Q/10-K's XBRL facts say: its own fiscal period and the figures."""

    period: str | None  # FY2026-Q2, FY2025; None when no revenue fact has this accession
    figures: tuple[Figure, ...]
    note: str | None = None  # why figures are missing, or a disagreement worth logging


def parse_companyfacts(body: bytes) -> CompanyFacts:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"malformed companyfacts JSON: {exc}", retryable=False) from exc
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        raise ParseError("companyfacts JSON has no facts object", retryable=False)
    gaap = data["facts"].get("us-gaap") or {}
    facts = {}
    for concept in CONCEPTS:
        units = (gaap.get(concept) or {}).get("units") or {}
        parsed = [f for raw in units.get("USD") or [] if (f := _fact(concept, raw))]
        if parsed:
            facts[concept] = tuple(parsed)
    cik = data.get("cik")
    return CompanyFacts(int(cik) if str(cik).isdigit() else None,
                        str(data.get("entityName") or ""), facts)


def _fact(concept: str, raw) -> Fact | None:
    if not isinstance(raw, dict):
        return None
    try:
        start, end = date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"])
        value = float(raw["val"])
        accn = str(raw["accn"])
    except (KeyError, TypeError, ValueError):
        return None  # instants (no start) and malformed facts are not durations we read
    filed = raw.get("filed")
    fy = raw.get("fy")
    return Fact(concept, value, start, end, accn, str(raw.get("form") or ""),
                date.fromisoformat(filed) if isinstance(filed, str) and filed[:1].isdigit()
                else None,
                int(fy) if isinstance(fy, int) or (isinstance(fy, str) and fy.isdigit())
                else None,
                raw.get("fp") if raw.get("fp") not in (None, "None") else None,
                raw.get("frame") if raw.get("frame") not in (None, "None") else None)


# ---------------------------------------------------------------- a filing's figures


def filing_figures(facts: CompanyFacts, accession: str, form: str,
                   calendar: FiscalCalendar) -> FilingFigures:
    """The figures a 10-Q or 10-K reports: its own period's, and the prior periods it
    restates for comparison (flagged `comparative`); for a 10-K also the derived Q4."""
    own = [f for f in _revenue_facts(facts) if f.accn == accession]
    annual = form.startswith(("10-K", "20-F", "40-F"))
    durations = sorted({(f.start, f.end) for f in own
                        if (f.is_year if annual else f.is_quarter)}, key=lambda d: d[1])
    if not durations:
        return FilingFigures(None, (), f"no {'annual' if annual else 'quarterly'} revenue "
                                       f"fact carries accession {accession}")
    current = durations[-1]
    label = _label(calendar, *current, annual)
    note = _check_fy_fp(own, current, label, annual)
    out: list[Figure] = []
    for start, end in durations:
        out += _period_figures(facts, accession, form, start, end,
                               _label(calendar, start, end, annual),
                               comparative=(start, end) != current)
    if annual:
        out += _derived_q4(facts, accession, form, calendar, *current)
    return FilingFigures(label, tuple(out), note)


def _period_figures(facts: CompanyFacts, accession: str, form: str, start: date, end: date,
                    label: str, *, comparative: bool) -> list[Figure]:
    revenue = _pick(facts, REVENUE, start, end, accession)
    if revenue is None:
        return []
    where = f"for {start.isoformat()}–{end.isoformat()} ({form} {accession})"
    out = [_figure("revenue", revenue.value, "USD", label, comparative,
                   f"XBRL us-gaap:{revenue.concept} {revenue.value:,.0f} {where}")]
    for metric, concepts in (("gross_margin", GROSS_PROFIT),
                             ("operating_margin", OPERATING_INCOME)):
        part = _pick(facts, concepts, start, end, accession)
        if part is not None and revenue.value:
            out.append(_figure(
                metric, round(100 * part.value / revenue.value, 1), "%", label, comparative,
                f"XBRL us-gaap:{revenue.concept} {revenue.value:,.0f} / {part.concept} "
                f"{part.value:,.0f} {where}"))
    return out


def _derived_q4(facts: CompanyFacts, accession: str, form: str, calendar: FiscalCalendar,
                start: date, end: date) -> list[Figure]:
    """Q4 = fiscal year − Q1 − Q2 − Q3, each concept on its own; nothing if a quarter
    is missing. A Q4 fact the filing tags itself is used as is."""
    year = calendar.fiscal_year_of(end)
    label = Period(year, 4).label
    q4_start = calendar.bounds(Period(year, 4))[0]
    if _pick(facts, REVENUE, q4_start, end, None) is not None:
        return _period_figures(facts, accession, form, q4_start, end, label,
                               comparative=False)
    values: dict[str, tuple[str, float]] = {}
    for key, concepts in (("revenue", REVENUE), ("gp", GROSS_PROFIT),
                          ("oi", OPERATING_INCOME)):
        fy = _pick(facts, concepts, start, end, accession)
        if fy is None:
            continue
        quarters = [_quarter(facts, fy.concept, calendar, Period(year, q)) for q in (1, 2, 3)]
        if all(q is not None for q in quarters):
            values[key] = (fy.concept, fy.value - sum(q.value for q in quarters))
    if "revenue" not in values or not values["revenue"][1]:
        return []
    rev_concept, revenue = values["revenue"]
    where = (f"for {q4_start.isoformat()}–{end.isoformat()}: fiscal year ({form} "
             f"{accession}) less Q1–Q3 (10-Q)")
    out = [_figure("revenue", revenue, "USD", label, False,
                   f"XBRL us-gaap:{rev_concept} {revenue:,.0f} {where}")]
    for metric, key in (("gross_margin", "gp"), ("operating_margin", "oi")):
        if key in values:
            concept, value = values[key]
            out.append(_figure(metric, round(100 * value / revenue, 1), "%", label, False,
                               f"XBRL us-gaap:{rev_concept} {revenue:,.0f} / {concept} "
                               f"{value:,.0f} {where}"))
    return out


def _quarter(facts: CompanyFacts, concept: str, calendar: FiscalCalendar,
             period: Period) -> Fact | None:
    """The latest-filed 3-month fact of `concept` for a fiscal quarter."""
    found = [f for f in facts.facts.get(concept, ()) if f.is_quarter
             and calendar.quarter_of(f.end) == period]
    return max(found, key=_recency, default=None)


def _pick(facts: CompanyFacts, concepts: tuple[str, ...], start: date, end: date,
          accession: str | None) -> Fact | None:
    """The first concept with a fact for exactly this duration (from this filing if
    `accession` is given, else the latest filed)."""
    for concept in concepts:
        found = [f for f in facts.facts.get(concept, ()) if (f.start, f.end) == (start, end)
                 and (accession is None or f.accn == accession)]
        if found:
            return max(found, key=_recency)
    return None


def _revenue_facts(facts: CompanyFacts) -> list[Fact]:
    return [f for c in REVENUE for f in facts.facts.get(c, ())]


def _label(calendar: FiscalCalendar, start: date, end: date, annual: bool) -> str:
    if annual:
        return Period(calendar.fiscal_year_of(end)).label
    return calendar.quarter_of(end).label


def _check_fy_fp(own: list[Fact], current: tuple[date, date], label: str,
                 annual: bool) -> str | None:
    """XBRL's own fy/fp for the filing's period, against the calendar's label."""
    fact = next((f for f in own if (f.start, f.end) == current), None)
    if fact is None or fact.fy is None or not fact.fp:
        return None
    theirs = f"FY{fact.fy}" if fact.fp == "FY" or annual else f"FY{fact.fy}-{fact.fp}"
    if theirs != label:
        return (f"XBRL says {theirs} for the period ending {current[1].isoformat()}; "
                f"the fiscal calendar says {label} (used)")
    return None


def _recency(f: Fact) -> tuple:
    return (f.filed or date.min, f.accn)


def _figure(metric: str, value: float, unit: str, period: str, comparative: bool,
            evidence: str) -> Figure:
    return Figure(metric=metric, basis="actual", value=value, unit=unit, period=period,
                  evidence=evidence, span=(0, len(evidence)), accounting="gaap",
                  comparative=comparative)
