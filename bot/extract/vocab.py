"""The words of earnings texts: what a metric phrase names, and the cues around a number.

Every metric of `bot.figures` (see the corpus README's metric table) is named by
one or more phrases, listed in `phrases.py`. Phrases that name something that is
*not* one of our metrics ("operating income" in dollars, "deferred revenue",
"cash") are listed too, with metric None: a number bound to them is consumed and
yields nothing, so it cannot drift to a metric named further away.

The cue regexes here (guidance words, estimates, changes, comparisons) are
applied to short windows next to a number. Their words, the metric phrases and the company
names come from the data files (bot/extract/data, read by knowledge.py); this module says
where each cue is read (anywhere, right before the number, right after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.cues import EndCue, StemCue, necessary_factors
from bot.extract.knowledge import KNOWLEDGE as _K

# A word start that also accepts a camel-case glue ("billionDiluted", "up 80%Client"):
# flattened press-release bullets lose the space between items.
WB = r"(?-i:(?<![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))"


@dataclass(frozen=True)
class Phrase:
    """What a matched phrase names.

    `metric` None: a thing that is not one of our metrics (consumes a number).
    `generic`: company-level wording a segment heading or subject can qualify
    ("Revenue: $10.3 billion" under "Infrastructure Solutions Group (ISG)").
    `weak`: wording that only implies the metric ("backlog", "AI servers").
    `needs_ai`: binds only in a sentence that talks about AI ("orders", "shipments").
    `post_only`: names a metric only right after the number ("$1.70 per share").
    `margin_of`: the margin a percent "of revenue" after this amount states ("operating
    income was $1.3 billion, or 5.4% of revenue" → operating_margin).
    """

    metric: str | None
    unit: str | None
    generic: bool = False
    weak: bool = False
    needs_ai: bool = False
    post_only: bool = False
    accounting: str | None = None
    margin_of: str | None = None
    pre_only: bool = False  # names a metric only before its number ("ISG: $16.8B")
    # A metric only inside a segment ("In its PC unit, the margin was 4.7%").
    segment_only: bool = False
    # The amount is the metric's negative ("cash used in operating activities of $38 million").
    negative: bool = False
    # The amount is the metric's negative ("cash used in operating activities of $38 million").
    negative: bool = False


# A segment named in prose: its official name, its abbreviation, or the plain words news use
# ("the infrastructure unit", "its personal computer business", "its server and networking
# unit"). The group is the segment key of the company pack (companies.yaml): "isg", "csg",
# or "sn" (ISG's servers and networking line, which Dell reports revenue for but no margin:
# a margin "for its server and networking unit" is ISG's).
_UNIT = "(?:" + "|".join(sorted(map(re.escape, _K.companies.segment_units), key=len, reverse=True)) + ")"


def _segment_pattern() -> str:
    groups = []
    for pack in _K.companies.companies:
        for key, seg in pack.segments.items():
            alts = [n.replace(" ", r"\s+") if n.isupper() else "(?i:" + n.replace(" ", r"\s+") + ")"
                    for n in sorted(seg.names, key=len, reverse=True)]
            if seg.plain:
                plain = "|".join(re.escape(w).replace(r"\ ", r"[\s-]+")
                                 for w in sorted(seg.plain, key=len, reverse=True))
                alts.append(rf"(?i:(?:{plain})\s+{_UNIT})")
            groups.append(rf"{WB}(?P<{key}>{'|'.join(alts)})(?![A-Za-z])")
    return "|".join(groups)


SEGMENT_RE = re.compile(_segment_pattern())
# Lowercase stems, one of which every match of SEGMENT_RE holds (a test before the regex),
# read off the pattern (cues.necessary_factors).
SEGMENT_STEMS = necessary_factors(SEGMENT_RE.pattern, re.IGNORECASE) or ("",)
# The segment a part of another belongs to, when a later sentence refers back to it.
SEGMENT_PARENT = {k: seg.parent for pack in _K.companies.companies for k, seg in pack.segments.items()
                  if seg.parent}

# Which metric a generic phrase becomes inside a segment. A segment with no entry for a
# metric states no company figure: "the storage division's operating margin" is dropped.
SEGMENT_METRIC = {(k, generic): metric for pack in _K.companies.companies
                  for k, seg in pack.segments.items() for generic, metric in seg.metrics.items()}
# The company metric a segment metric refines ("Servers and networking revenue … with $4.9
# billion in revenue": the generic "revenue" is the subject's).
SEGMENT_BASE = dict(_K.metrics.refines)
# A sentence that refers back to the segment the sentence before it was about: "Its operating
# income rate rose …", "Sales within this segment hit …", "The unit's margin …".
SEGMENT_ANAPHOR_RE = re.compile(
    rf"\b(?:(?:this|that|the)\s+{_UNIT}(?:'s|’s)?|[Ii]ts|there)\b", re.IGNORECASE
)
# Metrics that are balances at a moment, not flows over a period (AI backlog).
BALANCES = frozenset(_K.metrics.balances)

AI_RE = re.compile(r"\bAI\b")


def _anywhere(cue: str) -> str:
    return rf"(?<!\w){_K.cue_regex(cue)}(?!\w)"


def _before(cue: str, extra: str = "") -> str:
    """Read right before the number: the window must end with the words."""
    return rf"(?<!\w){_K.cue_regex(cue)}{extra}\s*$"


def _after(cue: str, lead: str = r"[\s,]*") -> str:
    """Read right after the number: the window must start with the words (word beginnings)."""
    return lead + _K.cue_regex(cue)


# Accounting words right before a phrase ("non-GAAP diluted EPS", "GAAP diluted EPS"). GAAP
# alone is case-sensitive and never the tail of "non-GAAP".
NON_GAAP_RE = re.compile(_anywhere("non_gaap"), re.IGNORECASE)
GAAP_RE = re.compile(r"(?<![-\w])(?i:" + _K.cue_regex("gaap") + r")(?!\w)")

# Guidance: the company's expectation for a period, not a result.
GUIDANCE_RE = StemCue(_anywhere("guidance"))

# Companies. A figure belongs to the company its sentence is about: the text's own company
# ("Dell", "the company", "we", "our"), or another one named (a peer, a supplier, a bank).
# Each name is matched as written (capitals included): "Apple", not "apple".
_SELF = [w[0].upper() + w[1:] for w in _K.companies.self] + list(_K.companies.self)


def _names_pattern(names: list[str]) -> str:
    return "|".join(re.escape(n).replace(r"\ ", r"\s+")
                    for n in sorted(dict.fromkeys(names), key=len, reverse=True))


_DELL = _K.pack("DELL")
_OTHER_NAMES = [n for c in _K.companies.companies if c.ticker != "DELL" for n in (c.name, *c.aliases)]
_OTHER_COMPANIES = _names_pattern(_OTHER_NAMES + list(_K.companies.others))
OTHER_COMPANY_RE = re.compile(rf"\b(?:{_OTHER_COMPANIES})\b")
# The same names without the leading word boundary: every alternative then opens with its own
# letter, and `re` skips in C to the few capitals that start one (a leading \b makes it try
# every position). A necessary test for OTHER_COMPANY_RE, used to skip sentences that name no one.
_OTHER_COMPANY_SCAN = re.compile(rf"(?:{_OTHER_COMPANIES})\b")


def first_other_company(text: str, start: int, end: int) -> int:
    """Where the first name that may be another company's starts in text[start:end] (`end` if none)."""
    m = _OTHER_COMPANY_SCAN.search(text, start, end)
    return end if m is None else m.start()


DELL_RE = re.compile(rf"\b(?:{_names_pattern([_DELL.name, *_DELL.aliases, *_SELF])})\b")

# Someone else's number: analysts, consensus, the market.
ESTIMATE_RE = re.compile(_anywhere("estimate"), re.IGNORECASE)
# "…the $27.2 billion analysts had expected", "$2.47, the consensus": someone else's number.
ESTIMATE_AFTER_RE = re.compile(_after("estimate_after") + r"(?!\w)", re.IGNORECASE)

# Words before a number that make it a change, not a level: "up 88%", "grew 69%".
CHANGE_BEFORE_RE = EndCue(_before("change_before"))
# Words after a number that make it a change or a comparison: "38% year-over-year jump".
CHANGE_AFTER_RE = re.compile(_after("change_after", r"\s*"), re.IGNORECASE)
# "fell to 20%", "rose to $16B": the level reached, a figure.
LEVEL_BEFORE_RE = EndCue(_before("level_before"))

# A comparison with an earlier period: "from under $2B a year earlier", "vs. $20.9 billion a year ago".
COMPARE_BEFORE_RE = EndCue(_before("compare_before"))
# Lowercase words one of which every match of COMPARE_BEFORE_RE holds: a sentence with none
# compares nothing (in ASCII text; `re` folds a few other letters).
COMPARE_WORDS = necessary_factors(COMPARE_BEFORE_RE.regex.pattern, re.IGNORECASE) or ("",)
YEAR_AGO_RE = re.compile(_after("year_ago"), re.IGNORECASE)
QUARTER_AGO_RE = re.compile(_after("quarter_ago"), re.IGNORECASE)

# Things a number next to which is not a period figure: a trailing-twelve-month total.
TRAILING_RE = re.compile(_anywhere("trailing"), re.IGNORECASE)

# Relative claims and qualitative targets: "30–50% higher margins", "mid-single-digit".
RELATIVE_AFTER_RE = re.compile(_after("relative_after", r"\s*"), re.IGNORECASE)

# "80% of free cash flow", "40% of revenue": a share of something, not a margin.
PCT_OF_AFTER_RE = re.compile(r"\s*of\s+(?!(?:total\s+|ISG\s+|CSG\s+|ISG's\s+|CSG's\s+)?(?:net\s+)?revenues?\b)", re.IGNORECASE)

# Market sizes, prices, valuations: a number right before these is never a figure of ours.
NOT_FIGURE_AFTER_RE = re.compile(_after("not_figure_after", r"\s*(?:[\w/-]+\s+){0,3}?"), re.IGNORECASE)
NOT_FIGURE_BEFORE_RE = EndCue(
    _before("not_figure_before", rf"(?:\s*{_K.cue_regex('not_figure_before_hedge')})?")
)

# A figure that is not exact: "about $5 billion" (before), "$15 billion plus", "$15B+" (after).
HEDGE_BEFORE_RE = EndCue(_before("hedge_before"))
HEDGE_AFTER_RE = re.compile(_after("hedge_after", r"\s*") + r"(?!\w)", re.IGNORECASE)

# "$295 billion AI hardware/services market": a market size (filters._market_after).
MARKET_RE = re.compile(_K.cue_regex("market") + r"\b", re.IGNORECASE)
MARKET_STEMS = necessary_factors(MARKET_RE.pattern, re.IGNORECASE) or ("",)
MARKET_STOP = frozenset(w for spec in _K.cues.cues["market_stop"] for w in spec.lower().split("|"))


# How a window read by the after-cues of filters._after_cue can begin (after blanks and
# commas), lowercased: a number followed by none of these skips those regexes.
AFTER_STARTS = tuple(sorted(
    {w[:12] for cue in ("change_after", "relative_after", "trailing", "estimate_after")
     for w in _K.cue_starts(cue)} | {"of", "over", "in"}  # PCT_OF_AFTER_RE; "over the"/"in the" TTM
))
# Lowercase stems one of which every match of ESTIMATE_RE holds: a clause with none cites no one.
ESTIMATE_HINTS = necessary_factors(ESTIMATE_RE.pattern, re.IGNORECASE) or ("",)
