"""Find metric phrases by words, not by one big regex.

Python's `re` tries every alternative of an alternation at every position, so a
regex of fifty phrases costs about a microsecond per character. Here the text is
cut into words once (one cheap regex), and phrases are looked up in a word trie,
longest match first: a few dictionary lookups per word.

Phrase patterns are written as words, one slot per word: `a|b` for alternatives,
a trailing `?` for an optional slot, `_` to join words inside one alternative
("provided_by"), and `{ISG}`, `{CSG}`, `{AI}` for the shared groups below.
"""

from __future__ import annotations

import re
from itertools import compress, product

from bot.extract.vocab import Phrase

_GROUPS = {
    "{ISG}": "infrastructure_solutions_group_isg|infrastructure_solutions_group|isg|"
             "infrastructure_{UNIT}",
    "{CSG}": "client_solutions_group_csg|client_solutions_group|csg|"
             "pc_{UNIT}|personal_computer_{UNIT}|computer_{UNIT}|client_{UNIT}",
    "{SN}": "server_and_networking_{UNIT}|servers_and_networking_{UNIT}|server_and_network_{UNIT}|"
            "servers_and_network_{UNIT}",
}
# The plain words news use for a segment ("the infrastructure unit", "its PC business"), as
# vocab.SEGMENT_RE reads them.
_UNITS = ("side", "unit", "division", "business", "segment", "arm")
_AIM = "optimized|server|servers|infrastructure|factory"
_REV = "revenue|revenues"
_NONE = Phrase(None, None)

_SPECS: list[tuple[str, Phrase]] = [
    # Not metrics, though they contain a metric's words.
    (f"combined? isg|csg and isg|csg net? {_REV}", _NONE),
    (("recurring|deferred|commercial|commercial_client|consumer|service|services|product|products|"
      "subscription|software|pc|client|segment|reportable_segment|other|ai_pc|annual_recurring|non_ai|"
      "data_center|datacenter|cloud|networking|gaming|automotive|"
      f"traditional_server|core net? {_REV}"), _NONE),
    (f"{_REV} growth|run_rate|per_employee|mix|share", _NONE),
    ("remaining performance obligation|obligations", _NONE),
    ("rpo", _NONE),
    ("basic earnings_per_share|eps", _NONE),
    ("ai solutions|pipeline|opportunity|market|spending|capex", _NONE),
    # A customer's deal is not the company's figure: "a $5 billion AI server contract from xAI".
    (f"ai {_AIM}? {_AIM}? contract|contracts|deal|deals|agreement|agreements|order|purchase|"
     "commitment", _NONE),
    ("contract|contracts|deal|deals|agreement|agreements|opportunity|opportunities", _NONE),
    (f"{_REV} for|at|in|from the? {{ISG}} and {{CSG}}", _NONE),
    # Segments.
    ("{ISG} operating income? margin|margins", Phrase("isg_operating_margin", "%")),
    ("operating margin|margins for|at|in the? {ISG}", Phrase("isg_operating_margin", "%")),
    ("{CSG} operating income? margin|margins", Phrase("csg_operating_margin", "%")),
    ("operating margin|margins for|at|in the? {CSG}", Phrase("csg_operating_margin", "%")),
    ("{ISG} operating income", Phrase(None, "USD", margin_of="isg_operating_margin")),
    ("{CSG} operating income", Phrase(None, "USD", margin_of="csg_operating_margin")),
    (f"total? {{ISG}} segment? total? net? {_REV}", Phrase("isg_revenue", "USD")),
    (f"{_REV} for|at|in|from the? {{ISG}}", Phrase("isg_revenue", "USD")),
    (f"total? {{CSG}} segment? total? net? {_REV}", Phrase("csg_revenue", "USD")),
    (f"{_REV} for|at|in|from the? {{CSG}}", Phrase("csg_revenue", "USD")),
    (f"infrastructure solutions? total? net? {_REV}", Phrase("isg_revenue", "USD")),
    ("{ISG}", Phrase("isg_revenue", "USD", weak=True, pre_only=True)),
    ("{CSG}", Phrase("csg_revenue", "USD", weak=True, pre_only=True)),
    ("{SN}", Phrase("servers_networking_revenue", "USD", weak=True, pre_only=True)),
    (f"server|servers and networking net? {_REV}?", Phrase("servers_networking_revenue", "USD")),
    (f"storage net? {_REV}", Phrase("storage_revenue", "USD")),
    # AI.
    (f"ai {_AIM}? {_AIM}? backlog", Phrase("ai_backlog", "USD")),
    ("backlog of|for ai optimized? server|servers", Phrase("ai_backlog", "USD")),
    (f"ai {_AIM}? {_AIM}? orders|bookings", Phrase("ai_orders", "USD")),
    ("orders for ai optimized? server|servers", Phrase("ai_orders", "USD")),
    (f"ai {_AIM}? {_AIM}? server? revenue|revenues|shipment|shipments|sales", Phrase("ai_revenue", "USD")),
    (f"{_REV}|sales from|of|in ai {_AIM}? {_AIM}? shipment|shipments?",
     Phrase("ai_revenue", "USD")),
    ("ai optimized? server|servers", Phrase("ai_revenue", "USD", weak=True)),
    ("backlog", Phrase("ai_backlog", "USD", weak=True)),
    ("orders|bookings", Phrase("ai_orders", "USD", weak=True, needs_ai=True)),
    ("shipment|shipments", Phrase("ai_revenue", "USD", weak=True, needs_ai=True)),
    # Company.
    ("non_gaap|adjusted diluted? earnings|eps per diluted? share eps?", Phrase("eps", "USD/share", accounting="non_gaap")),
    ("non_gaap|adjusted diluted? eps", Phrase("eps", "USD/share", accounting="non_gaap")),
    ("diluted? earnings|eps per diluted? share eps?", Phrase("eps", "USD/share")),
    ("diluted? eps", Phrase("eps", "USD/share")),
    ("a|per diluted? share", Phrase("eps", "USD/share", weak=True, post_only=True)),
    ("gross profit? margin|margins rate|percentage?", Phrase("gross_margin", "%", margin_of="gross_margin")),
    ("gross profit", Phrase(None, "USD", margin_of="gross_margin")),
    ("gross margin dollars", _NONE),
    ("operating income|profit? margin|margins|rate", Phrase("operating_margin", "%", generic=True)),
    ("ebitda|net margin|margins", _NONE),
    ("net profit margin|margins", _NONE),
    # "In its PC unit, the margin was 4.7%": a segment's margin is its operating margin; with
    # no segment named, a bare "margin" says nothing.
    ("profit? margin|margins", Phrase("operating_margin", "%", generic=True, segment_only=True)),
    ("ebit margin|margins", Phrase("operating_margin", "%", generic=True)),
    ("adjusted free cash flow|flows", Phrase("free_cash_flow", "USD", accounting="non_gaap")),
    ("adjusted fcf", Phrase("free_cash_flow", "USD", accounting="non_gaap")),
    ("free cash flow|flows", Phrase("free_cash_flow", "USD")),
    ("fcf", Phrase("free_cash_flow", "USD")),
    ("net? cash flow|flows? from|provided_by|generated_by|generated_from operations|operating_activities",
     Phrase("operating_cash_flow", "USD")),
    ("operating cash flow|flows", Phrase("operating_cash_flow", "USD")),
    ("change in cash from operating activities", Phrase("operating_cash_flow", "USD")),
    ("pc|consumer|commercial|client|hardware|software|service|services sales", _NONE),
    (_REV, Phrase("revenue", "USD", generic=True)),
    ("top line", Phrase("revenue", "USD", generic=True)),
    ("topline", Phrase("revenue", "USD", generic=True)),
    ("net? sales", Phrase("revenue", "USD", generic=True)),
    # Amounts that are not metrics: they consume the number next to them.
    ("non_gaap|adjusted? operating income|profit", Phrase(None, None, margin_of="operating_margin")),
    ("non_gaap|adjusted? operating|net income|profit|loss|expense|expenses|earnings", _NONE),
    ("opex", _NONE),
    ("operating cost|costs", _NONE),
    ("cash", _NONE),
    ("cash and cash_equivalents|investments", _NONE),
    ("liquidity|debt|capex|valuation|stock|shares|deferred|inventory|tam|pipeline", _NONE),
    ("capital expenditure|expenditures", _NONE),
    ("dividend|dividends|buyback|buybacks|shareholder|shareholders", _NONE),
    ("share? repurchase|repurchases", _NONE),
    ("capital|shareholder return|returns", _NONE),
    ("market cap|capitalization?", _NONE),
    ("price target", _NONE),
    ("p e", _NONE),
]

_END = ""  # trie key of a phrase's end


def _units(alternative: str) -> str:
    """"pc_{UNIT}" → "pc_side|pc_unit|…": one alternative per word of `_UNITS`."""
    if "{UNIT}" not in alternative:
        return alternative
    return "|".join(alternative.replace("{UNIT}", u) for u in _UNITS)


def _unit_slot(slot: str) -> str:
    optional = "?" if slot.endswith("?") else ""
    return "|".join(_units(a) for a in slot.rstrip("?").split("|")) + optional


def _slots(spec: str) -> list[list[tuple[str, ...]]]:
    for k, v in _GROUPS.items():
        spec = spec.replace(k, v)
    if "{UNIT}" in spec:
        spec = " ".join(_unit_slot(slot) for slot in spec.split(" "))
    slots = []
    for slot in spec.split():
        optional = slot.endswith("?")
        alts = [tuple(a.split("_")) for a in slot.rstrip("?").split("|")]
        slots.append(alts + [()] if optional else alts)
    return slots


def _build() -> dict:
    trie: dict = {}
    for spec, phrase in _SPECS:
        for combo in product(*_slots(spec)):
            words = [w for part in combo for w in part]
            node = trie
            for w in words:
                node = node.setdefault(w, {})
            node.setdefault(_END, phrase)  # the first spec that spells a sequence wins
    return trie


TRIE = _build()

# Words, with camel-case glue split ("billionDiluted" → "billion", "Diluted") and "&" as "and".
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|&")
# The same words, written to open with one character class so that `re` skips in C to the
# next letter (a leading optional makes it try every position: three times slower); a
# lookbehind on that letter picks the form. tests/test_extract_cues.py checks both agree.
_WORD_SPLIT = re.compile(r"([A-Za-z&](?:(?<=[a-z])[a-z]*|(?<=[A-Z])(?:[a-z]+|[A-Z]*(?![a-z]))|(?<=&)))")
# What may sit between two words of one phrase ("non-GAAP", "cash flow (from) operations").
_JOINERS = " \t\n-/()'’\u00a0"


def _vocabulary(node: dict, out: set[str]) -> set[str]:
    for key, child in node.items():
        if key != _END:
            out.add(key)
            _vocabulary(child, out)
    return out


# Every word of every phrase: any other word ends a phrase.
VOCABULARY = frozenset(_vocabulary(TRIE, set()))
assert "and" in VOCABULARY  # "&" is read as "and"
# The words a phrase can open (the trie's first level), as the split can write them: a word
# is lowercase, capitalized or all capitals ("revenue", "Revenue", "REVENUE"). Most words
# of a window open no phrase.
_OPENS = frozenset(f(k) for k in TRIE if k != _END for f in (str.lower, str.capitalize, str.upper)).__contains__
assert "and" not in TRIE  # so "&" (read as "and") opens no phrase


def _lower(word: str) -> str:
    return "and" if word == "&" else word.lower()


def find_phrases(text: str, start: int, end: int) -> list[tuple[int, int, Phrase]]:
    """(start, end, Phrase) for every phrase in text[start:end], longest match first.

    Two words are read as one phrase's when at most three joiner characters separate them
    (`_JOINERS`): any other word, or an "'s", between them ends the phrase.
    """
    # This runs for every word near a number, and most words start no phrase: the window
    # is cut into words and gaps by one re.split, the words a phrase can open are found in
    # bulk, as they are written (C loops, no Python step per word), and the trie is walked
    # from those only, lowercasing the words it reads. A phrase goes on with the next word
    # of the split when the gap between them (already a part of it) is short and all
    # joiners and the trie holds that word there (a word of no phrase is in no trie node);
    # offsets are summed only for the phrases found.
    parts = _WORD_SPLIT.split(text[start:end])
    words = parts[1::2]
    n = len(words)
    out: list[tuple[int, int, Phrase]] = []
    pos, at = start, 0  # pos: offset in text of parts[at]
    after = 0  # index of the first word not in a phrase found
    for i in compress(range(n), map(_OPENS, words)):
        if i < after:
            continue
        node = TRIE[words[i].lower()]
        best = None
        j = i
        while True:
            if _END in node:
                best = (j, node[_END])
            j += 1
            if j >= n or not _joins(parts[2 * j]):
                break
            node = node.get(_lower(words[j]))
            if node is None:
                break
        if best is None:
            continue
        k, phrase = best
        first, last = 2 * i + 1, 2 * k + 1  # indices in parts of the phrase's words
        # (The length of a join: one C pass, three times faster than summing the lengths.)
        pos += len("".join(parts[at:first]))
        ps = pos
        pe = ps + len("".join(parts[first : last + 1]))
        pos, at = ps, first
        if pe < len(text) and text[pe] == ")" and "(" in text[ps:pe]:
            pe += 1  # "earnings per share (EPS)" ends after its bracket
        out.append((ps, pe, phrase))
        after = k + 1
    return out


def _joins(gap: str) -> bool:
    """Whether two words separated by `gap` read as one phrase's (at most three joiners)."""
    return len(gap) <= 3 and not gap.strip(_JOINERS)
