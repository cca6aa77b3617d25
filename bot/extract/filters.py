"""Numbers in prose that are not figures of ours, whatever metric words sit near them.

A change ("up 88%", "a 38% year-over-year jump"), a relative claim ("30–50% higher
margins"), a share of something ("80% of free cash flow"), a market size, a price or
a valuation, a trailing-twelve-month total, someone else's estimate ("the $27.2
billion analysts had expected", "vs. $2.47 expected"), or another company's figure
("Nvidia … reported revenue of $41.1 billion"). Each test looks at a short window
next to the number, so a sentence can hold a figure and a trap side by side.
"""

from __future__ import annotations

import re

from bot.extract import vocab
from bot.extract.cues import EndCue, may_contain, tail
from bot.extract.numbers import Quantity
from bot.extract.sentences import Clauses


def not_a_figure(text: str, sent_start: int, q: Quantity, clauses: Clauses, cites: bool = True) -> bool:
    """`cites`: False when the sentence holds no estimate word (`may_cite_estimates`), which
    spares the estimate test for each of its numbers."""
    # "$"-anchored searches scan their whole window, so each gets the shortest that can hold
    # its words, and an end-word test in front (see cues.py). Their windows all end at the
    # number: one tail serves the four tests, and a window is cut only for a cue that passes.
    before = text[max(sent_start, q.first - 60) : q.first]
    after = text[q.end : q.end + 60]
    end = tail(before)
    if (vocab.CHANGE_BEFORE_RE.may_end(end) and vocab.CHANGE_BEFORE_RE.regex.search(before[-32:])
            and not (vocab.LEVEL_BEFORE_RE.may_end(end) and vocab.LEVEL_BEFORE_RE.regex.search(before[-12:]))):
        return True
    if vocab.NOT_FIGURE_BEFORE_RE.may_end(end) and vocab.NOT_FIGURE_BEFORE_RE.regex.search(before[-50:]):
        return True
    if _market_after(after):
        return True
    if q.kind == "pct" and _PCT_CHANGE_AFTER.match(after):
        return True
    if _after_cue(after, q):
        return True
    # The clause is a tail of this window: without an estimate word here, it has none.
    wide = text[max(sent_start, q.first - 120) : q.first]
    if cites and _may_cite_estimates(wide):
        clause = text[max(clauses.start_of(q.first), q.first - 120) : q.first]
        if _may_cite_estimates(clause):
            for m in vocab.ESTIMATE_RE.finditer(clause):
                # "beat the $2.05 a share analysts expected, posting EPS of $2.15": words of
                # estimate right after another amount are that amount's.
                if not _AMOUNT_END.search(clause, max(0, m.start() - 60), m.start()):
                    return True
    return bool(_VS_END.may_end(end) and _VS_END.regex.search(before[-20:]) and _EXPECTED_AFTER.match(after))


# How every cue read right after a number can begin (after blanks and commas), derived from
# the cue words (vocab.AFTER_STARTS): a number followed by none of these ("$29.8 billion in
# revenue") skips the five regexes below.
_AFTER_STARTS = vocab.AFTER_STARTS
_LEAD = re.compile(r"[\s,]*")
_PER_SHARE_LEAD = re.compile(r"(?:per|a)\s+(?:diluted\s+)?share\b[\s,]*", re.IGNORECASE)


# "a 69% revenue increase", "a 12% AI server revenue decline": a change of the metric named
# between the percent and the change word.
_PCT_CHANGE_AFTER = re.compile(
    r"\s*(?:(?!(?:on|in|of|for|with|at|to|by|from|the|a|an|and|or|as|than|amid|despite|after|"
    r"before|due|while|but|higher|lower|strong|weak)\b)[A-Za-z][\w-]*\s+){1,4}?"
    r"(?:increase|decrease|growth|jump|rise|decline|drop|gain|"
    r"improvement|surge|slump|fall)s?\b",
    re.IGNORECASE,
)


# An amount, with its unit, then only the words that say whose estimate it is: "$2.05 per
# share analysts polled by LSEG expected" (not "$1.55 a share missed analyst estimates …").
_AMOUNT_END = re.compile(
    r"\d(?:\s*(?:%|[bmk]n?\b|billion|million|(?:per|a)\s+share|cents))?\s+"
    r"(?:(?:that|which|the|analysts?|analysts’|analysts'|polled|surveyed|by|on|average|had|have|were|"
    r"was|compiled|according|to|data|from|lseg|factset|refinitiv|zacks|bloomberg|visible|alpha|wall|"
    r"street|consensus)\s+){0,8}$",
    re.IGNORECASE,
)


def _after_cue(after: str, q: Quantity) -> bool:
    """A change, a relative claim, a share of something, a trailing total or someone else's
    estimate named right after the number."""
    lead = _LEAD.match(after).end()
    unit = _PER_SHARE_LEAD.match(after, lead)
    if unit is not None:  # "$2.05 per share analysts polled by LSEG expected"
        after = after[unit.end() :]
        lead = 0
    if not after[lead : lead + 12].lower().startswith(_AFTER_STARTS):
        return False
    if vocab.CHANGE_AFTER_RE.match(after) or vocab.RELATIVE_AFTER_RE.match(after):
        return True
    if q.kind == "pct" and vocab.PCT_OF_AFTER_RE.match(after):
        return True
    if vocab.TRAILING_RE.match(after.lstrip(" ,").removeprefix("over the ").removeprefix("in the ")):
        return True
    return bool(vocab.ESTIMATE_AFTER_RE.match(after))


def about_another_company(text: str, sent_start: int, q: Quantity, clauses: Clauses) -> bool:
    """"Nvidia, whose GPUs power Dell's servers, reported revenue of $41.1 billion": the
    sentence's subject (its first company) or the company nearest before the number in its
    clause is not Dell."""
    if vocab.OTHER_COMPANY_RE.search(text, sent_start, q.first) is None:
        return False
    first = _first_company(text, sent_start, q.first)
    if first is not None and first[1] == "other":
        return True
    lo = clauses.start_of(q.first)
    last = None
    for m in vocab.OTHER_COMPANY_RE.finditer(text, lo, q.first):
        last = (m.start(), "other")
    for m in vocab.DELL_RE.finditer(text, lo, q.first):
        if last is None or m.start() > last[0]:
            last = (m.start(), "dell")
    return last is not None and last[1] == "other"


def _first_company(text, lo, hi):
    o = vocab.OTHER_COMPANY_RE.search(text, lo, hi)
    d = vocab.DELL_RE.search(text, lo, hi)
    if o is None and d is None:
        return None
    if d is None or (o is not None and o.start() < d.start()):
        return (o.start(), "other")
    return (d.start(), "dell")


_ESTIMATE_HINTS = vocab.ESTIMATE_HINTS  # read off ESTIMATE_RE (cues.necessary_factors)


def may_cite_estimates(text: str, low: str | None = None) -> bool:
    """Whether `text` holds a word that may name someone else's estimate (`low`: text.lower())."""
    return may_contain(text.lower() if low is None else low, _ESTIMATE_HINTS)


_HINTS_BUT_RATING = tuple(h for h in _ESTIMATE_HINTS if h != "rating")


def _may_cite_estimates(clause: str) -> bool:
    """`may_cite_estimates` in front of ESTIMATE_RE, without the hint most clauses give it:
    the "rating" of "operating" (ESTIMATE_RE only knows "buy/sell/hold rating").

    True wherever ESTIMATE_RE matches (tests/test_extract_cues.py), so the pair decides as
    the regex alone would: in ASCII text a match holds one of the hints, lowercased ("target"
    stands for "price target" written with any blanks). Outside ASCII, `re` matches a few
    letters case-insensitively that `str.lower` keeps apart (ſ and s): the plain test.
    """
    low = clause.lower()
    if not clause.isascii():
        return may_contain(low, _ESTIMATE_HINTS)
    if may_contain(low, _HINTS_BUT_RATING):
        return True
    # Each "operating" holds one "rating" (and two never overlap): any other is a word of its own.
    return low.count("rating") > low.count("operating")


_VS_END = EndCue(r"\b(?:vs\.?|versus|compared\s+(?:with|to)|against)\s*$")
_EXPECTED_AFTER = re.compile(r"\s+(?:expected|estimated|forecast|consensus|est\.)", re.IGNORECASE)


_MARKET_WORDS = vocab.MARKET_RE
_NOT_ADJ = vocab.MARKET_STOP


_MARKET_STEMS = vocab.MARKET_STEMS


def _market_after(after: str) -> bool:
    """"$295 billion AI hardware/services market": a market size, not a figure."""
    if not may_contain(after.lower(), _MARKET_STEMS):
        return False
    words = after.split(None, 4)
    for w in words[:4]:
        if _MARKET_WORDS.match(w):
            return True
        if w.lower() in _NOT_ADJ or not w[:1].isalnum():
            return False
    return False




# --- long-run values: averages and targets with no period ----------------------------------------

# "~12% ISG average", "a 10-year average of 12%", "its historical norm of 20%": a level over
# many periods, not one period's figure.
_AVERAGE_AFTER = re.compile(
    r"\s*(?:[\w-]+\s+){0,2}?(?:average|avg\.?|norm|mean|run[\s-]rate)\b", re.IGNORECASE
)
_AVERAGE_BEFORE = re.compile(
    r"\b(?:average|averaged|averaging|historical|historically|historic|norm|typical|typically)"
    r"\s+(?:(?:of|at|around|about|near|was|is|has\s+been)\s+)*$",
    re.IGNORECASE,
)
# "a long-term operating margin of 7% to 9%", "to reach 10% to 12% over time": a target for no
# one period (corpus NOTES, policy 4).
_LONG_TERM = re.compile(
    r"\b(?:long(?:er)?[\s-]+(?:term|run|range)|medium[\s-]+term|over\s+time|multi-?year|"
    r"through(?:out)?\s+the\s+cycle|(?:financial\s+)?framework|over\s+the\s+(?:next|coming)\s+"
    r"(?:few|several|two|three|four|five|\d+)\s+years|by\s+the\s+end\s+of\s+the\s+decade)\b",
    re.IGNORECASE,
)
# Every cue above holds one of these (lowercased): a sentence with none states no long-run value.
LONG_RUN_WORDS = ("aver", "avg", "norm", "mean", "run", "histor", "typical", "long", "medium",
                  "over time", "multi", "cycle", "framework", "years", "decade")


def long_run(text: str, sent_start: int, sent_end: int, q: Quantity,
             clauses: Clauses) -> str | None:
    """"average" for a value averaged over many periods, "long_term" for a target set for no
    period (the caller keeps it when the sentence names a period), None otherwise."""
    if _AVERAGE_AFTER.match(text, q.end, min(sent_end, q.end + 40)):
        return "average"
    if _AVERAGE_BEFORE.search(text, max(sent_start, q.first - 40), q.first):
        return "average"
    lo = clauses.start_of(q.first)
    hi = min(sent_end, q.end + 40)
    if _LONG_TERM.search(text, lo, hi):
        return "long_term"
    return None


# --- a customer's deal --------------------------------------------------------------------------

# One customer's purchase ("a cloud provider committed $3 billion in AI server orders", "one
# customer signed a $150 million contract") is not the company's orders or revenue; customers
# in the plural ("customers placed $12 billion of AI orders") are.
_ONE_CUSTOMER = re.compile(
    r"\b(?:a|an|one|its|their|the|that|this)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:customer|client|buyer|start-?up|lab|cloud\s+provider|hyperscaler|neocloud|sovereign|"
    r"enterprise)"
    r"\b[^;.]{0,80}?\b(?:committed|commits|placed|places|signed|signs|ordered|orders|bought|buys|"
    r"purchased|purchases|agreed|awarded|inked|booked|will\s+(?:buy|spend|purchase))\b",
    re.IGNORECASE,
)
CUSTOMER_WORDS = ("customer", "client", "buyer", "start", "lab", "provider", "hyperscaler",
                  "neocloud", "sovereign", "enterprise")


def about_a_customer(text: str, q: Quantity, clauses: Clauses) -> bool:
    """Whether the number's clause says what one customer bought or committed."""
    return _ONE_CUSTOMER.search(text, clauses.start_of(q.first), q.first) is not None
