"""Figures stated in prose: bind each number of a sentence to the metric it states.

For each money or percent number of a sentence, in order:
1. drop it when it is a change ("up 88%"), a relative claim ("30% higher"), a
   market size, a price, someone else's estimate, or a trailing/partial total;
2. take a comparison ("from under $2B a year earlier") as the prior-period value
   of the metric the sentence just stated;
3. otherwise bind it to a metric phrase: the phrase right after it ("$51.3B AI
   server backlog", "$24B in AI server orders") or else the nearest one before it
   with only linking words between ("AI server revenue rose to $16B"); a phrase
   serves one number, except for coordinated numbers ("20% in 2024 and 17.8% in Q1");
4. qualify it: basis (a guidance word in its clause), period (a phrase attached
   to it, else one opening the sentence, else the document's reporting period),
   accounting (non-GAAP / GAAP next to the phrase), segment (a heading or subject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.extract import vocab
from bot.extract.comparisons import (
    COMPARE_WORDS,
    OR_APPOSITIVE,
    UNIT_OF_KIND,
    Prior,
    as_comparative,
    compare_cue,
    comparison,
    earlier_guidance,
    increment,
    may_quote_guidance,
    period_after_compared,
)
from bot.extract.context import DocContext
from bot.extract.cues import EndCue, StemCue, may_contain
from bot.extract.filters import (
    CUSTOMER_WORDS,
    LONG_RUN_WORDS,
    about_a_customer,
    about_another_company,
    long_run,
    may_cite_estimates,
    not_a_figure,
)
from bot.extract.numbers import Quantity
from bot.extract.periods import PeriodMention, Resolved
from bot.extract.phrases import find_phrases
from bot.extract.placement import MODIFIERS, attached_after, opening_period, place
from bot.extract.sentences import Clauses, split
from bot.figures import Figure
from bot.fiscal import Period

# What may sit between a number and the phrase right after it: "$24B in AI server orders",
# "$11.6 billion in Q2 revenue", "$1.28 billion in adjusted free cash flow".
_POST_GAP = re.compile(
    r"(?:\s+|\s*(?:in|of|for|from|worth\s+of|in\s+total)\s+)"
    r"(?:(?:the|its|our|their|that|this|Dell'?s|Dell’s|total|record|"
    r"quarterly|annual|new|net|GAAP|non-GAAP|adjusted|diluted|ending|period-end|quarter-end|"
    r"year-end|"
    r"@P)\s+)*",
    re.IGNORECASE,
)
# Words between a phrase and its number that break the link (a new subject or an unrelated amount).
_PRE_BREAK = StemCue(
    r"\b(?:which|who|whereas|while|but|although|plus|minus|per(?!\s+cent)|each|every|"
    r"than|beat|topped|missed|exceed\w*|surpass\w*|above|below|ahead)\b|[;()]|\$",
)
_AND_NEXT = re.compile(r"\s*,?\s*and\s*", re.IGNORECASE)
_FROM_TO = re.compile(r"[\s,]*to\s*", re.IGNORECASE)
_COORD_GAP = re.compile(r"\s*(?:@P\s*)*(?:,\s*)?(?:and|or|,)\s*(?:@P\s*)*$", re.IGNORECASE)
_MAX_PRE_WORDS = 9
_PREP_BEFORE_P = re.compile(r"\b(?:in|for|during|at)\s+(?=@P)", re.IGNORECASE)
_MID_OF = EndCue(r"\bmidpoint\s+of\s*$")
_BEAT_EXPECT = re.compile(
    r"\b(?:beat|beats|topped|tops|above|below|missed|misses|ahead\s+of|exceed\w*|shy\s+of|in\s+line\s+with)"
    r"\s+(?:\w+\s+){0,2}expectations?\b",
    re.IGNORECASE,
)
_COMPANY_LEVEL = EndCue(r"\b(?:total|overall|consolidated|company|company-wide|Dell(?:'s|’s)?)\s*$")


@dataclass(slots=True)
class _Phrase:
    start: int
    end: int
    phrase: vocab.Phrase
    used: bool = False


@dataclass(slots=True)
class _Stems:
    """Where the first guidance and segment stems of a sentence end, found once in its
    lowercased text (each figure asks whether one sits before its number), and whether it
    holds an accounting word. Offsets are from the sentence start, None outside ASCII, where
    lowercasing may change lengths: there each figure lowercases its own window."""

    guidance_end: int | None
    segment_end: int | None
    accounting: bool

    @classmethod
    def of(cls, sentence: str, low: str) -> _Stems:
        accounting = "gaap" in low or "adjusted" in low
        if not sentence.isascii():
            return cls(None, None, accounting)
        return cls(_first_end(low, vocab.GUIDANCE_RE.stems), _first_end(low, vocab.SEGMENT_STEMS),
                   accounting)


def _first_end(low: str, stems: tuple[str, ...]) -> int:
    """Where the earliest-ending occurrence of a stem ends (past the end if none): a prefix
    of `low` holds a stem exactly when it is at least that long."""
    end = len(low) + 1
    for st in stems:
        i = low.find(st)
        if i >= 0 and i + len(st) < end:
            end = i + len(st)
    return end


@dataclass(slots=True)
class _Bound:
    q: Quantity
    metric: str
    unit: str
    phrase: _Phrase | None
    period: Period | None
    guidance: bool
    coordinated: bool = False
    resolved: Resolved | None = None
    compared_end: int | None = None  # a prior-period value: where its time phrase ends
    accounting: str | None = None


def sentence_figures(
    text: str,
    span: tuple[int, int],
    quantities: list[Quantity],
    periods: list[PeriodMention],
    ctx: DocContext,
    segment: str | None,
    guidance_section: bool,
) -> list[tuple[Figure, Resolved | None]]:
    """Figures stated in the sentence text[span[0]:span[1]], each with how its period was found
    (None for a comparison, whose period comes from the figure it is compared with)."""
    s, e = span
    phrases = _phrases(text, s, e, quantities)
    if not _names_a_metric(phrases) and text.find("respectively", s, e) < 0:
        # Every figure (and every comparison, which restates a figure's metric) is bound to
        # a metric phrase: without one near its numbers, a sentence states none.
        return []
    has_ai = _has_ai(text, s, e)
    opening = opening_period(text, s, periods)
    clauses = Clauses(text, s, e)
    # Before the first name of another company, no number can be about one (found when a
    # number first gets that far).
    other_at: int | None = None
    sentence = text[s:e]
    low = sentence.lower()
    cites = may_cite_estimates(sentence, low)
    stems = _Stems.of(sentence, low)
    # Each number's compare cue ("from", "versus" …), read once: the filters, the
    # comparison and the taken periods below all ask for it.
    if not sentence.isascii() or may_contain(low, COMPARE_WORDS):
        cues = [compare_cue(text, s, q) for q in quantities]
    else:
        cues = [None] * len(quantities)
    # Period phrases that belong to a compared number ("from $14.4 billion at the end of the
    # first quarter") name no period for the sentence's other figures.
    # A number joined by "and" to a compared one, with a period of its own, is compared too:
    # "$0.17 versus $0.51 in Q2'25 and $0.66 in Q3'24".
    taken = set()
    chained = [False] * len(quantities)
    if periods:
        compared_end = None  # where the last compared number's period phrase ends
        for i, (q, cue) in enumerate(zip(quantities, cues)):
            pm = None
            if cue is not None or (compared_end is not None
                                   and _AND_NEXT.fullmatch(text, compared_end, q.first)):
                pm = period_after_compared(text, q, periods)
                chained[i] = cue is None and pm is not None
            if pm is not None:
                taken.add(pm.start)
            compared_end = pm.end if pm is not None else None
    used_by_results: set[int] = set()
    out: list[tuple[Figure, Resolved | None]] = []
    bound: list[_Bound] = []
    skip_next = False
    last_compared: int | None = None
    quotes_guidance = may_quote_guidance(low)
    respective = _respective(text, s, e, quantities, phrases) if "respectively" in low else {}
    long_words = may_contain(low, LONG_RUN_WORDS)
    customer_words = may_contain(low, CUSTOMER_WORDS)
    raised_link = None  # the phrase of an increment ("raised … guidance $5 billion to $20 billion")
    for i, q in enumerate(quantities):
        if skip_next:
            skip_next = False
            continue
        if q.kind == "bps":
            continue
        nxt = quantities[i + 1] if i + 1 < len(quantities) else None
        # A number that binds to no phrase, is no comparison and no range changes nothing
        # whatever the filters say: skip them (most numbers of a flattened table).
        link = ("respective", respective[i]) if i in respective else _find_binding(
            text, s, q, phrases, bound, has_ai)
        if nxt is not None and cues[i] is None and increment(text, s, q, nxt):
            raised_link = link  # the level after "to" is the figure, with this number's phrase
            continue
        if raised_link is not None:
            link, raised_link = link or raised_link, None
        if (link is None and q.low is None and last_compared is None and cues[i] is None
                and not quotes_guidance and text.rfind(":", max(s, q.first - 4), q.first) < 0):
            continue  # (a number right after a colon may be a card's "Previous year: $22.3B")
        if other_at is None:
            other_at = vocab.first_other_company(text, s, e)
        if q.first > other_at and about_another_company(text, s, q, clauses):
            continue
        if quotes_guidance:
            earlier = earlier_guidance(text, s, q, bound, cues[i])
            if earlier is not None:
                if earlier is not False:
                    out.append(earlier)
                continue
        if not_a_figure(text, s, q, clauses, cites):
            continue
        if customer_words and about_a_customer(text, q, clauses):
            continue
        if long_words:
            lr = long_run(text, s, e, q, clauses)
            if lr == "average" or (lr == "long_term" and not _names_a_period(periods, s, e)):
                continue
        mid = _stated_midpoint(text, q, nxt)
        if mid is not None:
            skip_next = True
        appositive = chained[i] or (
            last_compared is not None
            and bool(OR_APPOSITIVE.fullmatch(text[last_compared:q.first])))
        comp = comparison(text, s, q, bound, periods, ctx, appositive, cues[i])
        if comp is not None and not isinstance(comp, Prior):
            last_compared = q.end
            if comp is not False:
                out.append(comp)
            continue
        last_compared = None
        b = _bind(q, phrases, link)
        if b is None:
            continue
        found = _figure(text, span, q, mid, b, phrases, periods, opening, ctx, segment, guidance_section, bound,
                        (taken, used_by_results), clauses, stems)
        if found is not None and isinstance(comp, Prior):
            found = as_comparative(found, comp, text)
            bound[-1].compared_end = comp.tail_end
        if found is not None:
            out.append(found)
    return out


def _names_a_period(periods: list[PeriodMention], s: int, e: int) -> bool:
    """Whether the sentence names a quarter or a year (a half-year, a calendar year: neither)."""
    return any(s <= pm.start < e and pm.kind not in ("partial", "calendar") for pm in periods)


def _phrases(text: str, s: int, e: int, quantities: list[Quantity]) -> list[_Phrase]:
    """Metric phrases near the sentence's numbers (reading only there keeps the cost down)."""
    out: list[_Phrase] = []
    for lo, hi in _near(quantities, s, e):
        lo = text.rfind(" ", s, lo) + 1 or s  # whole words only
        cut = text.find(" ", hi, e)
        hi = e if cut < 0 else cut
        for ps, pe, phrase in find_phrases(text, lo, hi):
            if pe >= hi and hi < e:
                break  # may be cut by the window's end
            if not out or ps >= out[-1].end:
                out.append(_Phrase(ps, pe, phrase))
    return out


def _names_a_metric(phrases: list[_Phrase]) -> bool:
    for p in phrases:
        if p.phrase.metric or p.phrase.margin_of:
            return True
    return False


def _near(quantities: list[Quantity], s: int, e: int) -> list[tuple[int, int]]:
    """The stretches of text[s:e] within 120 characters before or 110 after a number, merged.

    The numbers are in text order and each ends after the one before, so a window's end
    only grows; windows are merged before they are clipped to the sentence, which merges
    the same ones (every number is inside it)."""
    ws: list[tuple[int, int]] = []
    lo = hi = None
    for q in quantities:
        if hi is not None and q.first - 120 <= hi:
            hi = q.end + 110
            continue
        if hi is not None:
            ws.append((max(s, lo), min(e, hi)))
        lo, hi = q.first - 120, q.end + 110
    if hi is not None:
        ws.append((max(s, lo), min(e, hi)))
    return ws


def _has_ai(text: str, s: int, e: int) -> bool:
    i = text.find("AI", s, e)
    while i >= 0:
        if (i == 0 or not text[i - 1].isalnum()) and (i + 2 >= len(text) or not text[i + 2].isalpha()):
            return True
        i = text.find("AI", i + 2, e)
    return False


def _stated_midpoint(text: str, q: Quantity, nxt: Quantity | None) -> float | None:
    """"between $26.5 billion and $27.5 billion, up 11% … at the midpoint of $27.0 billion"."""
    if q.low is None or nxt is None or nxt.kind != q.kind:
        return None
    if nxt.first - q.end > 90 or not _MID_OF.search(text, q.end, nxt.first):
        return None
    if not (q.low <= nxt.value <= q.high):
        return None
    return nxt.value


# --- 3. binding ---------------------------------------------------------------------------------

_OF_REVENUE = re.compile(r"\s+of\s+(?:total\s+|its\s+|the\s+)?(?:ISG\s+|CSG\s+|segment\s+)?(?:net\s+)?revenues?\b",
                         re.IGNORECASE)


def _margin_metric(ph: vocab.Phrase) -> str | None:
    """The margin a percent "of revenue" after this phrase states: its `margin_of` ("operating
    income … or 5.4% of revenue"), or its own metric when that is a margin ("Its operating
    income rate rose … to 12.4% of revenue")."""
    return ph.margin_of or (ph.metric if ph.unit == "%" else None)


def _margin_of_revenue(text, sent_start, q, phrases) -> _Phrase | None:
    """"operating income was $1.3 billion, or 5.4% of revenue": the percent is the margin.

    With no phrase before it in its sentence, the one a short sentence before ends on: "Next,
    operating income. It grew 3% to $2 billion, or 8.1% of revenue." (a call's way of naming
    the line it turns to)."""
    if q.kind != "pct" or not _OF_REVENUE.match(text, q.end, q.end + 40):
        return None
    for p in reversed(phrases):
        if p.end <= q.first:
            if q.first - p.end < 90:
                return p if _margin_metric(p.phrase) else None
            return None
    return _topic_before(text, sent_start)


_TOPIC_END = re.compile(r"[\s.:]*")


def _topic_before(text, sent_start) -> _Phrase | None:
    """The margin phrase a short sentence right before `sent_start` ends on, if any."""
    lo = max(0, sent_start - 80)
    spans = split(text, lo, sent_start)
    if len(spans) < 2 or spans[-1][1] - spans[-1][0] > 70:
        return None  # (the first span may be cut by the window)
    ps, pe = spans[-1]
    found = find_phrases(text, ps, pe)
    if not found:
        return None
    a, b, ph = found[-1]
    if not _margin_metric(ph) or not _TOPIC_END.fullmatch(text, b, pe):
        return None
    return _Phrase(a, b, ph)


def _find_binding(text, sent_start, q, phrases, bound, has_ai) -> tuple[str, object] | None:
    """What the number binds to, without binding it (nothing is marked used): ("margin",
    phrase), ("phrase", phrase) or ("coord", the bound number it shares a phrase with)."""
    margin = _margin_of_revenue(text, sent_start, q, phrases)
    if margin is not None:
        return "margin", margin
    post = _post_phrase(text, q, phrases, has_ai)
    shipped = _SHIP_BEFORE.search(text, max(sent_start, q.first - 20), q.first) is not None
    if shipped and ((post is None and has_ai)
                    or (post is not None and post.phrase.metric == "ai_backlog")):
        # "shipped a record $8.2 billion" in a sentence about AI servers, "shipping about $7
        # billion of that backlog": AI server shipments.
        return "phrase", _Phrase(q.first, q.first, _SHIPPED)
    if post is not None:
        if (post.phrase.metric == "revenue" and q.kind != "pct"
                and _PART_OF.search(text, max(sent_start, q.first - 30), q.first)):
            return "part", (post, _part_owner(text, sent_start, q))
        if post.phrase.post_only:
            owner = _per_share_owner(text, q, phrases, bound)
            if owner is not None:
                return "phrase", owner
        return "phrase", post
    pre = _pre_phrase(text, sent_start, q, phrases, bound, has_ai)
    if pre is not None:
        return "phrase", pre
    coord = _coordinated(text, q, bound)
    if coord is not None:
        return "coord", coord
    return None


def _respective(text, s, e, quantities, phrases) -> dict[int, tuple[_Phrase, str]]:
    """"ISG and CSG operating margin rates … 11 to 14 percent and 5 to 7 percent respectively":
    the numbers before "respectively" go, in order, to the segments named together before
    them. Maps a number's index to (phrase, metric)."""
    m = _RESPECTIVELY.search(text, s, e)
    idx = [i for i, q in enumerate(quantities) if m is not None and q.end <= m.start()]
    if not idx:
        return {}
    first = quantities[idx[0]].first
    segs = []
    for g in vocab.SEGMENT_RE.finditer(text, s, first):
        if segs and not _SEG_JOIN.fullmatch(text, segs[-1].end(), g.start()):
            segs = []  # only segments named together count ("ISG and CSG")
        segs.append(g)
    if len(segs) < 2 or len(segs) != len(idx):
        return {}
    generic = next((_Phrase(a, b, ph) for a, b, ph in find_phrases(text, segs[-1].end(), first)
                    if ph.generic and not ph.segment_only), None)
    if generic is None:
        return {}
    metrics = [vocab.SEGMENT_METRIC.get((g.lastgroup, generic.phrase.metric)) for g in segs]
    if not all(metrics):
        return {}
    return {i: (generic, metric) for i, metric in zip(idx, metrics)}


_SEG_JOIN = re.compile(r"\s*,?\s*(?:and|&)?\s*", re.IGNORECASE)
# "storage … making up $3.8 billion of the company's revenue": a part of the company's revenue,
# which is the revenue of the clause's subject, not the company's.
_PART_OF = re.compile(
    r"\b(?:mak(?:ing|es)\s+up|made\s+up|account(?:ing|ed|s)?\s+for|represent(?:ing|ed|s)?|"
    r"contribut(?:ing|ed|es))\s+(?:about\s+|roughly\s+|nearly\s+|some\s+)?$",
    re.IGNORECASE,
)
# The parts of revenue a subject can name, besides the segments.
_PART_NAMES = re.compile(
    r"\b(?P<storage>storage)\b|\b(?P<sn>servers?\s+and\s+networking)\b"
    r"|\b(?P<ai>AI(?:[\s-]+optimized)?\s+servers?)\b",
    re.IGNORECASE,
)
_PART_METRIC = {"isg": "isg_revenue", "csg": "csg_revenue", "sn": "servers_networking_revenue",
                "storage": "storage_revenue", "ai": "ai_revenue"}


def _part_owner(text, sent_start, q) -> str:
    """The revenue metric of the part named last before the number ("" when none is named)."""
    last = None
    for m in vocab.SEGMENT_RE.finditer(text, sent_start, q.first):
        last = (m.start(), m.lastgroup)
    for m in _PART_NAMES.finditer(text, sent_start, q.first):
        if last is None or m.start() > last[0]:
            last = (m.start(), m.lastgroup)
    return _PART_METRIC.get(last[1], "") if last else ""


_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)


def _bind(q, phrases, link) -> _Bound | None:
    """Bind the number as `_find_binding` found (with the same phrases and bound numbers)."""
    if link is None:
        return None
    kind, target = link
    if kind == "part":
        p, metric = target
        p.used = True
        return _Bound(q, metric, "USD" if metric else "", p, None, False)
    if kind == "respective":
        p, metric = target
        unit = _unit_for(q, p.phrase)
        return _Bound(q, metric, unit, p, None, False) if unit else None
    if kind == "margin":
        for p in phrases:  # the "revenue" after the percent is part of the figure
            if p.start >= q.end and p.start - q.end < 40:
                p.used = True
                break
        return _Bound(q, _margin_metric(target.phrase), "%", target, None, False)
    if kind == "phrase":
        return _bound(q, target)
    return _Bound(q, target.metric, target.unit, target.phrase, None, target.guidance, coordinated=True)


def _bound(q: Quantity, p: _Phrase) -> _Bound | None:
    p.used = True
    unit = _unit_for(q, p.phrase)
    if p.phrase.metric is None or unit is None:
        return _Bound(q, "", "", p, None, False)  # consumed by a non-metric: yields nothing
    return _Bound(q, p.phrase.metric, unit, p, None, False)


def _unit_for(q: Quantity, ph: vocab.Phrase) -> str | None:
    unit = UNIT_OF_KIND.get(q.kind)
    if ph.unit == "USD/share" and q.kind == "usd" and q.scale == 1.0 and abs(q.value) < 100:
        return "USD/share"
    if unit == "USD" and ph.unit == "USD" and abs(q.value) >= 1e6:
        return "USD"
    if unit == "%" and ph.unit == "%" and -100 < q.value < 100:
        return "%"
    return None


def _usable(p: _Phrase, has_ai: bool) -> bool:
    return not (p.phrase.needs_ai and not has_ai)


_NOTHING = vocab.Phrase(None, None)
_SHIPPED = vocab.Phrase("ai_revenue", "USD", weak=True)
_SHIP_BEFORE = re.compile(r"\b(?:ship(?:s|ped|ping)?|deliver(?:s|ed|ing)?)\s+(?:a\s+record\s+)?$",
                          re.IGNORECASE)
_SHORT_LINK = re.compile(r"[^$;,]{0,40}")  # ("raised its dividend by 18% to $0.525 per share")
_OR_TOO = re.compile(r"[^$%;\d]{0,30}\b(?:or|and)\s*", re.IGNORECASE)


def _per_share_owner(text, q, phrases, bound) -> _Phrase | None:
    """What an amount "per share" belongs to when it is not EPS: the dividend, buyback or price
    named right before it ("raised its quarterly dividend to $0.53 per share"), and the amount
    restated after one ("…, or $2.10 a share annually"). None: it is EPS."""
    before = _phrase_before(q, phrases)
    if (before is not None and _owns_per_share(text, before)
            and _SHORT_LINK.fullmatch(text, before.end, q.first)):
        return before
    last = bound[-1] if bound else None
    if (last is not None and not last.metric and last.phrase is not None
            and _owns_per_share(text, last.phrase)
            and _OR_TOO.fullmatch(text, last.q.end, q.first)):
        return _Phrase(q.first, q.first, _NOTHING)
    return None


# Phrases that are no metric and are paid or priced per share (net income per share is EPS).
_PER_SHARE_WORDS = ("dividend", "buyback", "repurchase", "stock", "price", "shares")


def _owns_per_share(text, p: _Phrase) -> bool:
    return p.phrase.metric is None and text[p.start : p.end].lower().startswith(_PER_SHARE_WORDS)


def _post_phrase(text, q, phrases, has_ai) -> _Phrase | None:
    for nxt in phrases:
        if nxt.start >= q.end:
            break
    else:
        return None
    if not _usable(nxt, has_ai) or nxt.phrase.pre_only:
        return None
    gap = text[q.end : nxt.start]
    if _NOT_IN_GAP.search(gap):
        return None
    gap = _mask_periods(gap)
    if len(gap) > 40 or not _POST_GAP.fullmatch(gap):
        return None
    return nxt


_PERIODISH = re.compile(
    r"(?:(?:first|second|third|fourth)[\s-]+quarter|full[\s-]+year|Q[1-4]|FY\s?'?\d{2,4}|fiscal\s+(?:year\s+)?\d{2,4}|"
    r"this\s+quarter|the\s+quarter|(?:19|20)\d\d)",
    re.IGNORECASE,
)


_DIGIT = re.compile(r"\d")
# Characters that neither _POST_GAP nor a period word masked to "@P" can hold: a gap with
# one of them (a comma, another number's "$") binds nothing, and need not be masked.
_NOT_IN_GAP = re.compile(r"[^\w\s'’@-]")


def _mask_periods(gap: str) -> str:
    # Every period word above holds a digit, "quarter" or "year": most gaps have none.
    low = gap.lower()
    if "quarter" not in low and "year" not in low and _DIGIT.search(gap) is None:
        return gap
    return _PERIODISH.sub("@P", gap)


def _phrase_before(q: Quantity, phrases: list[_Phrase]) -> _Phrase | None:
    """The nearest phrase before the number that can name a metric there (not "per share")."""
    prev = None
    for p in phrases:
        if p.end > q.first:
            break
        if not p.phrase.post_only:
            prev = p
    return prev


def _pre_phrase(text, sent_start, q, phrases, bound, has_ai) -> _Phrase | None:
    prev = _phrase_before(q, phrases)
    if prev is None or not _usable(prev, has_ai) or prev.used:
        return None
    if bound and bound[-1].q.end > prev.end:  # (bound in text order: the last is the nearest)
        return None  # another number sits between the phrase and this one
    if prev.phrase.pre_only and bound and _WHOSE.fullmatch(text, bound[-1].q.end, prev.start):
        return None  # "11.2% for ISG and 8.1% …": the segment said whose the number before was
    gap = text[prev.end : q.first]
    if "(" in gap:
        gap = _ASIDE.sub(" ", gap)  # "adjusted EPS (non-GAAP) rose by 22% to $2.20"
    if "," in gap:
        # "Infrastructure revenue, which includes servers and storage, rose 24% to $14.1
        # billion": a relative clause between commas says more about the phrase.
        gap = _RELATIVE.sub(" ", gap)
    if len(gap) > 80 or len(gap.split()) > _MAX_PRE_WORDS:
        return None
    brk = _PRE_BREAK.search(gap)
    if brk is not None and not (brk.start() > 0 and _LEVEL_VERB.fullmatch(gap, brk.start())):
        return None
    return prev


# A bracketed word that restates the phrase before it: "EPS (non-GAAP)", "revenue (GAAP)".
_ASIDE = re.compile(r"\(\s*(?:non-?GAAP|GAAP|adjusted|diluted|unaudited|EPS|ISG|CSG)\s*\)",
                    re.IGNORECASE)
_RELATIVE = re.compile(r",\s*(?:which|that|including|excluding)\b[^,;$%\d]{1,60},",
                       re.IGNORECASE)
# A verb right before the number that says where the level stands, not what it is compared with:
# "an order backlog exceeding $2.9 billion", "revenue topped $30 billion".
_LEVEL_VERB = re.compile(r"(?:exceed\w*|surpass\w*|topp(?:ed|ing)|above)\s*", re.IGNORECASE)


def _coordinated(text, q, bound) -> _Bound | None:
    """"gross margin fell to 20% in 2024 and 17.8% in Q1": the second number shares the phrase."""
    if not bound:
        return None
    last = bound[-1]
    if not last.metric or UNIT_OF_KIND.get(q.kind) != last.unit:
        return None
    if last.compared_end is not None and _FROM_TO.fullmatch(text, last.compared_end, q.first):
        # "margin fell from 11.0% a year earlier to 8.8%": the level reached after a prior one.
        return last
    gap = _mask_periods(text[last.q.end : q.first])
    if "@P" in gap:
        gap = _PREP_BEFORE_P.sub("", gap)
    if _COORD_GAP.fullmatch(gap):
        return last
    # "8.1% for Dell and 11.2% for ISG": each number says whose it is.
    whose = _FOR_WHOM.match(gap)
    return last if whose is not None and _COORD_GAP.fullmatch(gap, whose.end()) else None


_WHOSE = re.compile(r"\s*(?:for|at|in|within)\s+(?:the\s+|its\s+|Dell(?:'s|’s)\s+)?",
                    re.IGNORECASE)
_FOR_WHOM = re.compile(r"\s*(?:for|at|in|within)\s+[^,;$%\d]{1,40}?(?=\s*,?\s*(?:and|or)\b)",
                       re.IGNORECASE)


# --- 4. qualifying -------------------------------------------------------------------------------

def _figure(text, span, q, mid, b, phrases, periods, opening, ctx, segment, guidance_section, bound, used,
            clauses, stems):
    bound.append(b)
    if not b.metric:
        return None
    s, e = span
    p = b.phrase
    if b.coordinated:
        metric, guidance = _own_segment(text, q, b.metric, clauses), b.guidance
        if not metric:
            b.metric = ""
            return None
        res = place(text, s, e, q, None, periods, opening, ctx, guidance, used)
    else:
        metric = _segmented(text, s, q, p, b.metric, segment, clauses, stems, phrases)
        if not metric:
            b.metric = ""  # a segment's figure we do not keep: numbers coordinated with it neither
            return None
        guidance = guidance_section or _is_guidance(text, s, q, p, clauses, stems)
        res = place(text, s, e, q, p, periods, opening, ctx, guidance, used)
    b.guidance = guidance
    if res.blocked:
        return None
    b.period = res.period
    b.resolved = res
    b.metric = metric
    acc = b.accounting = _accounting(text, s, p, q, stems)
    start, end = _evidence_span(text, s, e, q, None if b.coordinated else p, periods)
    value = mid if mid is not None else q.value
    if p.phrase.negative and not b.coordinated:
        value = -abs(value)  # "cash used in operating activities of $38 million"
    return Figure(
        metric=metric,
        basis="guidance" if guidance else "actual",
        value=value,
        unit=b.unit,
        period=res.period.label if res.period else None,
        evidence=text[start:end],
        span=(start, end),
        approx=q.approx,
        low=q.low,
        high=q.high,
        accounting=acc,
        confidence=_confidence(q, p, res),
    ), res


def _own_segment(text, q, metric, clauses) -> str:
    """A coordinated number's metric when it names its own owner right after it: "8.1% for the
    company and 11.2% for ISG" (the second is ISG's, the first the company's)."""
    glue = _SEGMENT_AFTER.match(text, q.end, clauses.end)
    if glue is None:
        return metric
    base = vocab.SEGMENT_BASE.get(metric, metric)
    seg = vocab.SEGMENT_RE.match(text, glue.end(), clauses.end)
    if seg is not None:
        return vocab.SEGMENT_METRIC.get((seg.lastgroup, base), "")
    if base != metric and _COMPANY_AFTER.match(text, glue.end(), clauses.end):
        return base
    return metric


_COMPANY_AFTER = re.compile(r"(?:Dell\b|(?:the\s+)?(?:whole\s+)?company\b)", re.IGNORECASE)


def _segmented(text, sent_start, q, p, metric, segment, clauses, stems, phrases) -> str:
    """The metric in its segment: "revenue" becomes "isg_revenue" where the sentence, its
    heading or the sentence it refers back to is about ISG. "" when a segment is named for a
    metric it does not report ("CSG gross margin", "the storage unit's operating margin"): a
    segment's figure never becomes the company's, nor the company's a segment's."""
    ph = p.phrase
    if metric in vocab.SEGMENT_BASE:
        return metric  # named with its segment ("ISG operating income … or 12.6% of revenue")
    if not (ph.generic or _margin_metric(ph) == metric):
        # A company metric ("gross margin", "EPS") with a segment name right before it or
        # right after its number is the segment's: not ours.
        return "" if _segment_attached(text, sent_start, q, p, clauses) else metric
    if _COMPANY_LEVEL.search(text, max(sent_start, p.start - 25), p.start):
        return "" if ph.segment_only else metric
    seg = _segment_near(text, q, p, clauses)
    if seg is None:
        hi = max(p.start, q.first)
        # Every segment name holds a stem of SEGMENT_STEMS (lowercased): without one before
        # the number, the subject clause need not be found.
        if (stems.segment_end <= hi - sent_start if stems.segment_end is not None
                else may_contain(text[sent_start:hi].lower(), vocab.SEGMENT_STEMS)):
            lo = clauses.start_of(min(p.start, q.first), subject=True)
            for m in vocab.SEGMENT_RE.finditer(text, lo, hi):
                seg = m.lastgroup
        if seg is None:
            refined = _subject_metric(q, p, metric, phrases, clauses)
            if refined is not None:
                return refined
            seg = segment or _referred_segment(text, sent_start, q, p, clauses)
    if seg is None:
        if ph.segment_only or _UNIT_ACRONYM.search(text, max(sent_start, p.start - 12), p.start):
            return ""  # ("DSG operating income was $767 million, or 6.2%": a unit we do not know)
        return metric
    return vocab.SEGMENT_METRIC.get((seg, metric), "")


# An unknown business unit's abbreviation right before a company-level phrase: not the company's
# figure (known segments are SEGMENT_RE's; these capitals name bases, not units).
_UNIT_ACRONYM = re.compile(
    r"(?<![\w-])(?!(?:GAAP|AI|EPS|FY|TTM|LTM|YOY|QOQ|CEO|CFO|IT|PC|Q[1-4]|H[12])\b)[A-Z]{2,4}"
    r"(?:'s|’s)?\s+$"
)


# After the number: "an operating margin of 14.8% for its server and networking unit".
_SEGMENT_AFTER = re.compile(
    r"\s*(?:for|at|in|within|from)\s+(?:the\s+|its\s+|Dell(?:'s|’s)\s+)?(?=\S)", re.IGNORECASE
)


def _segment_near(text, q, p, clauses) -> str | None:
    """A segment named right after the number ("12.4% ISG", "14.8% for its server unit"), or
    right after a number that comes before its phrase ("$10.3 billion ISG revenue")."""
    near = vocab.SEGMENT_RE.match(text, q.end + 1, q.end + 12) if q.end < p.start else None
    if near is None:
        # (Within the sentence: "Operating margin was 7.9%. ISG operating margin …" names
        # ISG for the next sentence, not for this number.)
        near = vocab.SEGMENT_RE.search(text, q.end, min(q.end + 6, clauses.end))
    if near is None:
        glue = _SEGMENT_AFTER.match(text, max(q.end, p.end), clauses.end)
        if glue is not None:
            near = vocab.SEGMENT_RE.match(text, glue.end(), clauses.end)
    return near.lastgroup if near is not None else None


# A segment name, and its possessive, right before a phrase: "ISG gross margin", "CSG's EPS".
_SEGMENT_BEFORE = re.compile(r"(?:'s|’s)?[\s-]*(?:\w+[\s-]+)?$")


def _segment_attached(text, sent_start, q, p, clauses) -> bool:
    lo = max(sent_start, p.start - 40)
    for m in vocab.SEGMENT_RE.finditer(text, lo, p.start):
        if _SEGMENT_BEFORE.fullmatch(text, m.end(), p.start):
            return True
    return _segment_near(text, q, p, clauses) is not None


def _subject_metric(q, p, metric, phrases, clauses) -> str | None:
    """"Servers and networking revenue made up most of it, with $4.9 billion in revenue":
    a generic phrase repeats the segment metric its clause opened with, when no number took it."""
    lo = clauses.start_of(min(p.start, q.first), subject=True)
    for other in phrases:
        if other.start >= min(p.start, q.first):
            break
        if (other.start >= lo and not other.used and other.phrase.metric is not None
                and vocab.SEGMENT_BASE.get(other.phrase.metric) == metric):
            return other.phrase.metric
    return None


def _referred_segment(text, sent_start, q, p, clauses) -> str | None:
    """The segment of the sentence before, when this one refers back to it ("Its operating
    income rate rose …", "Sales within this segment hit …") and names no company before."""
    hi = max(p.start, q.first)
    lo = clauses.start_of(min(p.start, q.first), subject=True)
    a = vocab.SEGMENT_ANAPHOR_RE.search(text, lo, hi)
    if a is None or vocab.DELL_RE.search(text, lo, a.start()) is not None:
        return None
    return previous_segment(text, sent_start)


def previous_segment(text: str, sent_start: int, depth: int = 3) -> str | None:
    """The one segment the sentences before `sent_start` on its line are about: the last of
    them that names segments, if it names one; through sentences that refer back in turn
    ("ISG revenue rose 44%. The growth within this segment … Its margin …"). None when one
    names two segments, names the company instead, or the line starts first."""
    line = text.rfind("\n", 0, sent_start) + 1
    spans = split(text, line, sent_start)
    for ps, pe in reversed(spans[-depth:]):
        segs = {vocab.SEGMENT_PARENT.get(m.lastgroup, m.lastgroup)
                for m in vocab.SEGMENT_RE.finditer(text, ps, pe)}
        if len(segs) == 1:
            return segs.pop()
        if segs or vocab.SEGMENT_ANAPHOR_RE.search(text, ps, pe) is None:
            return None
    return None


def _is_guidance(text, sent_start, q, p, clauses, stems) -> bool:
    # The window below is text of the sentence before the number: without a guidance stem
    # there, its clause need not be found.
    if (stems.guidance_end > q.first - sent_start if stems.guidance_end is not None
            else not may_contain(text[sent_start : q.first].lower(), vocab.GUIDANCE_RE.stems)):
        return bool(_GUIDANCE_AFTER.match(text, q.end, q.end + 40))
    lo = clauses.start_of(q.first)
    if lo > sent_start and _AND_CLAUSE.search(text, max(sent_start, lo - 8), lo) and not _VERB.search(text, lo, q.first):
        # "Dell expects revenue of $31 billion to $32 billion, and adjusted EPS of $3.50":
        # a clause with no verb of its own continues the one before.
        lo = clauses.start_of(lo - 6)
    window = text[lo : q.first]
    if p.start < lo:
        window = text[p.start : p.end] + " " + window
    for m in vocab.GUIDANCE_RE.finditer(window):
        # (Not an expectation of someone else's: "beat expectations", "analysts … expected".)
        if not (_BEAT_EXPECT.search(window, max(0, m.start() - 30), m.end())
                or vocab.ESTIMATE_RE.search(window, max(0, m.start() - 40), m.start())):
            return True
    return bool(_GUIDANCE_AFTER.match(text, q.end, q.end + 40))


_AND_CLAUSE = re.compile(r",\s+(?:and|with)\s*$", re.IGNORECASE)
_VERB = re.compile(
    r"\b(?:is|was|were|are|has|had|have|reported|posted|booked|generated|delivered|shipped|ended|recorded|"
    r"rose|fell|grew|climbed|declined|increased|decreased|reached|hit|totaled|came|stood|returned|raised|"
    r"lowered|cut|narrowed|sees|expects|guides|forecasts)\b",
    re.IGNORECASE,
)
_ACC_AFTER = re.compile(r"\s+(?:on\s+an?\s+)?(?:adjusted|non-GAAP)\b", re.IGNORECASE)
_GAAP_AFTER = re.compile(r"\s+(?:on\s+an?\s+)?GAAP\s+basis\b", re.IGNORECASE)
_GUIDANCE_AFTER = re.compile(
    r"\s*(?:(?:is|was|are)\s+)?(?:expected|forecast|projected|guided|targeted)\b|,?\s*at\s+the\s+midpoint", re.IGNORECASE
)


def _accounting(text, sent_start, p, q, stems) -> str | None:
    if p.phrase.accounting:
        return p.phrase.accounting
    if _ACC_AFTER.match(text, q.end, q.end + 20):
        return "non_gaap"  # "Earnings per share: $2.59 adjusted", "7.7% on a non-GAAP basis"
    if _GAAP_AFTER.match(text, q.end, q.end + 25):
        return "gaap"
    if not stems.accounting:
        return None  # the window below is text of the sentence: it holds neither word either
    lo = min(p.start, q.first) if p.phrase.post_only else p.start
    lo = max(sent_start, lo - 25)
    cut_at = max(text.rfind("$", lo, min(p.start, q.first)), text.rfind("%", lo, min(p.start, q.first)))
    window = text[max(lo, cut_at + 1) : p.end]
    cut = max(window.rfind(","), window.rfind(";"))
    if cut >= 0 and cut < len(window) - (p.end - p.start):
        window = window[cut + 1 :]
    low = window.lower()
    if "gaap" not in low and "adjusted" not in low:
        return None  # the words both regexes need
    if vocab.NON_GAAP_RE.search(window):
        return "non_gaap"
    if vocab.GAAP_RE.search(window):
        return "gaap"
    return None


def _evidence_span(text, s, e, q, p, periods) -> tuple[int, int]:
    if p is None:
        lo, hi = q.first, q.end
    else:
        lo, hi = min(q.first, p.start), max(q.end, p.end)
        # Take in a period modifier right before the phrase ("Full-year FY26 revenue …").
        for pm in periods:
            if pm.end <= lo and pm.start >= s and lo - pm.end <= 30 and MODIFIERS.fullmatch(text[pm.end : lo]):
                lo = pm.start
                break
    after = attached_after(text, hi, periods)
    if after is not None and after.end - hi <= 25:
        hi = after.end
    if hi - lo > 160:
        lo, hi = q.first, q.end
    while lo < hi and text[lo] in " ,;:•\"“":
        lo += 1
    return lo, hi


def _confidence(q: Quantity, p: _Phrase, res: Resolved) -> float:
    return _confidence_of(p.phrase.weak, q.approx, q.kind == "num", res.period is not None, res.explicit,
                          res.inferred)


@cache  # a pure function of six flags, asked for every figure
def _confidence_of(weak: bool, approx: bool, bare: bool, placed: bool, explicit: bool, inferred: bool) -> float:
    c = 0.9
    if weak:
        c -= 0.15
    if approx:
        c -= 0.05
    if bare:
        c -= 0.1
    if not placed or inferred:  # no period, or only the text's own (it names none)
        c -= 0.1
    elif not explicit:
        c -= 0.05
    return round(max(0.05, min(1.0, c)), 2)


__all__ = ["sentence_figures"]
