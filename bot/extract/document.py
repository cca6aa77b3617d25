"""One pass over a document: sentences in order, tables, then the final cleanup.

Quantities and period phrases are found once over the whole text (two regex
scans) and handed to each sentence by offset; sentences without a money or
percent number are only read for their headings, and a sentence with no metric
phrase near its numbers, or a number that binds to no phrase, is not read further
(narrative.py). That keeps the cost at a few regex passes plus a little work per
number. Every full-text regex opens with a literal or one character class, so
`re` skips to its candidates in C (see the notes at _QTY, _BOUNDARY, _CELL).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import date

from bot.extract import tables
from bot.extract.context import DocContext, GuidanceThread, Sections, document_period
from bot.extract.narrative import sentence_figures
from bot.extract.numbers import find_quantities
from bot.extract.periods import PeriodMention, Resolved, find_periods
from bot.extract.sentences import split
from bot.figures import Figure
from bot.fiscal import FiscalCalendar, Period

# Publication dates outside these years are a broken clock or a typo, not a date a results
# text carries: they anchor no period (a "Q1" of year 999 has no fiscal label).
_YEARS = (1900, 9000)


def figures_of(text: str, published: date | None, calendar: FiscalCalendar) -> list[Figure]:
    if published is not None and not _YEARS[0] <= published.year <= _YEARS[1]:
        published = None
    found_tables = tables.find_tables(text, DocContext(published=published, calendar=calendar))
    skip = [(t.start, t.end) for t in found_tables]
    quantities = find_quantities(text, skip)
    starts = [q.start for q in quantities]
    spans = split(text)
    # Period phrases matter only near a number or at the start of a sentence that has one,
    # and in the text's head, where it says which period it reports.
    periods = find_periods(text, calendar, _windows(quantities, spans, starts))
    default = document_period(text, _with_head(text, calendar, periods), published, calendar)
    ctx = DocContext(published=published, calendar=calendar, default=default)
    pstarts = [p.start for p in periods]
    sections = Sections()
    thread = GuidanceThread(ctx)
    out: list[tuple[Figure, Resolved | None]] = []
    for s, e in spans:
        if skip and _inside(s, skip) and _inside(e - 1, skip):
            continue  # a sentence of a table (most texts have none: no search then)
        sentence = text[s:e]
        is_heading = sections.update(sentence)
        if is_heading:
            thread.heading(text, s, e, sections.guidance)
            sections.after(sentence)
            continue
        i, j = bisect_left(starts, s), bisect_left(starts, e)
        if i < j:
            sctx = _year_section(ctx) if sections.full_year else ctx
            for ps_, pe_, qi, qj in _pieces(s, e, i, j, starts):
                ps = periods[bisect_left(pstarts, ps_ - 40) : bisect_left(pstarts, pe_ + 40)]
                found = sentence_figures(text, (ps_, pe_), quantities[qi:qj], ps, sctx,
                                         sections.segment, sections.guidance)
                out.extend(thread.carry(text, ps_, found))
        thread.after(text, s, e, periods[bisect_left(pstarts, s) : bisect_left(pstarts, e)])
        sections.after(sentence)
    figs = _fill_open_periods(out, default, ctx)
    figs.extend(tables.table_figures(text, found_tables, ctx))
    return dedupe([_at_period_end(_expected(f, ctx)) for f in figs])


def _expected(f: Figure, ctx: DocContext) -> Figure:
    """A result for a period that had not ended when the text was written is an expectation:
    "will generate about $50 billion … in the current fiscal year". (An undated text may list
    results after the quarter it opens with: there the basis stands.)"""
    if f.basis != "actual" or f.comparative or f.table or f.period is None or ctx.published is None:
        return f
    if ctx.calendar.bounds(Period.parse(f.period))[1] < ctx.published:
        return f
    return replace(f, basis="guidance")


# Balances measured at a moment, not over a period: one stated "for the year" ("exiting our
# fiscal year at $2.9 billion") is the balance at the year's end, the end of its fourth quarter.
_BALANCES = frozenset({"ai_backlog"})


def _at_period_end(f: Figure) -> Figure:
    if f.metric in _BALANCES and f.period is not None and "-Q" not in f.period:
        return replace(f, period=f"{f.period}-Q4")
    return f


# A sentence is read by comparing its numbers and phrases with each other; a run-on
# "sentence" with thousands of numbers (a dump, or an attack) is read in pieces of this
# many numbers, so that the cost stays linear in the text. Written sentences have a few.
MAX_SENTENCE_NUMBERS = 64


def _pieces(s: int, e: int, i: int, j: int, starts: list[int]):
    """(start, end, first number, end number) of the sentence text[s:e] holding numbers
    i..j-1: the whole sentence, or pieces cut before every MAX_SENTENCE_NUMBERS-th number."""
    while j - i > MAX_SENTENCE_NUMBERS:
        k = i + MAX_SENTENCE_NUMBERS
        yield s, starts[k], i, k
        s, i = starts[k], k
    yield s, e, i, j


def _fill_open_periods(
    found: list[tuple[Figure, Resolved | None]], default: Period | None, ctx: DocContext
) -> list[Figure]:
    """Give unplaced results the period the text is about.

    A news story about a quarter states its headline figure with the quarter ("Revenue for
    the fourth quarter rose 7% to $23.9 billion") and the rest without ("Gross margin was
    24.3%"). When the text has no reporting-period statement, its first result placed in a
    quarter stands for it. A bare "Q2" that could not be placed takes it only if it is Q2.
    Guidance with no period of its own ("raising our AI shipment guidance to $25 billion")
    is for the fiscal year under way: Dell guides years, and names a quarter when it guides one.
    """
    if default is None:
        default = next(
            (Period.parse(f.period) for f, r in found
             if r is not None and f.basis == "actual" and f.period and "-Q" in f.period),
            None,
        )
    out = []
    for f, r in found:
        if r is not None and r.shift == "guidance":
            p = _guidance_period(r, default, ctx)
            if p is not None:
                f = replace(f, period=p.label, confidence=round(max(0.05, f.confidence - 0.15), 2))
        elif _fits_open(r, default):
            p = default.year_ago() if r.shift == "year_ago" else default.previous() if r.shift else default
            f = replace(f, period=p.label, confidence=round(max(0.05, f.confidence - 0.1), 2))
        if f.comparative and f.period is None and (default is not None or r is None or r.shift is None):
            # A prior-period value with no period to put it in. In a text that names no
            # period at all, "up from $2.6 billion in the previous quarter" is still the
            # previous quarter's value, of a period the text leaves unknown: kept.
            continue
        out.append(f)
    return out


def _guidance_period(r: Resolved, default: Period | None, ctx: DocContext) -> Period | None:
    if r.open_quarter is not None:
        if default is None or default.quarter is None:
            return None
        p = default
        while True:  # the next quarter with that number after the one reported
            p = Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, p.quarter + 1)
            if p.quarter == r.open_quarter:
                return p
    if ctx.published is not None:
        return Period(ctx.calendar.fiscal_year_of(ctx.published))
    if default is not None:
        return Period(default.year + 1 if default.quarter in (4, None) else default.year)
    return None


def _fits_open(r: Resolved | None, default: Period | None) -> bool:
    if default is None or r is None or not r.open or r.period is not None:
        return False
    return r.open_quarter is None or r.open_quarter == default.quarter


def _year_section(ctx: DocContext) -> DocContext:
    """Under a "Full-Year Summary" heading the text reports the year, not the quarter."""
    if ctx.default is not None:
        return replace(ctx, default=Period(ctx.default.year))
    if ctx.published is not None:
        return replace(ctx, default=Period(ctx.calendar.latest_ended_year(ctx.published)))
    return ctx


_HEAD = 2500


def _with_head(text: str, calendar: FiscalCalendar, periods: list[PeriodMention]) -> list[PeriodMention]:
    """The period phrases of the text's head and those near its numbers, in text order."""
    head = find_periods(text, calendar, [(0, min(len(text), _HEAD))])
    return head + [p for p in periods if p.start >= _HEAD]


def _windows(quantities, spans, starts) -> list[tuple[int, int]]:
    # A window may start before the text: every window ends after its start, so all those
    # join the first one when merged, which is then cut at 0 (one max, not one per number).
    ws = [(q.first - 130, q.end + 90) for q in quantities]
    i = 0
    for s, e in spans:
        i = bisect_left(starts, s, i)  # sentences are in order: search on from the last one
        # A sentence's opening matters when it has a number, and is not already inside the
        # window of its first number (which reaches 130 characters back).
        if i < len(starts) and starts[i] < e and quantities[i].first - 130 > s:
            ws.append((s, min(e, s + 70)))
    merged = _merge(ws)
    if merged and merged[0][0] < 0:
        merged[0] = (0, merged[0][1])
    return merged


def _merge(ws: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The windows joined where they overlap or touch, in order. (Most of a text's number
    windows overlap the one before: the run being joined is kept in two locals.)"""
    out: list[tuple[int, int]] = []
    lo = hi = None
    for a, b in sorted(ws):
        if hi is not None and a <= hi:
            if b > hi:
                hi = b
            continue
        if hi is not None:
            out.append((lo, hi))
        lo, hi = a, b
    if hi is not None:
        out.append((lo, hi))
    return out


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    i = bisect_left(spans, (pos + 1,)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _close(a: Figure, b: Figure, rel: float) -> bool:
    if a.unit == "USD":
        return abs(a.value - b.value) <= rel * max(abs(a.value), abs(b.value))
    tol = {"%": 0.05, "USD/share": 0.005}.get(a.unit, 0.0)
    return abs(a.value - b.value) <= max(tol, rel * max(abs(a.value), abs(b.value)))


def _restates(g: Figure, f: Figure) -> bool:
    """f, with no period, says g's value at another rounding ("$51 billion" for $51.3B)."""
    if f.unit == "USD":
        return _close(g, f, 0.05)
    return abs(g.value - f.value) <= (0.1 if f.unit == "%" else 0.01)


def dedupe(figs: list[Figure]) -> list[Figure]:
    """One figure per fact.

    A text states a headline figure several times ("$51.3B backlog" in the title,
    the lede and the summary), often without repeating its period. A repeat of
    the same metric and basis at the same value (or the same value rounded, within
    5%) with no period of its own is the figure already stated, so it is dropped
    rather than reported as a second figure with an unknown period; so is a prose
    repeat in the same period at another rounding. The most confident statement is
    kept. A table figure and a prose figure are both kept: "$1.0 billion" and 1,043
    say the same thing at different precision, and the table's is the precise one.
    """
    out: list[Figure] = []
    # The figures kept, by (metric, basis, unit) and by value: a figure is compared only with
    # those of its kind within 6% (+0.11) of its value, never with every figure kept (a text
    # with thousands of figures would cost their square). Every test below passes only
    # within that band: |a − b| ≤ max(tol ≤ 0.1, 0.05·max(|a|, |b|)) ≤ 0.0527·|a| + 0.1.
    kept: dict[tuple, _ByValue] = {}
    for f in sorted(figs, key=lambda f: (f.period is None, -f.confidence, f.span[0])):
        dup = False
        for g in kept.get((f.metric, f.basis, f.unit), _NONE).near(f.value):
            if g.period == f.period and _close(g, f, 0.0005) and g.comparative == f.comparative:
                dup = True
            elif (g.period == f.period and not f.table and not g.table and g.comparative == f.comparative
                  and g.accounting == f.accounting and _close(g, f, 0.05)):
                dup = True  # the same fact at another rounding ("$51 billion" in a headline)
            elif f.period is None and _restates(g, f):
                dup = True
            if dup:
                break
        if not dup:
            out.append(f)
            kept.setdefault((f.metric, f.basis, f.unit), _ByValue()).add(f)
    return sorted(out, key=lambda f: f.span[0])


class _ByValue:
    """Figures sorted by value; `near(v)` yields those within 6% + 0.11 of v (and any
    whose value is not a finite number, which no band holds)."""

    __slots__ = ("figs", "odd", "values")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.figs: list[Figure] = []
        self.odd: list[Figure] = []

    def add(self, f: Figure) -> None:
        if not math.isfinite(f.value):
            self.odd.append(f)
            return
        k = bisect_right(self.values, f.value)
        self.values.insert(k, f.value)
        self.figs.insert(k, f)

    def near(self, v: float):
        if not math.isfinite(v):
            yield from self.figs
        else:
            band = 0.06 * abs(v) + 0.11
            lo, hi = bisect_left(self.values, v - band), bisect_right(self.values, v + band)
            yield from self.figs[lo:hi]
        yield from self.odd


_NONE = _ByValue()
