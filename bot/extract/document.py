"""One pass over a document: sentences in order, tables, then the final cleanup.

Quantities and period phrases are found once over the whole text (two regex
scans) and handed to each sentence by offset; sentences without a money or
percent number are only read for their headings. That keeps the cost at a
couple of regex passes plus a little work per number.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date

from bot.extract import tables
from bot.extract.context import DocContext, Sections, reporting_period
from bot.extract.narrative import sentence_figures
from bot.extract.numbers import find_quantities
from bot.extract.periods import find_periods
from bot.extract.sentences import split
from bot.figures import Figure
from bot.fiscal import FiscalCalendar


def figures_of(text: str, published: date | None, calendar: FiscalCalendar) -> list[Figure]:
    periods = find_periods(text, calendar)
    default = reporting_period(text, periods, published, calendar)
    ctx = DocContext(published=published, calendar=calendar, default=default)
    found_tables = tables.find_tables(text, ctx)
    skip = [(t.start, t.end) for t in found_tables]
    quantities = [q for q in find_quantities(text) if not _inside(q.start, skip)]
    starts = [q.start for q in quantities]
    pstarts = [p.start for p in periods]
    sections = Sections()
    out: list[Figure] = []
    for s, e in split(text):
        if _inside(s, skip) and _inside(e - 1, skip):
            continue
        is_heading = sections.update(text[s:e])
        i, j = bisect_left(starts, s), bisect_left(starts, e)
        if not is_heading and i < j:
            ps = periods[bisect_left(pstarts, s - 40) : bisect_left(pstarts, e + 40)]
            out.extend(
                sentence_figures(text, (s, e), quantities[i:j], ps, ctx, sections.segment, sections.guidance)
            )
        sections.after(text[s:e])
    for t in found_tables:
        out.extend(t.figures)
    return dedupe(out)


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _close(a: Figure, b: Figure, rel: float) -> bool:
    if a.unit == "USD":
        return abs(a.value - b.value) <= rel * max(abs(a.value), abs(b.value))
    tol = {"%": 0.05, "USD/share": 0.005}.get(a.unit, 0.0)
    return abs(a.value - b.value) <= max(tol, rel * max(abs(a.value), abs(b.value)))


def dedupe(figs: list[Figure]) -> list[Figure]:
    """One figure per fact.

    A text states a headline figure several times ("$51.3B backlog" in the title,
    the lede and the summary), often without repeating its period. A repeat of
    the same metric and basis at the same value (or the same value rounded, within
    5%) with no period of its own is the figure already stated, so it is dropped
    rather than reported as a second figure with an unknown period.
    """
    out: list[Figure] = []
    for f in sorted(figs, key=lambda f: (f.period is None, -f.confidence, f.span[0])):
        dup = False
        for g in out:
            if g.metric != f.metric or g.basis != f.basis or g.unit != f.unit:
                continue
            if g.period == f.period and _close(g, f, 0.0005) and g.comparative == f.comparative:
                dup = True
            elif f.period is None and _close(g, f, 0.05):
                dup = True
            if dup:
                break
        if not dup:
            out.append(f)
    return sorted(out, key=lambda f: f.span[0])
