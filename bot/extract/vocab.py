"""The words of earnings texts: what a metric phrase names, and the cues around a number.

Every metric of `bot.figures` (see the corpus README's metric table) is named by
one or more phrases, listed in `phrases.py`. Phrases that name something that is
*not* one of our metrics ("operating income" in dollars, "deferred revenue",
"cash") are listed too, with metric None: a number bound to them is consumed and
yields nothing, so it cannot drift to a metric named further away.

The cue regexes here (guidance words, estimates, changes, comparisons) are
applied to short windows next to a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.cues import EndCue, StemCue

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


# A segment named in prose: its official name, its abbreviation, or the plain words news use
# ("the infrastructure unit", "its personal computer business", "its server and networking
# unit"). The group is the segment: "isg", "csg", or "sn" (ISG's servers and networking line,
# which Dell reports revenue for but no margin: a margin "for its server and networking unit"
# is ISG's).
_UNIT = r"(?:side|unit|units|division|business|businesses|segment|group|arm|operations?)"
SEGMENT_RE = re.compile(
    rf"{WB}(?P<isg>(?i:Infrastructure\s+Solutions\s+Group)|ISG|"
    rf"(?i:infrastructure(?:\s+solutions)?\s+{_UNIT}))(?![A-Za-z])"
    rf"|{WB}(?P<csg>(?i:Client\s+Solutions\s+Group)|CSG|"
    rf"(?i:(?:personal[\s-]+computers?|PCs?|computers?|client(?:\s+solutions)?)\s+{_UNIT}))"
    rf"(?![A-Za-z])"
    rf"|{WB}(?P<sn>(?i:servers?\s+(?:and|&)\s+network(?:ing)?\s+{_UNIT}))(?![A-Za-z])",
)
# Lowercase stems, one of which every match of SEGMENT_RE holds (a test before the regex).
SEGMENT_STEMS = ("isg", "csg", "solutions", "infrastructure", "computer", "pc", "client", "network")
# The segment a part of ISG belongs to, when a later sentence refers back to it.
SEGMENT_PARENT = {"sn": "isg"}

# Which metric a generic phrase becomes inside a segment. A segment with no entry for a
# metric states no company figure: "the storage division's operating margin" is dropped.
SEGMENT_METRIC = {
    ("isg", "revenue"): "isg_revenue",
    ("csg", "revenue"): "csg_revenue",
    ("isg", "operating_margin"): "isg_operating_margin",
    ("csg", "operating_margin"): "csg_operating_margin",
    ("sn", "revenue"): "servers_networking_revenue",
    ("sn", "operating_margin"): "isg_operating_margin",
}
# The company metric a segment metric refines ("Servers and networking revenue … with $4.9
# billion in revenue": the generic "revenue" is the subject's).
SEGMENT_BASE = {
    "isg_revenue": "revenue", "csg_revenue": "revenue", "servers_networking_revenue": "revenue",
    "storage_revenue": "revenue", "isg_operating_margin": "operating_margin",
    "csg_operating_margin": "operating_margin",
}
# A sentence that refers back to the segment the sentence before it was about: "Its operating
# income rate rose …", "Sales within this segment hit …", "The unit's margin …".
SEGMENT_ANAPHOR_RE = re.compile(
    rf"\b(?:(?:this|that|the)\s+{_UNIT}(?:'s|’s)?|[Ii]ts)\b", re.IGNORECASE
)

AI_RE = re.compile(r"\bAI\b")

# Accounting words right before a phrase ("non-GAAP diluted EPS", "GAAP diluted EPS").
NON_GAAP_RE = re.compile(r"\b(?:non-?GAAP|adjusted)\b", re.IGNORECASE)
GAAP_RE = re.compile(r"(?<![-\w])GAAP\b")

# Guidance: the company's expectation for a period, not a result.
GUIDANCE_RE = StemCue(
    r"\b(?:expect(?:s|ed|ing|ations?)?|outlook|guid(?:e|es|ed|ing|ance)|target(?:s|ed|ing)?|"
    r"forecast(?:s|ed|ing)?|project(?:s|ed|ing|ions?)|anticipat(?:e|es|ed|ing)|sees|"
    r"midpoint|aims?\s+(?:to|for)|plans?\s+to\s+(?:reach|deliver|ship)|will\s+(?:be|reach|deliver|ship|grow)|"
    r"is\s+(?:on\s+track|poised)\s+to|estimate[sd]?)\b",
    stems=("expect", "outlook", "guid", "target", "forecast", "project", "anticipat", "sees", "midpoint", "aim",
           "plan", "will", "track", "poised", "estimate"),
)

# Another company's figure: a sentence or clause about a peer, a supplier or a bank.
# (Dell is the subject of every metric; "the company", "we" and "its" are read as Dell.)
_OTHER_COMPANIES = (
    r"Nvidia|NVIDIA|HPE|Hewlett\s+Packard(?:\s+Enterprise)?|HP\s+Inc|Super\s*Micro|Supermicro|SMCI|Lenovo|"
    r"Cisco|IBM|NetApp|Pure\s+Storage|AMD|Intel|Microsoft|Apple|Oracle|CoreWeave|Broadcom|Arista|Micron|"
    r"Nutanix|Inspur|Foxconn|Quanta|Wistron|Amazon|AWS|Alphabet|Google|Meta|xAI|OpenAI|Samsung|SK\s+Hynix|"
    r"Morgan\s+Stanley|Goldman(?:\s+Sachs)?|JPMorgan|J\.P\.\s+Morgan|Bank\s+of\s+America|BofA|Citi(?:group)?|"
    r"Barclays|UBS|Evercore|Bernstein|Wells\s+Fargo|Jefferies|Raymond\s+James|Wedbush|Melius|Mizuho|"
    r"TD\s+Cowen|Loop\s+Capital|KeyBanc|Piper\s+Sandler|Deutsche\s+Bank|Baird|Citigroup|Morningstar|"
    r"IDC|Gartner"
)
OTHER_COMPANY_RE = re.compile(rf"\b(?:{_OTHER_COMPANIES})\b")
# The same names without the leading word boundary: every alternative then opens with its own
# letter, and `re` skips in C to the few capitals that start one (a leading \b makes it try
# every position). A necessary test for OTHER_COMPANY_RE, used to skip sentences that name no one.
_OTHER_COMPANY_SCAN = re.compile(rf"(?:{_OTHER_COMPANIES})\b")


def first_other_company(text: str, start: int, end: int) -> int:
    """Where the first name that may be another company's starts in text[start:end] (`end` if none)."""
    m = _OTHER_COMPANY_SCAN.search(text, start, end)
    return end if m is None else m.start()
DELL_RE = re.compile(r"\b(?:Dell|DELL|the\s+company|The\s+company|[Ww]e|[Oo]ur)\b")

# Someone else's number: analysts, consensus, the market.
ESTIMATE_RE = re.compile(
    r"\b(?:analysts?|consensus|Wall\s+Street|street\s+estimates?|estimates?|polled|LSEG|FactSet|"
    r"price\s+target|upgraded?|downgraded?|overweight|outperform|(?:buy|sell|hold)\s+rating|"
    r"Zacks|Visible\s+Alpha|Refinitiv|S&P\s+Global|Bloomberg\s+(?:consensus|estimates)|"
    r"had\s+expected|were\s+expecting|predicted|predicts|forecasters?)\b",
    re.IGNORECASE,
)

# "…the $27.2 billion analysts had expected", "$2.47, the consensus": someone else's number.
ESTIMATE_AFTER_RE = re.compile(
    r"[\s,]*(?:that\s+|which\s+|as\s+)?(?:analysts?|Wall\s+Street|the\s+Street|consensus|LSEG|FactSet|"
    r"expected\s+by|estimated\s+by|forecast\s+by)\b",
    re.IGNORECASE,
)

# Words before a number that make it a change, not a level: "up 88%", "grew 69%".
_CHANGE_WORDS = ("up", "down", "rose", "rise", "rising", "fell", "fall", "falling", "grew", "grow", "growing",
                 "growth", "increased", "increase", "increasing", "decreased", "decrease", "decreasing", "declined",
                 "decline", "declining", "jumped", "jump", "climbed", "gained", "dropped", "slipped", "surged",
                 "soared", "plunged", "expanded", "contracted", "improved", "by")
_CHANGE_HEDGES = ("about", "approximately", "roughly", "nearly", "almost", "around", "over", "more than", "some",
                  "just", "only")
CHANGE_BEFORE_RE = EndCue(
    r"(?:\b(?:" + "|".join(_CHANGE_WORDS) + r")\s+"
    r"(?:(?:" + "|".join(h.replace(" ", r"\s+") for h in _CHANGE_HEDGES) + r")\s+)?)$",
    ends=_CHANGE_WORDS + ("than",) + _CHANGE_HEDGES,
)
# Words after a number that make it a change or a comparison: "38% year-over-year jump".
CHANGE_AFTER_RE = re.compile(
    r"\s*(?:year[\s-]+over[\s-]+year|YoY|Y/Y|yr/yr|sequential(?:ly)?|q/q|QoQ|quarter[\s-]+over[\s-]+quarter|"
    r"increase|decrease|growth|jump|rise|decline|drop|gain|improvement|higher|lower|more|less|"
    r"faster|slower|better|worse|above|below|"
    r"from\s+(?:a|the)\s+(?:year|"
    r"prior(?!\s+(?:forecast|projection|guidance|outlook|expectation|view|target|range)))|"
    r"over\s+the\s+(?:prior|previous|last)|annual(?:ized)?\s+growth|CAGR)",
    re.IGNORECASE,
)
# "fell to 20%", "rose to $16B": the level reached, a figure.
_LEVEL_WORDS = ("to", "at", "of", "was", "were", "is", "be", "reached", "hit", "totaled", "totalled")
LEVEL_BEFORE_RE = EndCue(rf"\b(?:{'|'.join(_LEVEL_WORDS)})\s*$", ends=_LEVEL_WORDS)

# A comparison with an earlier period: "from under $2B a year earlier", "vs. $20.9 billion a year ago".
COMPARE_BEFORE_RE = EndCue(
    r"\b(?:(?:up|down|rising|falling|increasing|decreasing)\s+from|from|compared\s+(?:with|to)|"
    r"versus|vs\.?|against|over)\s*$",
    ends=("from", "with", "to", "versus", "vs", "vs.", "against", "over"),
)
YEAR_AGO_RE = re.compile(
    r"[\s,]*(?:in\s+|for\s+|during\s+)?(?:(?:a|one)\s+year\s+(?:earlier|ago|before)|the\s+(?:same\s+)?(?:quarter|period)\s+"
    r"(?:(?:a|one)\s+year\s+(?:earlier|ago)|(?:of\s+)?last\s+(?:fiscal\s+)?year)|(?:the\s+)?(?:prior|previous|year[\s-]ago|year[\s-]earlier)"
    r"[\s-]+(?:year(?:'s|’s)?|fiscal\s+year)?\s*(?:quarter|period|year)?|last\s+year|a\s+year\s+prior)",
    re.IGNORECASE,
)
QUARTER_AGO_RE = re.compile(
    r"[\s,]*(?:in\s+|for\s+)?(?:(?:the\s+)?(?:prior|previous|last|preceding|sequential)\s+quarter|"
    r"(?:a|one)\s+quarter\s+(?:earlier|ago|before)|the\s+quarter\s+before)", re.IGNORECASE
)

# Things a number next to which is not a period figure: a trailing-twelve-month total.
TRAILING_RE = re.compile(
    r"\b(?:(?:last|past|trailing|prior)\s+(?:12|twelve)\s+months|TTM|LTM|trailing[\s-]twelve[\s-]month)\b",
    re.IGNORECASE,
)

# Relative claims and qualitative targets: "30–50% higher margins", "mid-single-digit".
RELATIVE_AFTER_RE = re.compile(
    r"\s*(?:higher|lower|more|less|better|worse|greater|above|below|faster|slower|premium|discount|"
    r"share\b|stake)",
    re.IGNORECASE,
)

# "80% of free cash flow", "40% of revenue": a share of something, not a margin.
PCT_OF_AFTER_RE = re.compile(r"\s*of\s+(?!(?:total\s+|ISG\s+|CSG\s+|ISG's\s+|CSG's\s+)?(?:net\s+)?revenues?\b)", re.IGNORECASE)

# Market sizes, prices, valuations: a number right before these is never a figure of ours.
NOT_FIGURE_AFTER_RE = re.compile(
    r"\s*(?:[\w/-]+\s+){0,3}?(?:market|TAM|opportunity|industry|per\s+share\s+(?:price|dividend)|"
    r"dividend|buyback|repurchase|valuation|market\s+cap|price\s+target|stock|shares\b|a\s+share\s+price)",
    re.IGNORECASE,
)
NOT_FIGURE_BEFORE_RE = EndCue(
    r"\b(?:price\s+target|target\s+price|(?<!per\s)shares?\s+(?:closed|rose|fell|traded|were|at)|"
    r"stock\s+(?:price|closed|"
    r"rose|fell|traded)|closed\s+at|trading\s+at|traded\s+at|trades\s+at|valued\s+at|valuation\s+of|"
    r"market\s+(?:cap|capitalization|value)\s+of|dividend\s+of|P/E\s+of|multiple\s+of|buyback\s+of|"
    r"repurchase\s+(?:program|authorization)\s+(?:of|by)|boosted\s+.{0,30}\s+by)\s*(?:about|roughly|nearly|~)?\s*$",
    ends=("target", "price", "closed", "rose", "fell", "traded", "were", "at", "of", "by", "about", "roughly",
          "nearly", "~"),
)
