"""Numbers in running text: amounts, percents, basis points, ranges and hedges.

`find_quantities(text)` returns every money/percent/basis-point quantity in the
text, in order, with ranges ("$101 billion to $105 billion", "$23.5–24.5 billion",
"between $26.5 billion and $27.5 billion") merged into one quantity and hedges
("about", "~", "more than", "$15 billion plus") recorded as `approx`.

A bare number ("29,776", "2024") is not a quantity here: in prose only a currency
sign, a scale word ("billion"), "dollars" or a percent sign makes a figure.
Tables, where "(in millions)" scales bare cells, are read by `tables.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.extract import vocab
from bot.extract.cues import EndCue, tail

# An amount starts at its currency ("$", "US$", "USD") or at its first digit, with no letter,
# digit, dot or comma right before it. The pattern opens with the character class of those
# first characters, so `re` skips in C to the next "$", "U" or digit; a lookbehind on that
# character then picks the form. (A leading lookbehind and an optional currency would make
# it try every position: four times slower.) `start` of a match is where the amount starts.
# The opening class names ASCII digits and lets any non-ASCII character through rather than
# say `\d`: `re` tests a Unicode category with a table lookup per character of the text,
# a range with two comparisons, and the skip is half the cost of the scan. It is a superset
# (a non-ASCII digit still opens a number), and the lookbehind of each form re-checks that
# first character, so what matches is unchanged.
_NUM_REST = r"\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?"  # a number after its first digit
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_QTY = re.compile(
    rf"""
    [$Uu0-9\x80-\U0010ffff](?:(?<=[A-Za-z]\$)|(?<![\w.,].))  # ("of$29.8 billion": a glued "$")
    (?:
        (?<=[Uu])(?i:S\s?\$|SD\s?)\s?(?P<usnum>{_NUM})   # US$ 5, USD 5
      | (?<=\$)\s?\(\s?(?P<pnum>{_NUM})\s?\)             # $(461): a negative amount
      | (?<=\$)\s?(?P<dnum>{_NUM})                       # $5, $ 5
      | (?<=\d)(?P<rest>{_NUM_REST})                       # 5
    )
    (?![\d,]*\.?\d)
    (?:(?=\s?[%pPbBtTmMkK])  # (each unit is tried only before a letter it can start with)
        \s?(?P<pct>%|(?i:percent\b|per\scent\b|pct\b))
      | \s?(?P<bps>(?i:basis[\s-]points?\b|bps\b|bp\b))
      | \s?(?P<scale>(?i:trillion|billion|million|thousand|bn|mn|mln|tn|[bmk]))(?![a-z])
    )?
    (?P<dollars>\s(?=[uUdD])(?i:(?:U\.S\.\s|US\s)?dollars\b))?
    (?P<mult>\s?[xX]\b)?
    """,
    re.VERBOSE,
)


_SCALES = {
    "trillion": 1e12, "tn": 1e12,
    "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6,
    "thousand": 1e3, "k": 1e3,
}

# Words that say a figure is not exact, right before the number ...
_HEDGE_BEFORE = vocab.HEDGE_BEFORE_RE
# ... or right after it ("$15 billion plus", "$15B+", "or so", "or more").
_HEDGE_AFTER = vocab.HEDGE_AFTER_RE

# A range joins two quantities of one kind: "to", a dash, or "and" after "between".
_RANGE_JOIN = re.compile(r"^\s*(?:to|through|[-–—]|and)\s*$", re.IGNORECASE)
# (Guidance words: "its earlier expectations of $101 billion and $105 billion".)
_BETWEEN = EndCue(
    r"\b(?:between|range\s+of|ranging\s+from|"
    r"(?:forecasts?|projections?|guidance|expectations?|outlook|targets?|view)\s+(?:of|for))\s*$",
)
# "from $2B to $16B", "up 5% to 18%": a change, not a range.
_CHANGE_BEFORE = re.compile(
    r"\b(?:from|up|down|rose|fell|grew|increased|decreased|declined|jumped|climbed|"
    r"gained|dropped|by)\s*$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Quantity:
    """One amount, percent or basis-point figure found in text.

    `kind` is "usd" (dollars), "pct" (percent points), "bps" (basis points) or
    "num" (a scaled number with no currency: "29.8 billion").
    `value` is in base units; `low`/`high` are set for a range. `start`/`end`
    cover the number itself (with its range and trailing hedge), not the
    hedge word before it; `hedge_start` is where a leading hedge begins.

    A value: never changed after it is made (`dataclasses.replace` makes a new one). Not
    frozen only because a frozen dataclass sets each field through `object.__setattr__`,
    which makes construction several times slower, and a text has hundreds of numbers.
    """

    kind: str
    value: float
    start: int
    end: int
    approx: bool = False
    low: float | None = None
    high: float | None = None
    scale: float = 1.0
    hedge_start: int | None = None
    # Where the figure's words begin: its leading hedge, or the number (a field, not a
    # property: it is read hundreds of times per text).
    first: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.first = self.hedge_start if self.hedge_start is not None else self.start


def _raw_or_bare(m: re.Match) -> Quantity | None:
    """The quantity a match states; a "bare" number (no unit) when it may open or close a range.

    A bare number may open a range whose second half carries the unit: "$23.5–24.5 billion"
    has "$" on the first, "billion" on the second; "17 to 18%" has "%" only on the second.
    (The groups are fetched in one call, by position: this runs for every number of a text.)
    """
    usnum, pnum, dnum, rest, pct, bps, scale, dollars, mult = m.groups()
    if mult:
        return None  # a multiple ("20.28x"), never one of our figures
    start = m.start()
    # The number without its currency; a number with none starts at the match.
    number = m.string[start : m.end(4)] if rest is not None else dnum or usnum or pnum
    if pct:
        kind = "pct"
    elif bps:
        kind = "bps"
    elif rest is None or dollars:
        kind = "usd"  # a currency before it, or "dollars" after it
    elif scale and len(scale) > 1:
        kind = "num"
    elif scale:
        # "5b" with no currency is not a figure, but it may end a range ("$165–169B"): a bare
        # number that carries its scale to the first half.
        value = float(round(float(number.replace(",", "")) * _SCALES[scale.lower()]))
        return Quantity("bare", value, start, m.end(), scale=_SCALES[scale.lower()])
    else:
        return Quantity("bare", float(number.replace(",", "")), start, m.end())
    value = float(number.replace(",", ""))
    factor = _SCALES[scale.lower()] if scale and kind in ("usd", "num") else 1.0
    if factor != 1.0:
        value = float(round(value * factor))  # 8.2 × 1e9 is 8199999999.999999
    else:
        value = round(value, 6)
    if pnum is not None:
        value = -value  # "$(461) million", "$(0.82)": an accountant's minus
    return Quantity(kind, value, start, m.end(), scale=factor)


# Amounts said in words, as call transcripts and spoken-style news give them: "over a half a
# billion dollars", "half a billion dollars", "a billion dollars", "two billion dollars".
_SPOKEN = re.compile(
    r"\b(?:(?:a|one)\s+)?half\s+(?:of\s+)?an?\s+(?P<hs>billion|million|trillion)(?:\s+dollars\b)?"
    r"|\b(?P<w>a|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?P<ws>billion|million|trillion)"
    r"\s+dollars\b",
    re.IGNORECASE,
)
_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10}


def _spoken(text: str, lo: int, hi: int) -> list[Quantity]:
    # A spoken amount holds "half a" or "illion dollars": most texts have neither (one C search).
    if text.find("half a", lo, hi) < 0 and text.find("illion dollars", lo, hi) < 0:
        return []
    out = []
    for m in _SPOKEN.finditer(text, lo, hi):
        if m["hs"]:
            scale = _SCALES[m["hs"].lower()]
            value = scale / 2
        else:
            scale = _SCALES[m["ws"].lower()]
            value = _WORDS[m["w"].lower()] * scale
        out.append(Quantity("usd", float(value), m.start(), m.end(), scale=scale))
    return out


def find_quantities(text: str, skip: list[tuple[int, int]] | None = None) -> list[Quantity]:
    """All quantities in `text` outside the sorted, disjoint `skip` spans; ranges merged, hedges marked."""
    raw = []
    for lo, hi in _gaps(len(text), skip or []):
        for m in _QTY.finditer(text, lo, hi):
            q = _raw_or_bare(m)
            if q is not None:
                raw.append(q)
        spoken = _spoken(text, lo, hi)
        if spoken:
            raw = sorted(raw + spoken, key=lambda q: q.start)
    out = []
    for q in _plus_minus(text, _merge_ranges(text, raw)):
        if q.kind != "bare":
            out.append(_hedged_and_signed(text, q))
    return out


_NEGATIVE = EndCue(r"(?:\b(?:negative|minus)\s+|(?:^|(?<=[\s(]))[-−])$")


def _hedged_and_signed(text: str, q: Quantity) -> Quantity:
    """q with the hedge around it and its sign ("about $5 billion", "-$0.5 billion").

    Both cues end at the number (unless a hedge comes first): one tail serves their word
    tests (see cues.py), and most numbers have neither.
    """
    before = text[max(0, q.start - 30) : q.start]
    end = tail(before)
    h = _HEDGE_BEFORE.regex.search(before) if _HEDGE_BEFORE.may_end(end) else None
    after = _HEDGE_AFTER.match(text, q.end, q.end + 10) if q.end < len(text) else None
    if h is not None or after is not None:
        q = replace(
            q,
            approx=True,
            hedge_start=(q.start - len(before) + h.start()) if h else None,
            end=after.end() if after else q.end,
        )
    if q.low is not None or (h is None and not _NEGATIVE.may_end(end)):
        return q
    # "negative $0.5 billion", "-$0.5 billion": a value below zero.
    if not _NEGATIVE.search(text, max(0, q.first - 10), q.first):
        return q
    return replace(q, value=-q.value)


# "$9.30, plus or minus $0.25", "$1.65, plus or minus 10 cents", "12% ± 1 point": a range.
_PLUS_MINUS = re.compile(
    r",?\s*(?:plus\s+or\s+minus|\+/-|±)\s*(?:(?P<usd>\$\s?\d+(?:\.\d+)?)(?:\s*(?P<scale>billion|million))?"
    r"|(?P<cents>\d+)\s*cents|(?P<pts>\d+(?:\.\d+)?)\s*(?:%|percent|percentage\s+points?|points?))",
    re.IGNORECASE,
)


def _plus_minus(text: str, qs: list[Quantity]) -> list[Quantity]:
    out: list[Quantity] = []
    skip_until = -1
    for q in qs:
        if q.start < skip_until:
            continue
        m = _PLUS_MINUS.match(text, q.end, q.end + 60) if q.low is None and q.kind in ("usd", "pct") else None
        d = _spread(m, q) if m else None
        if d is None:
            out.append(q)
            continue
        out.append(replace(q, low=round(q.value - d, 6), high=round(q.value + d, 6), end=m.end()))
        skip_until = m.end()
    return out


def _spread(m: re.Match, q: Quantity) -> float | None:
    if q.kind == "usd" and m["usd"]:
        d = float(m["usd"].lstrip("$ "))
        return d * (_SCALES[m["scale"].lower()] if m["scale"] else (1.0 if q.scale == 1.0 else q.scale))
    if q.kind == "usd" and m["cents"] and q.scale == 1.0:
        return int(m["cents"]) / 100
    if q.kind == "pct" and m["pts"]:
        return float(m["pts"])
    return None


def _gaps(n: int, skip: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, pos = [], 0
    for a, b in skip:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < n:
        out.append((pos, n))
    return out


def _merge_ranges(text: str, qs: list[Quantity]) -> list[Quantity]:
    out: list[Quantity] = []
    i = 0
    while i < len(qs):
        a = qs[i]
        b = qs[i + 1] if i + 1 < len(qs) else None
        r = _as_range(text, a, b) if b is not None else None
        if r is not None:
            out.append(r)
            i += 2
        else:
            out.append(a)
            i += 1
    return out


def _as_range(text: str, a: Quantity, b: Quantity) -> Quantity | None:
    if b.start - a.end > 12:
        return None  # (tested before slicing: two numbers of a text are mostly far apart)
    gap = text[a.end : b.start]
    if not _RANGE_JOIN.match(gap):
        return None
    before = text[max(0, a.start - 40) : a.start]
    if "and" in gap.lower() and not _BETWEEN.search(before):
        return None
    if _CHANGE_BEFORE.search(before):
        return None
    lo, hi = _unify(a, b)
    if lo.kind != hi.kind or lo.kind == "bare":
        return None
    if not (0 < lo.value < hi.value <= lo.value * 3):
        return None  # "2 to 3" is a range, "5 to 20,000" is two unrelated numbers
    mid = (lo.value + hi.value) / 2
    mid = float(round(mid)) if hi.scale >= 1e3 else round(mid, 6)
    return Quantity(hi.kind, mid, a.start, b.end, low=lo.value, high=hi.value,
                    scale=max(lo.scale, hi.scale))


def _unify(a: Quantity, b: Quantity) -> tuple[Quantity, Quantity]:
    """Give the first half of a range the unit and scale written on the second."""
    if a.kind == "bare" and b.kind != "bare":
        a = replace(a, kind=b.kind, value=_scaled(a.value, b.scale), scale=b.scale)
    elif a.kind == "usd" and a.scale == 1.0 and b.scale > 1.0 and b.kind in ("usd", "num"):
        a = replace(a, value=_scaled(a.value, b.scale), scale=b.scale)
        b = replace(b, kind="usd")
    elif a.kind == "usd" and b.kind == "num" and a.scale == b.scale:
        b = replace(b, kind="usd")  # "$10 billion to 11 billion"
    elif a.kind == "usd" and b.kind == "bare" and b.scale > 1.0 and a.scale == 1.0:
        a = replace(a, value=_scaled(a.value, b.scale), scale=b.scale)
        b = replace(b, kind="usd")
    elif a.kind == "usd" and b.kind == "bare" and b.scale == 1.0:
        b = replace(b, kind="usd")
    return a, b


def _scaled(v: float, scale: float) -> float:
    return float(round(v * scale)) if scale >= 1e3 else round(v * scale, 6)
