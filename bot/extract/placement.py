"""Which period phrase of a sentence a figure belongs to.

In order: a phrase attached to the figure (inside or right next to its metric phrase,
or right after its number: "Q2 revenue", "$14.4 billion as of Q2 FY2026", "17.8% in
Q1"); else one that opens the sentence ("In Q1, …"); else the one period the sentence
names, if it names only one and that period fits the basis (a result's has ended,
guidance's has not); else the document's reporting period (results only). What is
still unknown is marked open for `document.py` to fill from the text's main period.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from bot.extract.periods import PeriodMention, Resolved, resolve
from bot.fiscal import FiscalCalendar, Period


def place(text, sent_start, sent_end, q, p, periods, opening, ctx, guidance, used) -> Resolved:
    taken, used_by_results = used
    pm = _attached(text, sent_start, q, p, periods)
    if pm is not None and not guidance:
        used_by_results.add(pm.start)
    if pm is None:
        if _after_partial(text, sent_start, q, periods):
            return Resolved(None, True, blocked=True)
        pm = opening
    open_quarter = None
    if pm is not None:
        res = resolve(pm, guidance=guidance, published=ctx.published, default=ctx.default,
                      calendar=ctx.calendar)
        if res.period is not None or res.blocked or pm.kind == "calendar":
            return res
        if pm.kind == "quarter":
            open_quarter = pm.quarter
    exclude = taken | used_by_results if guidance else taken
    sole = _sole_period(sent_start, sent_end, [pm for pm in periods if pm.start not in exclude
                                               and not _later_clause(text, q, pm)], guidance, ctx)
    if sole is not None:
        return sole
    if not guidance and ctx.default is not None:
        return Resolved(ctx.default, False, inferred=True)
    return Resolved(None, False, open=True, open_quarter=open_quarter, shift="guidance" if guidance else None)


# What may sit between a half-year or year-to-date phrase and the number it covers: "over the
# first half, adding up to $10 billion of AI servers" (within 30 characters, with no other number
# and no new clause between: "picked up in the second half of the year, and record orders of …"
# are the quarter's).
_PARTIAL_GAP = re.compile(r"(?:[^;$%\d]|\bQ\d\b)*", re.IGNORECASE)
_NEW_CLAUSE = re.compile(r"\b(?:but|while|whereas|and|although|though)\b|[;—]", re.IGNORECASE)


def _after_partial(text, sent_start, q, periods) -> bool:
    """A number after a half-year, nine-month or year-to-date phrase of its own clause is that
    span's total, not a quarter's or a year's: "AI demand ran hot over the first half, adding
    up to $10 billion of AI servers"."""
    for pm in periods:
        if pm.start >= q.first:
            break
        if pm.kind != "partial" or pm.start < sent_start or q.first - pm.end > 30:
            continue
        gap = text[pm.end : q.first]
        if _PARTIAL_GAP.fullmatch(gap) and not _NEW_CLAUSE.search(gap):
            return True
    return False


def _fits(period: Period, guidance: bool, ctx) -> bool:
    """A result belongs to a period that has ended; guidance to one that has not."""
    ended = _last_day(ctx.calendar, period) < ctx.published
    return ended != guidance


@lru_cache(maxsize=1024)
def _last_day(calendar: FiscalCalendar, period: Period) -> date:
    return calendar.bounds(period)[1]  # cached: the calendar arithmetic is pure and repeats


# A clause after the number that is about something else: "we now expect to ship $20 billion of
# AI servers, with most of them going out in the third quarter" (guidance for the year).
_LATER_CLAUSE = re.compile(r",\s+(?:with|while|but|and|as|although|though|which|whereas)\b|[;—]",
                           re.IGNORECASE)


def _later_clause(text, q, pm) -> bool:
    """Whether the period phrase comes after the number, in a clause of its own."""
    return pm.start >= q.end and _LATER_CLAUSE.search(text, q.end, pm.start) is not None


def _sole_period(s, e, periods, guidance, ctx) -> Resolved | None:
    """One period named in the sentence covers its other figures ("$5.6B of orders during the
    quarter and shipped $8.2B"), unless the sentence also names a half-year or calendar year."""
    found = set()
    for pm in periods:
        if pm.start < s or pm.end > e:
            continue
        if pm.kind in ("partial", "calendar", "date"):
            return None
        r = resolve(pm, guidance=guidance, published=ctx.published, default=ctx.default, calendar=ctx.calendar)
        if r.period is not None and (ctx.published is None or _fits(r.period, guidance, ctx)):
            found.add(r.period)
    if len(found) == 1:
        return Resolved(found.pop(), False)
    return None


def _attached(text, sent_start, q, p, periods) -> PeriodMention | None:
    """A period phrase that belongs to this number: in or next to its phrase, or right after it."""
    if p is None:
        return attached_after(text, q.end, periods)
    lo = min(q.first, p.start)
    hi = max(q.end, p.end)
    for pm in reversed(periods):  # the last one inside
        if lo <= pm.start and pm.end <= hi:
            return pm
    after = attached_after(text, hi, periods)
    if after is not None:
        return after
    # A modifier before the phrase: "Full-year FY26 revenue", "record third-quarter non-GAAP EPS".
    for pm in reversed(periods):
        if pm.end <= lo and pm.start >= sent_start:
            between = text[pm.end : lo]
            if len(between) <= 30 and MODIFIERS.fullmatch(between):
                return pm
            break
    return None


MODIFIERS = re.compile(
    r"(?:\s+|-|\s*(?:'s|’s)\s*)?(?:(?:record|GAAP|non-GAAP|adjusted|diluted|the|our|its|total|net|"
    r"reported|quarterly|AI|server)[\s,-]+)*",
    re.IGNORECASE,
)
_AFTER_GLUE = re.compile(
    r"[\s,]*(?:(?:in|for|during|as\s+of|at|of|over|through|throughout|across|within)\s+(?:the\s+|its\s+|our\s+)?)?"
    r"(?:(?:the\s+)?end\s+of\s+(?:the\s+|its\s+|our\s+)?)?$",
    re.IGNORECASE,
)


def attached_after(text, at, periods) -> PeriodMention | None:
    for pm in periods:
        if pm.start < at:
            continue
        if pm.start - at > 25:
            return None
        between = text[at : pm.start]
        if _AFTER_GLUE.fullmatch(between) or between.strip().lower() in ("", "alone"):
            return pm
        return None
    return None


_OPENING_GLUE = re.compile(
    r"[\s\"“‘'(]*(?:(?:in|for|during|at|over|through|of|since)\s+)?(?:the\s+|its\s+|our\s+|dell's\s+)?$", re.IGNORECASE
)


def opening_period(text, sent_start, periods) -> PeriodMention | None:
    """A period that opens the sentence ("In Q1, …", "FY26 will be …") covers its figures."""
    for pm in periods:
        if pm.start < sent_start:
            continue
        if pm.start - sent_start > 30:
            return None
        return pm if _OPENING_GLUE.fullmatch(text[sent_start : pm.start]) else None
    return None


