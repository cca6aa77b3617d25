"""Prior-period values quoted for comparison ("up from $20.9 billion a year ago").

A number after "from", "compared with", "versus" … and followed by a time phrase ("a
year earlier", "in the prior-year quarter", "last quarter", "in Q2 FY25") is the value
of a metric in an earlier period: the metric the sentence just stated ("AI server
revenue climbed to $16B from under $2B a year before"), or, when it stated none, the one
the binder finds for it ("Revenue increased 11% from $24.37 billion a year earlier").
Its period is the stated one's year-ago or previous quarter, or the one it names. A
comparison without a time phrase ("rose to $16B from $2B") cannot be placed: dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.extract import vocab
from bot.extract.cues import may_contain
from bot.extract.numbers import Quantity
from bot.extract.periods import PeriodMention, Resolved, resolve
from bot.extract.placement import attached_after
from bot.figures import Figure
from bot.fiscal import Period

UNIT_OF_KIND = {"usd": "USD", "num": "USD", "pct": "%"}
_FROM_END = re.compile(r"\bfrom\s*$", re.IGNORECASE)


@dataclass
class Prior:
    """A number compared with: which earlier period it belongs to, relative or named."""

    shift: str | None  # "year_ago" or "previous" of the figure it is compared with
    period: Period | None  # named outright ("versus $22.9 billion in Q2 FY24")
    tail_end: int  # end of the time phrase, for the evidence


OR_APPOSITIVE = re.compile(r"\s*,?\s*or\s*$", re.IGNORECASE)


_PER_SHARE = re.compile(r"\s*(?:per|a)\s+(?:diluted\s+)?share\b", re.IGNORECASE)


def _prior(text, q, periods, ctx) -> Prior | None:
    at = q.end
    unit = _PER_SHARE.match(text, at, at + 25)
    if unit:
        at = unit.end()  # "$1.58 per share, in the same quarter last year"
    after = text[at : at + 60]
    # The previous quarter first: "the prior quarter" also fits the year-ago pattern's
    # "prior … quarter", and "the prior-year quarter" does not fit this one.
    m = vocab.QUARTER_AGO_RE.match(after)
    if m:
        return Prior("previous", None, at + m.end())
    m = vocab.YEAR_AGO_RE.match(after)
    if m:
        return Prior("year_ago", None, at + m.end())
    pm = attached_after(text, at, periods)
    if pm is None or pm.kind in ("partial", "calendar"):
        # "down 29% YoY from $1.84 per share": the comparison named its span before the number.
        m = _SPAN_BEFORE.search(text, max(0, q.first - 40), q.first)
        if m is not None:
            return Prior("previous" if m["q"] else "year_ago", None, at)
        return None
    r = resolve(pm, guidance=False, published=ctx.published, default=ctx.default, calendar=ctx.calendar)
    return Prior(None, r.period, pm.end) if r.period is not None else None


_SPAN_BEFORE = re.compile(
    r"\b(?:YoY|Y/Y|yr/yr|year[\s-]+over[\s-]+year|year[\s-]+on[\s-]+year"
    r"|(?P<q>QoQ|Q/Q|sequentially|quarter[\s-]+over[\s-]+quarter|quarter[\s-]+on[\s-]+quarter))"
    r"[\s,]*(?:from|versus|vs\.?|compared\s+(?:with|to))\s*$",
    re.IGNORECASE,
)


def comparison(text, sent_start, q, bound, periods, ctx, appositive, cue):
    """A prior-period value.

    Returns None (not a comparison), False (a comparison we cannot place: dropped), a
    `Prior` (a comparison whose metric the binder must find: "Revenue increased 11% from
    $24.37 billion a year earlier"), or (Figure, Resolved | None) for a comparison with
    the figure the sentence just stated ("climbed to $16B from under $2B a year before").
    `appositive`: the number restates a compared one ("from $1.13 billion, or $1.58 per share").
    `cue`: `compare_cue(text, sent_start, q)`, read once by the caller for each number.
    """
    card = _card_prior(text, sent_start, q) if cue is None and not appositive else None
    if not appositive and cue is None and card is None:
        return None
    prior = card[0] if card is not None else _prior(text, q, periods, ctx)
    if prior is None:
        # "rose to $16B from $2B": a prior value we cannot place; "vs ~12% ISG average":
        # a comparison with something else, read as a figure of its own.
        before = text[max(sent_start, q.first - 30) : q.first]
        return False if appositive or _FROM_END.search(before) else None
    prev = next((b for b in reversed(bound) if b.unit == _unit_for_kind(q)), None)
    if prev is None:
        return prior
    pending = None
    period = prior.period or _shifted(prev.period, prior.shift)
    if period is None:
        if prior.shift is None or prev.resolved is None or not prev.resolved.open:
            return False
        # The figure it is compared with waits for the document's period; so does this one.
        pending = Resolved(None, False, open=True, open_quarter=prev.resolved.open_quarter, shift=prior.shift)
    if card is not None:
        start = card[1]
    else:
        start = q.first if appositive else cue.start() if cue else q.first
    return Figure(
        metric=prev.metric, basis="actual", value=q.value, unit=prev.unit,
        period=period.label if period else None,
        evidence=text[start : prior.tail_end].strip(), span=(start, prior.tail_end), approx=q.approx,
        low=q.low, high=q.high, accounting=prev.accounting, comparative=True,
        confidence=0.7 if q.approx else 0.75,
    ), pending


# A metric card's earlier value, named before it: "Total Revenue / $23.9B / Previous year: $22.3B".
_CARD_PRIOR = re.compile(
    r"\b(?:(?:previous|prior|last)\s+year|year[\s-]ago|(?P<q>(?:previous|prior|last)\s+quarter))"
    r"\s*:\s*$",
    re.IGNORECASE,
)


def _card_prior(text, sent_start, q) -> tuple[Prior, int] | None:
    """The card's prior value and where its label starts, for a number after "Previous year:"."""
    if text.rfind(":", max(sent_start, q.first - 4), q.first) < 0:
        return None  # (the label ends with a colon right before the number)
    m = _CARD_PRIOR.search(text, max(sent_start, q.first - 30), q.first)
    if m is None:
        return None
    return Prior("previous" if m["q"] else "year_ago", None, q.end), m.start()


def compare_cue(text: str, sent_start: int, q: Quantity) -> re.Match | None:
    """COMPARE_BEFORE_RE in the 30 characters before the number ("from", "versus" …)."""
    return vocab.COMPARE_BEFORE_RE.search(text, max(sent_start, q.first - 30), q.first)


# Every alternative of COMPARE_BEFORE_RE holds one of these words: in ASCII text without
# one, no number of a sentence has a compare cue. (Outside ASCII, `re` folds a few letters
# that `str.lower` keeps apart, ſ to s: there the cue is read.)
COMPARE_WORDS = vocab.COMPARE_WORDS


def period_after_compared(text, q, periods) -> PeriodMention | None:
    """The period phrase right after a compared number (one that has a `compare_cue`)."""
    at = q.end
    unit = _PER_SHARE.match(text, at, at + 25)
    return attached_after(text, unit.end() if unit else at, periods)


def _unit_for_kind(q: Quantity) -> str | None:
    if q.kind == "usd" and q.scale == 1.0 and abs(q.value) < 100:
        return "USD/share"
    return UNIT_OF_KIND.get(q.kind)


def _shifted(p: Period | None, shift: str | None) -> Period | None:
    if p is None or shift is None:
        return None
    return p.year_ago() if shift == "year_ago" else p.previous()


def as_comparative(found, prior: Prior, text):
    """A figure bound the usual way that states a prior period's value."""
    fig, res = found
    period = prior.period or _shifted(Period.parse(fig.period) if fig.period else None, prior.shift)
    pending = None
    if period is None:
        if prior.shift is None or res is None or not res.open:
            return None
        pending = Resolved(None, False, open=True, open_quarter=res.open_quarter, shift=prior.shift)
    start, end = fig.span[0], max(fig.span[1], prior.tail_end)
    fig = replace(fig, period=period.label if period else None, comparative=True, basis="actual",
                  evidence=text[start:end], span=(start, end),
                  confidence=round(max(0.05, fig.confidence - 0.1), 2))
    return fig, pending



# --- earlier guidance ---------------------------------------------------------------------------
# Guidance quoted beside the guidance that replaces it, or beside the result it was for, is
# guidance for the same period, marked comparative (corpus NOTES: "up from its prior forecast
# of $15 billion" → guidance, comparative, same period).

# "up from its prior forecast of $15 billion", "from a prior forecast of $1.82 to $1.92",
# "just 90 days after setting it at $50B", "which it had guided to $9.40".
_PRIOR_GUIDANCE = re.compile(
    r"(?:\b(?:prior|previous|earlier|old|original|initial|last)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:forecasts?|projections?|guidance|expectations?|outlook|targets?|guides?|views?|range)"
    r"|\b(?:setting|set|pegging|pegged|putting|guiding)\s+"
    r"(?:it|them|that|this|the\s+[\w-]+(?:\s+[\w-]+)?)\s+(?:at|to)"
    r"|\b(?:had|previously)\s+"
    r"(?:forecast|guided|expected|projected|targeted|predicted|called\s+for)"
    r"(?:\s+[\w-]+){0,4}?)"
    r"\s*(?:of|at|was|were|for|to\s+be|to|:)?\s*(?:between\s+)?$",
    re.IGNORECASE,
)
# A verb that moves guidance: "raised its AI server forecast to $20 billion from $15 billion".
_REVISION = re.compile(
    r"\b(?:rais(?:e|es|ed|ing)|lift(?:s|ed|ing)?|boost(?:s|ed|ing)?|increas(?:e|es|ed|ing)|"
    r"hik(?:e|es|ed|ing)|bump(?:s|ed|ing)?|lower(?:s|ed|ing)?|cut(?:s|ting)?|trim(?:s|med|ming)?|"
    r"reduc(?:e|es|ed|ing)|revis(?:e|es|ed|ing)|upgrad(?:e|es|ed|ing)|downgrad(?:e|es|ed|ing)|"
    r"tighten(?:s|ed|ing)?|narrow(?:s|ed|ing)?)\b",
    re.IGNORECASE,
)
# Guidance quoted with a result, after a comparison: "(against analysts' $6.1 billion and
# guidance of about $5 billion)", "above our guidance range of $0.28 - $0.34".
_RESULT_GUIDANCE = re.compile(
    r"\b(?:guidance|guided|outlook|forecast|guide)(?:\s+range)?\s*(?:of|:|was|at|for)?\s*"
    r"(?:between\s+)?$",
    re.IGNORECASE,
)
_VERSUS = re.compile(
    r"[(]|\b(?:compared|versus|vs\.?|against|above|below|beat|beating|topped|topping|missed|"
    r"missing|"
    r"exceed\w*|ahead\s+of|short\s+of|in\s+line\s+with|within|high\s+end|low\s+end)\b",
    re.IGNORECASE,
)
# Every cue above holds one of these (lowercased): a sentence with none quotes no earlier guidance.
GUIDANCE_WORDS = ("forecast", "projection", "guid", "expectation", "outlook", "target", "view",
                  "range", "setting", "set ", "pegg", "putting", "had ", "previously")


def earlier_guidance(text, sent_start, q, bound, cue):
    """Guidance an earlier statement gave for the period of the figure the sentence just stated.

    Returns None (not earlier guidance), False (earlier guidance with no figure before it to
    take its metric from: dropped) or (Figure, Resolved | None): guidance, comparative, the
    metric and period of that figure ("raised its forecast to $20 billion from $15 billion").
    `cue`: the number's `compare_cue`."""
    lo = max(sent_start, q.first - 90)
    m = _PRIOR_GUIDANCE.search(text, lo, q.first)
    if m is None and cue is not None and cue.group().lower().rstrip().endswith("from"):
        if (_REVISION.search(text, sent_start, cue.start())
                and vocab.GUIDANCE_RE.search(text, sent_start, cue.start())):
            m = cue  # "raised … forecast to $45 billion from $40 billion"
    unit = _unit_for_kind(q)
    prev = next((b for b in reversed(bound) if b.unit == unit and b.metric), None)
    if m is None:
        r = _RESULT_GUIDANCE.search(text, lo, q.first)
        if (r is None or prev is None or prev.guidance
                or not _VERSUS.search(text, prev.q.end, r.start())):
            return None
        m = r
    if prev is None:
        return False
    pending = None
    if prev.period is None:
        if prev.resolved is None or not prev.resolved.open:
            return False
        pending = prev.resolved
    start = m.start()
    return Figure(
        metric=prev.metric, basis="guidance", value=q.value, unit=prev.unit,
        period=prev.period.label if prev.period else None,
        evidence=text[start : q.end].strip(), span=(start, q.end), approx=q.approx,
        low=q.low, high=q.high, accounting=prev.accounting, comparative=True,
        confidence=0.7 if q.approx else 0.75,
    ), pending


def may_quote_guidance(low: str) -> bool:
    """Whether a lowercased sentence may quote earlier guidance (a test before the regexes)."""
    return may_contain(low, GUIDANCE_WORDS)


# "raising our AI server shipment guidance $5 billion to $20 billion", "raised the FY27 guide by
# roughly $27B of revenue (to $165–169B)": the first number is the raise, the second the level.
_INCREMENT_GAP = re.compile(r"(?:\s+(?:of|in)\s+[^\d$%()]{1,40}?)?\s*[(,]?\s*to\s*", re.IGNORECASE)


def increment(text, sent_start, q, nxt) -> bool:
    """Whether q is the amount a revision moved guidance by, and `nxt` the level it reached."""
    if _unit_for_kind(q) != _unit_for_kind(nxt) or nxt.first - q.end > 60:
        return False
    if not _INCREMENT_GAP.fullmatch(text, q.end, nxt.first):
        return False
    return _REVISION.search(text, max(sent_start, q.first - 100), q.first) is not None
