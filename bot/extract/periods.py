"""Period phrases and what they mean on a fiscal calendar.

`find_periods(text)` finds the phrases that name a period ("Q2 FY26", "first
quarter fiscal 2026", "full-year", "this quarter", "Three Months Ended August 1,
2025") and those that make a number something other than a quarter or year
figure ("first half", "year to date", "last 12 months", "in 2024").

`resolve()` turns a phrase into a `Period` with the rules of the corpus README:
a bare "Q1" is the latest first quarter that ended before publication (for a
result) or the next one to end (for guidance); without a publication date and an
explicit year the period is unknown. A calendar year is not a fiscal year.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from bot.fiscal import FiscalCalendar, Period

_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"]
    )
}
# Written in lowercase: PERIOD_RE reads them case-insensitively, LOWER_PERIOD_RE reads a
# lowercased copy of the text with them as they are (see `find_periods`).
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
def _date_re(k: str) -> str:
    return rf"(?P<mon{k}>{_MONTH})\s+(?P<day{k}>\d{{1,2}}),?\s*(?P<dyear{k}>(?:19|20)\d{{2}})?"

_YR = r"'?(?P<{}>(?:19|20)\d{{2}}|\d{{2}})(?![\d%])"
_ORDW = r"(?:first|second|third|fourth|1st|2nd|3rd|4th)"
_FISCAL = r"(?:fiscal(?:[\s-]+year)?[\s-]*|fy[\s-]?)"
_MONTH_YEAR = rf"(?P<mon_{{0}}>{_MONTH}),?\s+(?P<{{0}}>(?:19|20)\d{{{{2}}}})"
# A full year named by its end, or its quarter word followed by a year: not fullyear/quarter + calendar.
_NO_YEAR_AFTER = r"(?![\s-]*'?(?:(?:19|20)\d{2}|\d{2})(?![\w%])|,?\s+(?:which\s+)?end(?:s|ed|ing)\s+(?:in\s+)?" + _MONTH + ")"

# (kind, the characters a phrase of that kind can start with, pattern)
_PATTERNS = [
    # "fiscal year ending in February 2025", "the current fiscal year, which ends in January 2027"
    ("fyend", "tcfy", (r"(?:(?:the|this)\s+)?(?:(?:current|full)\s+)?(?:fiscal\s+)?year,?\s+(?:which\s+)?"
                       r"end(?:s|ed|ing)\s+(?:in\s+)?" + _MONTH_YEAR.format("fey"))),
    # "fiscal 2025/26" (Lenovo), "its 2023/2024 fiscal year": the year that ends in the second
    ("fyslash", "f12", (r"fiscal\s+(?:year\s+)?(?:19|20)\d{2}\s*/\s*(?P<ys1>(?:19|20)?\d{2})(?![\d%])|"
                        r"(?:19|20)\d{2}\s*/\s*(?P<ys2>(?:19|20)?\d{2})[\s-]+fiscal(?:[\s-]+year)?")),
    # "Q3'24", "Q2 '25": a fiscal quarter with its year's last two digits
    ("qapos", "q", r"q(?P<q7>[1-4])\s?['’](?P<y7>\d{2})(?![\d%])"),
    # "Q2 FY2026", "1QFY26", "Q3 of fiscal 2026"
    ("qfy", "q1-4", rf"(?:q(?P<q1>[1-4])|(?P<q2>[1-4])q)\s*(?:of\s+)?{_FISCAL}" + _YR.format("y1")),
    # "fiscal Q1 2026", "fiscal first quarter of 2026": the year of a fiscal quarter
    ("fqy", "f", rf"fiscal\s+(?:q(?P<q6>[1-4])|(?P<o4>{_ORDW})[\s-]+quarter)(?:\s+of)?,?\s+" + _YR.format("y5")),
    # "FY26 Q3", "fiscal 2026 second quarter", "fiscal-2026 first-quarter"
    ("fyq", "f", rf"{_FISCAL}" + _YR.format("y2") + rf"\s*(?:q(?P<q3>[1-4])|(?P<o1>{_ORDW})[\s-]+quarter)"),
    # "first quarter fiscal 2026", "Third-quarter FY26", "second quarter of fiscal year 2026"
    ("oqfy", "fst1-4", (rf"(?:fiscal\s+)?(?P<o2>{_ORDW})[\s-]+(?:fiscal[\s-]+)?quarter(?:\s+(?:of|for))?(?:\s+the)?,?\s+"
                         rf"{_FISCAL}" + _YR.format("y3"))),
    # "the second quarter of its 2026 fiscal year"
    ("oqyf", "fst1-4", (rf"(?P<o7>{_ORDW})[\s-]+quarter\s+of\s+(?:its|the|our|their)\s+(?P<y10>(?:19|20)\d{{2}})"
                         r"[\s-]+fiscal(?:[\s-]+year)?")),
    # "first quarter 2024", "Q1 2024": a fiscal quarter or a calendar one, as the text's context says
    ("qyear", "q1-4fst", (rf"(?:q(?P<q8>[1-4])|(?:fiscal\s+)?(?P<o6>{_ORDW})[\s-]+(?:fiscal[\s-]+)?quarter)"
                          r"(?:\s+of)?\s+(?P<y8>(?:19|20)\d{2})(?![\w%]|[.,]\d)")),
    # "quarter ended August 1, 2025", "Three Months Ended August 1, 2025", "fiscal year ended January 31, 2025"
    ("ended", "qtfysn", (rf"(?P<span>quarter|three[\s-]+months|(?:fiscal\s+)?year|twelve[\s-]+months|six[\s-]+months|"
                         rf"nine[\s-]+months)\s+(?:ended|ending)\s+(?:on\s+)?{_date_re('e')}")),
    # "full-year FY26", "FY2026", "fiscal 2027", "fiscal year 2027"
    ("fy", "f", rf"(?:full[\s-]+(?:fiscal[\s-]+)?year[\s-]+(?:{_FISCAL})?|{_FISCAL})" + _YR.format("y4")),
    # Six-month, nine-month, year-to-date and trailing totals: not one quarter or year.
    ("partial", "fs12hqnyltp", (r"(?:first|second|1st|2nd)[\s-]+half|(?<![\w-])[hq]?[12]h(?![\w])|(?<![\w-])h[12](?![\w-])|"
                                r"half[\s-]+year|six[\s-]+months?|nine[\s-]+months?|year[\s-]+to[\s-]+date|ytd|"
                                r"first\s+(?:two|three|six|nine)\s+(?:quarters|months)|"
                                r"(?:last|past|trailing|prior|previous)\s+(?:12|twelve|four)\s+(?:months|quarters)|ttm|ltm|"
                                r"trailing[\s-]+twelve[\s-]+months?")),
    # "Q1", "the first quarter", "fiscal second quarter"
    ("q", "q1-4fst", rf"q(?P<q4>[1-4])(?![\w])|(?P<q5>[1-4])q(?![\w])|(?:fiscal\s+)?(?P<o3>{_ORDW})[\s-]+(?:fiscal[\s-]+)?quarter"),
    # "full year", "our fiscal year", "this year", "during the year", "annual": a whole fiscal year
    ("fullyear", "ftcoida", (r"(?:full[\s-]+(?:fiscal[\s-]+)?year|(?:the|this|current|our|its)\s+fiscal\s+year|"
                             r"(?:this|the\s+current)\s+fiscal|this\s+year|"
                             r"(?:during|throughout|over|for)\s+the\s+(?:full\s+)?(?:fiscal\s+)?year"
                             r"(?![\s-]*(?:ago|earlier|before|prior|end|ended|ending|over|on|to)\b)|"
                             r"annual(?:ly)?(?![\w-]))" + _NO_YEAR_AFTER)),
    ("nextyear", "n", r"next\s+fiscal\s+year"),
    ("thisq", "tcliq", (r"(?:(?:this|the\s+current|current|the|last|the\s+(?:latest|most\s+recent|just[\s-]ended))"
                        r"\s+quarter|in[\s-]quarter|quarterly)(?!\s+end(?:ed|ing)\b)")),
    ("nextq", "nt", r"(?:next|the\s+(?:coming|upcoming|following))\s+quarter"),
    # A date: a quarter if it is a fiscal quarter end ("as of August 1, 2025", "As of January 31").
    ("date", "jfmasond", _date_re("d")),
    # A calendar year: "in 2024", "2026 EPS", "calendar 2025", "CY25".
    ("calendar", "c12", r"(?:calendar(?:\s+year)?\s+|cy\s?'?)(?:(?:19|20)\d{2}|\d{2})|(?<![\w$.,])(?:19|20)\d{2}(?![\w%]|,\d|\.\d)"),
]

# One word-start check for all alternatives: most positions fail it at once, which keeps
# the scan cheap (Python's re tries every alternative at every position that passes).
PERIOD_RE = re.compile(
    r"(?<![\w-])(?=[QqFfTtSsNnHhYyLlPpCcIiJjMmAaOoDd1-4'])(?:" + "|".join(rf"(?P<{name}>{pat})" for name, _, pat in _PATTERNS) + ")", re.IGNORECASE
)
# The same phrases for a lowercased text, case-sensitive: 2.4 times faster. Case folding costs
# `re` a call per character compared, and each alternative is entered only at a character it
# can start with (a lookahead is much cheaper than failing inside the alternative).
LOWER_PERIOD_RE = re.compile(
    r"(?=[qftsnhylpcijmaod1-4'])(?<![\w-])(?:"
    + "|".join(rf"(?=[{first}])(?P<{name}>{pat})" for name, first, pat in _PATTERNS)
    + ")"
)


# Finding period phrases in a lowercased text, fast. LOWER_PERIOD_RE opens with a lookahead,
# so `re` enters it at every position, and at each of the ~600 word starts of a 5 KB text
# that begin with one of its letters it tries up to fourteen alternatives: about 1 ms. Yet
# only a few dozen word starts open a phrase, and their first two characters tell which:
# "q1", "fis", "the quarter", "20"… So `find_periods` finds those word starts first, with one scan of
# a copy of the text whose non-word characters are all blanks (a literal blank opens the
# pattern, which `re` skips to in C), then tries at each only the alternatives that can
# start with its first character, in their order (`_BY_FIRST`). Same matches as
# LOWER_PERIOD_RE.finditer: every match starts at such a word start, and is tried there with
# every alternative that could match.
# (Alternatives grouped by first letter: `re` tries each alternative of a group in turn.)
# A word that opens a phrase only with the words after it looks ahead for them, in the
# blanked copy ("quarter" only in "quarter ended", "year" only in "year ended" or "year to
# date", "the" only before "quarter", "current", "fiscal"…): "year over year", "the company"
# and "margin" are the most frequent word starts, and each try costs as much as a match.
# The lookaheads never consume, so no word start is hidden from the scan. The first lookahead
# holds the letters the alternatives open with: most word starts fail that one test instead of
# being tried against each alternative in turn.
_STARTS = re.compile(
    rb" (?=[qftsnhylpcijmaod1-4])(?:q(?:[1-4]|u(?=arter(?: +end|ly)))|1[qsh9]|2[qnh0]|3[qr]|4[qt]|"
    rb"f(?:i[sr]|y|ou|ul|eb|or(?= +the +))|s(?:ec|ix|ep)|"
    rb"t(?:hi[rs]|hr(?=ee|oughout)|he(?= +(?:qu|cur|comi|lat|mos|jus|upc|fol|fis|ful))|we|ra|tm)|"
    rb"y(?:e(?=ar(?: +(?:which +)?end|[ -]+to[ -]))|td)|h(?:al(?=f[ -]+year)|[12])|n(?:in|ex|ov)|l(?:as|tm)|"
    rb"p(?:as|rio|rev)|c(?:ur|al|y)|i(?:n(?=[ -]qu)|ts(?= +fiscal))|ou(?=r +fiscal)|ov(?=er +the +)|"
    rb"j(?:an|u[nl])|ma(?=rch|y)|a(?:pr|ug|nnual)|oct|d(?:ec(?=ember)|ur(?=ing +the)))"
)
# Word characters and "-" stay (the phrase's own letters, and what its start must not follow);
# every other byte becomes a blank. (Non-ASCII characters arrive as "?": a blank, so a letter
# outside ASCII before a word makes a needless try, never a missed one.)
_WORD_BYTES = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
_BLANKS = bytes(c if c in _WORD_BYTES else 32 for c in range(256))
_BY_FIRST = {
    c: re.compile(
        r"(?<![\w-])(?:"
        + "|".join(rf"(?=[{first}])(?P<{name}>{pat})" for name, first, pat in _PATTERNS if re.match(f"[{first}]", c))
        + ")"
    )
    for c in "qftsnhylpcijmaod1234"
}


def _lower_matches(low: str, blanks: bytes, lo: int, hi: int):
    """LOWER_PERIOD_RE.finditer(low, lo, hi), as matches (see _STARTS)."""
    last = lo
    for s in _STARTS.finditer(blanks, lo, hi + 1):
        at = s.start()  # blanks[at] is the character before low[at]
        if at < last:
            continue
        m = _BY_FIRST[low[at]].match(low, at, hi)
        if m is not None:
            yield m
            last = m.end()


_DASHES_SPACES = re.compile(r"[\s-]+")


@dataclass(slots=True)
class PeriodMention:
    """A period phrase at [start, end).

    `kind`: "explicit" (a Period is named), "quarter" (bare quarter number),
    "fullyear", "nextyear", "thisq", "nextq", "partial" (not a quarter or year:
    a figure bound to it is dropped), "calendar" (a calendar year: the period
    is unknown), "date" (a day: a quarter when it is a quarter end), "duration"
    ("six months ended ..."), handled like "partial".
    """

    kind: str
    start: int
    end: int
    period: Period | None = None
    quarter: int | None = None
    day: date | None = None
    # A day named without its year ("quarter ended May 3"): (month, day); the text's own
    # year, or its publication date, decides which quarter ends then.
    md: tuple[int, int] | None = None
    year: int | None = None  # the year of a "qyear" ("first quarter 2024"): fiscal or calendar


def _year(s: str) -> int:
    y = int(s)
    return y + 2000 if y < 100 else y


def _quarter(m: re.Match, *groups: str) -> int | None:
    for g in groups:
        v = m[g]
        if v:
            return int(v) if v.isdigit() else _ORD[v.lower()]  # "2", or "second", "2nd"
    return None


def _date(m: re.Match, k: str) -> date | None:
    year = m["dyear" + k]
    if not year:
        return None
    try:
        return date(int(year), _MONTHS[m["mon" + k].lower()], int(m["day" + k]))
    except ValueError:
        return None


def find_periods(
    text: str, calendar: FiscalCalendar, windows: list[tuple[int, int]] | None = None
) -> list[PeriodMention]:
    """Period phrases in `text`, or only in the given sorted, disjoint (start, end) windows."""
    return list(iter_periods(text, calendar, windows))


def iter_periods(
    text: str, calendar: FiscalCalendar, windows: list[tuple[int, int]] | None = None
) -> Iterator[PeriodMention]:
    """`find_periods`, one phrase at a time: a reader that stops at the first it wants
    (the reporting period in a text's head) does not pay for the windows after it."""
    for lo, hi in windows if windows is not None else [(0, len(text))]:
        # Each window is lowercased on its own, with the one character before it that the
        # patterns look behind at (a whole long text lowercased would cost a 12-byte-per-
        # character buffer). Offsets agree when every character lowercased to one. A window
        # may run past the end of the text (a number's window near it): cut it there, or
        # its lowercased copy is shorter than the window and takes the slow path below.
        # (Conditionals, not min/max: the builtins' calls cost ten times as much, per window.)
        if hi > len(text):
            hi = len(text)
        at = lo - 1 if lo > 1 else 0
        low = text[at:hi].lower()
        if len(low) == hi - at:
            blanks = b" " + low.encode("ascii", "replace").translate(_BLANKS)
            found = _lower_matches(low, blanks, lo - at, hi - at)
        else:
            at, found = 0, PERIOD_RE.finditer(text, lo, hi)
        for m in found:
            pm = _mention(m, calendar, at)
            if pm is not None:
                yield pm


def _mention(m: re.Match, cal: FiscalCalendar, offset: int = 0) -> PeriodMention | None:
    kind, s, e = m.lastgroup, m.start() + offset, m.end() + offset
    if kind == "fyend":
        return PeriodMention("explicit", s, e, Period(_year_ending_in(cal, _MONTHS[m["mon_fey"].lower()], int(m["fey"]))))
    if kind == "fyslash":
        y = m["ys1"] or m["ys2"]
        return PeriodMention("explicit", s, e, Period(_year(y) if len(y) == 4 else 2000 + int(y)))
    if kind == "qapos":
        return PeriodMention("explicit", s, e, Period(_year(m["y7"]), int(m["q7"])))
    if kind == "oqyf":
        return PeriodMention("explicit", s, e, Period(int(m["y10"]), _quarter(m, "o7")))
    if kind == "qyear":
        return PeriodMention("qyear", s, e, quarter=_quarter(m, "q8", "o6"), year=int(m["y8"]))
    if kind == "qfy":
        return PeriodMention("explicit", s, e, Period(_year(m["y1"]), _quarter(m, "q1", "q2")))
    if kind == "fyq":
        return PeriodMention("explicit", s, e, Period(_year(m["y2"]), _quarter(m, "q3", "o1")))
    if kind == "fqy":
        return PeriodMention("explicit", s, e, Period(_year(m["y5"]), _quarter(m, "q6", "o4")))
    if kind == "oqfy":
        return PeriodMention("explicit", s, e, Period(_year(m["y3"]), _quarter(m, "o2")))
    if kind == "fy":
        return PeriodMention("explicit", s, e, Period(_year(m["y4"])))
    if kind == "ended":
        return _ended(m, cal, s, e, offset)
    if kind == "q":
        return PeriodMention("quarter", s, e, quarter=_quarter(m, "q4", "q5", "o3"))
    if kind == "date":
        d = _date(m, "d")
        if d is None:
            return _month_day(m, "d", s, "mday", offset)
        p = quarter_ending(cal, d)
        return PeriodMention("explicit" if p else "calendar", s, e, period=p, day=d)
    return PeriodMention(kind, s, e)


def _month_day(m: re.Match, k: str, s: int, kind: str, offset: int) -> PeriodMention | None:
    """A day without its year: "qday" after "quarter ended", else "mday"."""
    month, day = _MONTHS[m["mon" + k].lower()], int(m["day" + k])
    if not 1 <= day <= 31:
        return None
    return PeriodMention(kind, s, m.end("day" + k) + offset, md=(month, day))


def _year_ending_in(cal: FiscalCalendar, month: int, year: int) -> int:
    """The fiscal year whose last day is nearest the middle of that month ("the fiscal year
    ending in February 2025" is Dell's fiscal 2025, which ended on 31 January 2025)."""
    mid = date(year, month, 15)
    return min((year - 1, year, year + 1), key=lambda y: abs((cal.year_end(y) - mid).days))


def _ended(m: re.Match, cal: FiscalCalendar, s: int, e: int, offset: int) -> PeriodMention | None:
    d = _date(m, "e")
    span = _DASHES_SPACES.sub(" ", m["span"].lower())
    if span in ("six months", "nine months"):
        return PeriodMention("partial", s, e)
    if d is None:
        return None if span in ("year", "fiscal year", "twelve months") else _month_day(m, "e", s, "qday", offset)
    if span in ("year", "fiscal year", "twelve months"):
        fy = cal.fiscal_year_of(d - timedelta(days=7))
        return PeriodMention("explicit", s, e, Period(fy), day=d)
    p = quarter_ending(cal, d) or cal.quarter_of(d)
    return PeriodMention("explicit", s, e, p, day=d)


@lru_cache(maxsize=4096)
def quarter_ending(cal: FiscalCalendar, d: date, slack: int = 6) -> Period | None:
    """The fiscal quarter that ends on `d` (or within `slack` days of it), if any.

    The slack covers texts that round a 52/53-week quarter end to a month end. The fiscal
    year ends it needs are cached in `bot.fiscal` (headers name the same few dates).
    """
    for probe in (d, d - timedelta(days=slack), d + timedelta(days=slack)):
        q = cal.quarter_of(probe)
        end = cal.quarter_end(q.year, q.quarter)
        if abs((end - d).days) <= slack:
            return q
    return None


@dataclass(slots=True)
class Resolved:
    # PeriodMention and Resolved are values, never changed once made; not frozen only
    # because frozen construction is several times slower (see numbers.Quantity).
    period: Period | None
    explicit: bool  # named with its year, not inferred from the publication date
    blocked: bool = False  # a half-year, year-to-date or trailing figure: not ours
    # Unknown, but the document's main period may fill it: nothing named it (quarter None),
    # or only a bare quarter number that could not be placed (that number).
    open: bool = False
    open_quarter: int | None = None
    # How to place it: "year_ago"/"previous" of the text's period (a comparison), "guidance"
    # (an expectation: the fiscal year under way, or the next quarter with that number).
    shift: str | None = None
    inferred: bool = False  # the text's own period, given to a figure that names none


def resolve(
    pm: PeriodMention,
    *,
    guidance: bool,
    published: date | None,
    default: Period | None,
    calendar: FiscalCalendar,
) -> Resolved:
    """The fiscal period a phrase names for a figure of the given basis."""
    if pm.kind == "explicit":
        return Resolved(pm.period, True)
    if pm.kind == "partial":
        return Resolved(None, True, blocked=True)
    if pm.kind == "calendar":
        return Resolved(None, True)
    if pm.kind == "quarter":
        return Resolved(_bare_quarter(pm.quarter, guidance, published, default, calendar), False)
    if pm.kind == "fullyear":
        return Resolved(_full_year(guidance, published, default, calendar), False)
    if pm.kind == "nextyear":
        fy = _full_year(True, published, default, calendar)
        return Resolved(Period(fy.year + 1) if fy else None, False)
    if pm.kind in ("thisq", "nextq"):
        return Resolved(_this_quarter(pm.kind == "nextq" or guidance, published, default, calendar), False)
    if pm.kind == "qyear":
        p = _quarter_of_year(pm.quarter, pm.year, guidance, published, default, calendar)
        return Resolved(p, True)  # unknown: a calendar quarter, like a calendar year
    if pm.kind in ("qday", "mday"):
        return Resolved(day_quarter(pm.md, guidance, published, default, calendar), False)
    return Resolved(None, False)


@lru_cache(maxsize=1024)
def _quarter_of_year(
    q: int, year: int, guidance: bool, published: date | None, default: Period | None, cal: FiscalCalendar
) -> Period | None:
    """"first quarter 2024": Q1 of fiscal 2024 when the text is about fiscal 2024, or when that is
    the latest first quarter to have ended by publication (the next to end, for guidance);
    otherwise a calendar quarter, which is no fiscal period."""
    p = Period(year, q)
    if default is not None and default.year == year:
        return p
    if published is None:
        return None
    if guidance:
        return p if p == _bare_quarter(q, True, published, None, cal) else None
    return p if p == cal.latest_ended_quarter(published, q) else None


@lru_cache(maxsize=1024)
def day_quarter(
    md: tuple[int, int], guidance: bool, published: date | None, default: Period | None, cal: FiscalCalendar
) -> Period | None:
    """The fiscal quarter that ends on a day named without its year ("quarter ended May 3"): one of
    the text's fiscal year, or else the latest to end by publication (the next, for guidance)."""
    month, day = md
    if default is not None:
        for y in (default.year - 1, default.year):
            d = _day(y, month, day)
            p = quarter_ending(cal, d) if d else None
            if p is not None and p.year == default.year:
                return p
        return None
    if published is None:
        return None
    years = range(published.year, published.year + 2) if guidance else range(published.year, published.year - 2, -1)
    for y in years:
        d = _day(y, month, day)
        if d is None or (d < published if guidance else d >= published):
            continue
        p = quarter_ending(cal, d)
        if p is not None:
            return p
    return None


def _day(y: int, month: int, day: int) -> date | None:
    try:
        return date(y, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=1024)  # pure calendar arithmetic on hashable values, asked per figure
def _bare_quarter(
    q: int, guidance: bool, published: date | None, default: Period | None, cal: FiscalCalendar
) -> Period | None:
    if default is not None and default.quarter == q and not guidance:
        return default
    if published is None:
        if default is not None and default.quarter is not None and guidance:
            return _next_numbered(default, q)
        return None
    if guidance:
        # The next quarter with that number still to end: guidance is about the future.
        p = cal.quarter_of(published)
        while p.quarter != q:
            p = _next(p)
        return p
    return cal.latest_ended_quarter(published, q)


def _next(p: Period) -> Period:
    return Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, p.quarter + 1)


def _next_numbered(after: Period, q: int) -> Period:
    p = _next(after)
    while p.quarter != q:
        p = _next(p)
    return p


@lru_cache(maxsize=1024)  # pure calendar arithmetic on hashable values, asked per figure
def _full_year(
    guidance: bool, published: date | None, default: Period | None, cal: FiscalCalendar
) -> Period | None:
    if default is not None:
        # A Q4 release's guidance is for the year that has just begun.
        if guidance and default.quarter == 4:
            return Period(default.year + 1)
        return Period(default.year)
    if published is None:
        return None
    if guidance:
        return Period(cal.fiscal_year_of(published))
    # A result for "the full year" is for the latest year that has ended, unless the
    # text is about a quarter of the year in progress (then default is set above).
    return Period(cal.latest_ended_year(published))


@lru_cache(maxsize=1024)  # pure calendar arithmetic on hashable values, asked per figure
def _this_quarter(
    future: bool, published: date | None, default: Period | None, cal: FiscalCalendar
) -> Period | None:
    if published is None:
        if default is None or default.quarter is None:
            return None
        return _next(default) if future else default
    if future:
        return cal.quarter_of(published)
    if default is not None and default.quarter is not None:
        return default
    return cal.latest_ended_quarter(published)
