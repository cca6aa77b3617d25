"""Financial tables inside text: pipe tables, HTML tables rendered by `html.py`, and
tables flattened to one line ("Gross margin 18.3 % 21.4 % 19.5 % 21.6 %").

A table starts at a column header: period groups ("Three Months Ended | Six Months
Ended") and column dates ("August 1, 2025 | August 2, 2024 | Change"), or period
labels ("Q2 FY26 | Q2 FY25", "Q1 FY27 | Q4 FY26 | Q1 FY26", "FY26 | FY25"). Each date
column maps to a fiscal period through the calendar (a 13-week quarter ending that
day, or the year for "Fiscal Year Ended"); a label column names its period; a column
whose period has not ended by publication is guidance. Six- and nine-month columns
and "Change" columns are read past and never reported. Then each row is a label and
its cells.

A row's cells are assigned to columns only when their count says how: as many cells
as columns, or as many as the columns without "Change". Any other count means the
flattening lost the columns, and the row yields nothing rather than a guess.

A row names a metric by its label in its section: "Gross margin" under
"Percentage of Total Net Revenue" is the margin, "Gross margin 5,447" (dollars) is
not a metric; "% of ISG net revenue" after "ISG operating income" is the ISG
operating margin; "% of net revenue" after "Non-GAAP gross margin" is the non-GAAP
gross margin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from bot.extract.periods import quarter_ending
from bot.figures import Figure
from bot.fiscal import FiscalCalendar, Period

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_GROUP = (r"(?P<g>(?:Three|Six|Nine|Twelve|3|6|9|12)[\s-]+Months|(?:Fiscal\s+)?(?:Year|Quarter)|"
          r"Fiscal\s+Quarter)\s+End(?:ed|ing)")
_DATE = rf"(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}}),?(?:[\s|]*(?P<y>(?:19|20)\d{{2}}))?"
# A period label as a column header: "Q2 FY26", "Q2 FY2026", "FY26" (slides, IR tables).
_LABEL = r"(?:Q(?P<lq>[1-4])\s*)?FY\s?'?(?P<ly>(?:19|20)\d{2}|\d{2})(?![\w.])"
# (A change column's "%" may be all that is left of "% Change" in a flattened header.)
_ITEM = re.compile(
    rf"{_GROUP}|{_DATE}|(?P<c>(?:%\s*)?Change|%(?=[\s|]*(?:$|[A-Z(])))|(?P<l>{_LABEL})",
    re.IGNORECASE | re.MULTILINE,
)
# Every alternative opens with its own literal word, so `re` can skip to the few positions
# that start one of them (a shared optional prefix such as "(?:Fiscal\s+)?" would make it try
# every position: ten times slower on a 5 KB text).
_HEADER_START = re.compile(
    "|".join(
        [rf"{w}\s+Months\s+End" for w in ("Three", "Six", "Nine", "Twelve")]
        + [r"Fiscal\s+(?:Year|Quarter)\s+End(?:ed|ing)\s", r"Year\s+End(?:ed|ing)\s", r"Quarter\s+End(?:ed|ing)\s"]
        + [rf"{m}\s+\d{{1,2}}," for m in _MONTH[3:-1].split("|")]
        # Period labels start a header only when another label follows ("Q2 FY26 | Q2 FY25").
        + [r"Q[1-4]\s*FY\s?'?\d{2}(?:\d{2})?[\s|]+Q[1-4]\s*FY", r"FY\s?'?\d{2}(?:\d{2})?[\s|]+FY\s?'?\d{2}"]
    )
)
_SEP = re.compile(r"[\s|]*")
_SCALE = re.compile(r"\(\s*(?:in|dollars\s+in)\s+(millions|thousands|billions)[^)]*\)?", re.IGNORECASE)
_SCALES = {"millions": 1e6, "thousands": 1e3, "billions": 1e9}
_NUM = r"\d[\d,]*(?:\.\d+)?"
_CELL_END = r"(?:\s*%)?(?![\w.]|,\d)"
# A cell is "$ 1,234", "(125)", "-3", "8.8 %", or a dash for an empty cell. The pattern opens
# with one character class (its first character), and a lookbehind then picks the form: that
# lets `re` skip in C to the next candidate instead of trying every position. A match glued
# to a word or number on its left ("FY26", "10-Q") is not a cell: it is still matched, so
# that the scan goes on after it, and marked by the empty group "glued" (\w is what
# `str.isalnum` accepts, or "_").
_CELL = re.compile(
    rf"""[$(\-\d—–](?:(?<=[\w.].)(?P<glued>))?(?:
        (?<=\$)\s*(?:\(\s*-?{_NUM}\s*\)|-?{_NUM}){_CELL_END}
      | (?<=\()\s*-?{_NUM}\s*\){_CELL_END}
      | (?<=-){_NUM}{_CELL_END}
      | (?<=\d)[\d,]*(?:\.\d+)?{_CELL_END}
      | (?<=[—–])(?=[\s|]*(?:[\d$(—–]|$))
    )""",
    re.VERBOSE,
)


_MAX_LABEL_WORDS = 14
_ALPHA = re.compile(r"[A-Za-z]")
_DASHES_SPACES = re.compile(r"[\s-]+")
_FOOTNOTE = re.compile(r"\((?:[a-z]|\d)\)")
_RULES = re.compile(r"[|•_]+")
_NON_GAAP = re.compile(r"(?:non-gaap|adjusted)\b")
_ISG_TOTAL = re.compile(r"(?:total )?isg (?:net )?revenues?")
_CSG_TOTAL = re.compile(r"(?:total )?csg (?:net )?revenues?")
_PCT_OF_REVENUE = re.compile(
    r"(?:as a )?% of (?:total )?(?:non-gaap )?(?P<seg>isg |csg )?(?:net )?revenues?"
)
_SEGMENT_WORD = re.compile(r"\b(?:isg|csg|segment)\b")
_MAX_ROWS = 400


@dataclass
class Column:
    change: bool
    group: str | None = None  # "3m", "6m", "9m", "12m", "fy", "q"
    day: date | None = None
    future: bool = False
    period: Period | None = None
    label: Period | None = None  # the period a label header names ("Q2 FY26")


@dataclass
class Table:
    start: int
    end: int
    figures: list[Figure] = field(default_factory=list)
    undated: bool = False  # a column's year was unknown (no year, no publication date)


_HEADER_WORDS = ("Ended", "Ending", "ENDED", "ENDING", "ended", "ending", "FY")


def find_tables(text: str, ctx) -> list[Table]:
    out: list[Table] = []
    if not any(w in text for w in _HEADER_WORDS):
        return out  # every table we can read has "… Ended"/"… Ending" or "FY…" columns
    # The next header is looked for after the table just read (its rows repeat the dates of
    # its columns: a scan over them would only find starts to skip).
    pos = 0
    while m := _HEADER_START.search(text, pos):
        pos = m.end()
        header = _header(text, m.start(), ctx)
        if header is None:
            continue
        cols, h_end = header
        t = _read_rows(text, m.start(), h_end, cols, ctx)
        t.undated = any(c.day is None and c.label is None and not c.change for c in cols)
        out.append(t)
        pos = max(t.end, h_end)
    return out


def table_figures(text: str, found: list[Table], ctx) -> list[Figure]:
    """The figures of the tables `find_tables` found before the text's own period was known,
    read again with it (`ctx.default`) when a table's columns name no year and the text has
    no publication date: "August 2, | August 4," under "Second Quarter Fiscal 2025 …"."""
    if ctx.default is not None and ctx.published is None and any(t.undated for t in found):
        found = find_tables(text, ctx)
    return [f for t in found for f in t.figures]


# --- header ----------------------------------------------------------------------------------

def _header(text: str, start: int, ctx) -> tuple[list[Column], int] | None:
    # ("g", (kind, ending)) | ("d", [month, day, year or None]) | ("c", None) | ("l", Period)
    items: list[tuple[str, object]] = []
    pos = start
    while True:
        pos = _SEP.match(text, pos).end()
        m = _ITEM.match(text, pos)
        if m is None:
            break
        if m["g"]:
            g = _DASHES_SPACES.sub(" ", m["g"].lower())
            items.append(("g", (_group_kind(g), m.group().lower().endswith("ending"))))
        elif m["m"]:
            items.append(("d", [_MONTHS[m["m"].lower()], int(m["d"]), int(m["y"]) if m["y"] else None]))
        elif m["l"]:
            year = int(m["ly"]) if len(m["ly"]) == 4 else 2000 + int(m["ly"])
            items.append(("l", Period(year, int(m["lq"]) if m["lq"] else None)))
        else:
            items.append(("c", None))
        pos = m.end()
    pos = _years_row(text, pos, [x for k, x in items if k == "d" and x[2] is None])
    dates = sum(1 for k, _ in items if k == "d")
    labels = sum(1 for k, _ in items if k == "l")
    if not (dates and len(items) >= 2) and labels < 2:
        return None
    cols = _columns(items, ctx)
    if cols is None:
        return None
    return cols, pos


_YEAR_CELL = re.compile(r"[\s|]*(?:(?P<y>(?:19|20)\d{2})(?![\d,.])|(?:%\s*)?Change\b|%)", re.IGNORECASE)


def _years_row(text: str, pos: int, yearless: list[list]) -> int:
    """A header whose dates lost their years to a second row ("August 2, | August 4," over
    "2024 | 2023 | Change"): give the dates those years, in order, and return where the header
    ends. Unchanged unless that row holds one year for each yearless date."""
    if not yearless:
        return pos
    years, at = [], pos
    while (m := _YEAR_CELL.match(text, at)) is not None and m.end() > at:
        if m["y"]:
            years.append(int(m["y"]))
        at = m.end()
    if len(years) != len(yearless):
        return pos
    for d, y in zip(yearless, years):
        d[2] = y
    return at


def _group_kind(g: str) -> str:
    for key, kind in (("three", "3m"), ("3 ", "3m"), ("six", "6m"), ("6 ", "6m"), ("nine", "9m"),
                      ("9 ", "9m"), ("twelve", "12m"), ("12 ", "12m"), ("quarter", "q"), ("year", "fy")):
        if g.startswith(key) or (key in ("quarter", "year") and key in g):
            return kind
    return "?"


def _columns(items, ctx) -> list[Column] | None:
    groups = [x for k, x in items if k == "g"]
    seq = [(k, x) for k, x in items if k != "g"]
    first_date = next(i for i, (k, _) in enumerate(items) if k in ("d", "l"))
    groups_first = all(k != "g" for k, _ in items[first_date:])
    cols: list[Column] = []
    if groups and groups_first:
        chunks = _chunks(seq, len(groups))
        if chunks is None:
            return None
        for (kind, ending), chunk in zip(groups, chunks):
            cols.extend(_column(k, x, kind, ending, ctx) for k, x in chunk)
    else:
        current: tuple[str, bool] | None = None
        for k, x in items:
            if k == "g":
                current = x
            else:
                kind, ending = current if current else (None, False)
                cols.append(_column(k, x, kind, ending, ctx))
    _resolve_years(cols, [x for k, x in seq if k == "d"], ctx)
    for c in cols:
        if c.label is not None:
            # Read like a date column: a period that has not ended by publication is guidance.
            c.period = c.label
            c.future = ctx.published is not None and ctx.calendar.bounds(c.label)[1] >= ctx.published
            continue
        c.period = _period(c, ctx.calendar)
        if c.day is not None and ctx.published is not None and c.day >= ctx.published:
            c.future = True
    return cols


def _chunks(seq, n):
    """Split the columns under n period groups: at each "Change", or evenly by dates."""
    if n == 1:
        return [seq]
    changes = [i for i, (k, _) in enumerate(seq) if k == "c"]
    if len(changes) == n:
        out, lo = [], 0
        for i in changes:
            out.append(seq[lo : i + 1])
            lo = i + 1
        return out
    if len(seq) % n == 0:
        size = len(seq) // n
        return [seq[i * size : (i + 1) * size] for i in range(n)]
    return None


def _column(k, x, group, ending, ctx) -> Column:
    if k == "c":
        return Column(change=True, group=group)
    if k == "l":
        return Column(change=False, group="q" if x.quarter else "fy", label=x)
    return Column(change=False, group=group, day=None, future=ending)


_MONTHS = {m.lower(): i + 1 for i, m in enumerate(_MONTH[3:-1].split("|"))}


def _resolve_years(cols: list[Column], raw: list, ctx) -> None:
    """Give each date column its day. "August 4," without a year takes the latest year in which
    that day ended a fiscal quarter before publication; the next column of the same group, the
    latest such year before the column to its left (columns run from recent to old)."""
    date_cols = [c for c in cols if not c.change and c.label is None]
    matches = raw
    prev: date | None = None
    group: str | None = None
    for c, m in zip(date_cols, matches):
        if c.group != group:
            prev, group = None, c.group
        month, day, year = m
        if year:
            c.day = _safe_date(year, month, day)
        elif ctx.published is not None:
            c.day = _latest_quarter_end(month, day, ctx.published, prev, ctx.calendar)
        elif ctx.default is not None:
            # Undated, but the text names the period it reports: its columns end on or before
            # that period's last day.
            last = ctx.calendar.bounds(ctx.default)[1]
            c.day = _latest_quarter_end(month, day, last, prev, ctx.calendar)
        if c.day is not None:
            prev = c.day


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _latest_quarter_end(month, day, published, before, cal) -> date | None:
    """The latest year in which month/day is a fiscal quarter end, on or before publication."""
    for y in range(published.year, published.year - 4, -1):
        d = _safe_date(y, month, day)
        if d is None or d > published or (before is not None and d >= before):
            continue
        if quarter_ending(cal, d, slack=0) is not None:
            return d
    return None


def _period(c: Column, cal: FiscalCalendar) -> Period | None:
    if c.change or c.day is None or c.group in ("6m", "9m", "?", None):
        return None
    if c.group in ("fy", "12m"):
        q = quarter_ending(cal, c.day)
        return Period(q.year) if q is not None and q.quarter == 4 else None
    return quarter_ending(cal, c.day)


# --- rows ------------------------------------------------------------------------------------

@dataclass
class _RowState:
    segment: str | None = None
    block: str = ""
    prev: str = ""


_UNDATED_GROUPS = ("3m", "q", "fy", "12m")


class _Shape:
    """A header's columns as a row reads them (computed once per table, used for every row).

    A row has a cell for every column (`all`) or for every column but "Change" (`values`);
    for each, the positions of its value cells and of its "Change" cells, and the figure
    columns: (position, period label, basis, comparative).
    """

    __slots__ = ("all", "n_all", "n_values", "values")

    def __init__(self, cols: list[Column]) -> None:
        # The most recent column of each kind (quarters, years) is the current figure; older ones compare.
        latest: dict[bool, Period] = {}
        for col in cols:
            p = col.period
            if p is not None and not col.future:
                key = p.quarter is None
                latest[key] = max(latest[key], p) if key in latest else p
        value_at = [i for i, c in enumerate(cols) if not c.change]
        figures = []  # (position among all columns, position among value columns, label, basis, comparative)
        seen_groups: set[str | None] = set()
        for j, i in enumerate(value_at):
            c = cols[i]
            if c.period is not None:
                comparative = not c.future and c.period < latest.get(c.period.quarter is None, c.period)
                figures.append((i, j, c.period.label, "guidance" if c.future else "actual", comparative))
            elif c.day is None and c.label is None and c.group in _UNDATED_GROUPS:
                # "August 2, | August 4," in a text that names no year: a quarter's or a year's
                # column whose period the text does not tell. Columns run from recent to old:
                # the first of its group is the result, the others compare (corpus NOTES: such
                # figures are labelled with period null).
                figures.append((i, j, None, "actual", c.group in seen_groups))
            seen_groups.add(c.group)
        self.n_all, self.n_values = len(cols), len(value_at)
        self.all = _Targets(value_at, [i for i, c in enumerate(cols) if c.change], [(i, *f) for i, _, *f in figures])
        self.values = _Targets(range(len(value_at)), [], [(j, *f) for _, j, *f in figures])


class _Targets:
    __slots__ = ("change_at", "figures", "value_at")

    def __init__(self, value_at, change_at: list[int], figures: list[tuple[int, str, str, bool]]) -> None:
        self.value_at, self.change_at, self.figures = value_at, change_at, figures


# A cell is its match (start(), end(), group()): a table has hundreds of cells, and the
# matches are made anyway.
_Cell = re.Match


def _read_rows(text: str, t_start: int, h_end: int, cols: list[Column], ctx) -> Table:
    scale = _scale(text, t_start, h_end)
    piped = "|" in text[t_start:h_end]
    shape = _Shape(cols)
    table = Table(t_start, h_end)
    state = _RowState()
    label_start = last_end = h_end
    cells: list[_Cell] = []
    label = ""  # the cleaned label of the row being read
    rows = 0
    # A letter between two cells starts a new row (the text before the cell is its label).
    # A cell holds no letter, so the first letter after a row's first cell bounds the row:
    # `stop` is found once per row, and each cell is one comparison (this runs for every
    # cell of every table).
    stop = 0
    for m in _CELL.finditer(text, h_end):
        if m.lastgroup == "glued":
            continue  # not a cell: the tail of a word or number ("FY26", "10-Q")
        at = m.start()
        if cells and at > stop:
            _row(text, label_start, cells, shape, scale, piped, state, table, label)
            rows += 1
            label_start, cells = last_end, []
        if not cells:
            between = text[label_start:at]
            if len(between) > 250 or rows > _MAX_ROWS:
                break
            label = _clean(between)
            if _words(label) > _MAX_LABEL_WORDS or (_may_open_header(between) and _HEADER_START.search(between)):
                break
            letter = _ALPHA.search(text, at)
            stop = letter.start() if letter else len(text)
        cells.append(m)
        last_end = m.end()
    else:
        # The last row of the text's last table (what follows it, a footnote or prose, holds
        # no cell): its cells are complete.
        if cells:
            _row(text, label_start, cells, shape, scale, piped, state, table, label)
    if cells and table.end < last_end and len(cells) in (shape.n_all, shape.n_values):
        table.end = last_end
    return table


def _words(label: str) -> int:
    """The number of words of a cleaned label (`_clean` joins them with single spaces)."""
    return label.count(" ") + 1 if label else 0


def _may_open_header(s: str) -> bool:
    """A cheap test before _HEADER_START: each of its forms holds "End", "FY" or a ","."""
    return "," in s or "End" in s or "FY" in s


def _scale(text: str, t_start: int, h_end: int) -> float | None:
    """The table's scale note ("(in millions, …)"), None when it has none."""
    m = _SCALE.search(text, max(0, t_start - 300), h_end + 200)
    return _SCALES[m[1].lower()] if m else None


def _clean(label: str) -> str:
    """A row label without scale notes, footnote markers and rules (str methods: this runs per
    row; `str.replace` is several times faster than `str.translate` with a mapping)."""
    if "(" in label:
        label = _FOOTNOTE.sub(" ", _SCALE.sub(" ", label))
    label = label.replace("|", " ").replace("•", " ").replace("_", " ")
    return " ".join(label.split()).strip(" —-")


_DASHES = ("—", "–")


def _row(text, label_start, cells: list[_Cell], shape: _Shape, scale, piped, state, table, label: str) -> None:
    """Read one row; `label` is the cleaned text before its first cell."""
    # "Earnings per share — diluted $ 1.70": a dash followed by words belongs to the label.
    if cells[0].group() in _DASHES:
        while cells and cells[0].group() in _DASHES:
            cells = cells[1:]
        if not cells:
            return
        label = _clean(text[label_start : cells[0].start()])
    name = _enter_sections(label, state)
    n = len(cells)
    if n == shape.n_all:
        targets = shape.all
        if not _changes_look_right(cells, targets.change_at):
            state.prev = name
            return
    elif n == shape.n_values:
        targets = shape.values
    else:
        state.prev = name
        table.end = cells[-1].end()
        return
    # A percent row has a percent cell outside the "Change" columns ("%" anywhere is the cheap test).
    pct = False
    if "%" in text[cells[0].start() : cells[-1].end()]:
        for i in targets.value_at:
            if cells[i].group().endswith("%"):
                pct = True
                break
    metric, acc = _metric(name, state.segment, state.block, state.prev, pct)
    state.prev = name
    table.end = cells[-1].end()
    if metric is not None:
        _row_figures(text, label_start, cells, targets, name, metric, acc, pct, scale, piped, table)


def _row_figures(text, label_start, cells, targets: _Targets, name, metric, acc, pct, scale, piped, table) -> None:
    start = _label_anchor(text, label_start, cells[0].start(), name)
    unit = "%" if pct else ("USD/share" if metric == "eps" else "USD")
    last = len(cells) - 1
    second_end = cells[min(1, last)].end()
    for i, period, basis, comparative in targets.figures:
        cell = cells[i]
        v = _value(cell.group())
        if v is None:
            continue
        value = v if unit != "USD" else v * (scale or _unstated_scale(v))
        if not _sane(unit, value):
            continue
        end = cells[min(i + 1, last)].end() if i == 0 else cell.end()
        end = max(end, second_end)
        table.figures.append(Figure(
            metric=metric, basis=basis, value=value, unit=unit,
            period=period, evidence=text[start:end], span=(start, end),
            accounting=acc, comparative=comparative,
            table=True, confidence=0.85 if piped else 0.75,
        ))


def _unstated_scale(v: float) -> float:
    """A statement that lost its "(in millions)" note (a page cut below it): amounts under a
    million are millions, as the statements of companies this size state them; larger ones
    are dollars."""
    return 1e6 if abs(v) < 1e6 else 1.0


def _label_anchor(text, label_start, first_cell, name) -> int:
    """Where the row's own name starts: after a section prefix ("…Revenue: "), a line break or a scale note."""
    # (Without the blanks before the first cell: a row laid out one cell per line ends its
    # label with a line break.)
    raw = text[label_start:first_cell].rstrip(" |\t\n$")
    # A scale note opens with "(": a label without one skips the note's search.
    cut = max(raw.rfind(":"), raw.rfind("\n"), raw.rfind(")") if "(" in raw and _SCALE.search(raw) else -1)
    i = label_start + cut + 1
    while i < first_cell and text[i] in " |\t\n•":
        i += 1
    return i if i < first_cell else label_start


def _changes_look_right(cells: list[_Cell], change_at: list[int]) -> bool:
    """Each "Change" cell is a percent or a dash (a cell never ends in a blank)."""
    for i in change_at:
        cell = cells[i].group()
        if not (cell.endswith("%") or cell in _DASHES):
            return False
    return True


def _value(s: str) -> float | None:
    s = s.replace("$", "").replace("%", "").replace(",", "").strip()
    if s in ("—", "–", ""):
        return None
    neg = s.startswith("(")
    try:
        v = float(s.strip("() "))
    except ValueError:
        return None
    return -v if neg else v


def _sane(unit: str, v: float) -> bool:
    if unit == "USD":
        return 1e6 <= abs(v) < 1e13
    if unit == "USD/share":
        return abs(v) < 100
    return -100 < v < 100


# --- row labels --------------------------------------------------------------------------------

_SEG = re.compile(r"\b(?:(?P<isg>infrastructure solutions group|isg)|(?P<csg>client solutions group|csg))\b")


# A segment's heading row, which Workiva renders as a row of its own, with or without a colon:
# "Infrastructure Solutions Group (ISG)" then "Net revenue:" then "Servers and networking".
_SEG_HEADING = re.compile(
    r"(?:(?P<isg>infrastructure solutions group)(?: \(isg\))?|(?P<csg>client solutions group)(?: \(csg\))?)"
    r"(?: (?=\S)|$)"
)


def _enter_sections(label: str, state: _RowState) -> str:
    """Update the section state from "A: B: row" labels; return the row's own name."""
    if ":" not in label:
        head = _SEG_HEADING.match(label.lower())
        if head is None or head.end() == len(label):
            return label.lower()
        # "Infrastructure Solutions Group (ISG) Servers and networking": a heading row with no
        # colon, glued to the row under it.
        state.segment, state.block = ("isg" if head["isg"] else "csg"), ""
        return label[head.end() :].strip().lower()
    parts = [p.strip() for p in label.split(":")]
    for p in parts[:-1]:
        low = p.lower()
        seg = _SEG.search(low)
        head = _SEG_HEADING.match(low)
        if head is not None and head.end() < len(low):
            # "Infrastructure Solutions Group (ISG) Net revenue": the heading and a block.
            state.segment = "isg" if head["isg"] else "csg"
            state.block = low[head.end() :].strip()[-40:]
        elif seg and len(low.split()) <= 5:
            state.segment = "isg" if seg["isg"] else "csg"
            state.block = ""
        elif "percentage of" in low or "% of" in low:
            state.block = "pct"
        elif low:
            state.block = low[-40:]
    return parts[-1].lower()


_REVENUE = {"net revenue", "total net revenue", "total consolidated net revenue", "revenue", "total revenue",
            "revenues", "net revenues", "total net revenues", "total revenues", "consolidated net revenue"}
_OCF = ("cash flow from operations", "cash flows from operations", "cash provided by operating activities",
        "change in cash from operating activities", "operating cash flow", "cash flows from operating activities",
        "cash from operating activities", "net cash provided by operating activities")
_NET_OCF = frozenset("net " + o for o in _OCF)


@lru_cache(maxsize=2048)
def _metric(name: str, segment: str | None, block: str, prev: str, pct: bool) -> tuple[str | None, str | None]:
    """The metric a row names, in its section (segment, block) and after the row `prev`.

    Cached: a pure function of short strings, and statements repeat their row labels
    ("% of net revenue" after each margin row, the same labels in every release).
    """
    name = " ".join(name.replace("—", " ").replace("–", " ").split())
    acc = "non_gaap" if _NON_GAAP.match(name) else None
    if pct:
        return _pct_metric(name, segment, block, prev)
    if "per share" in name or name.startswith("eps"):
        if "diluted" in name and "basic" not in name and "adjustment" not in name:
            return "eps", acc
        return None, None
    if name in _REVENUE and segment is None and (
            block in ("", "pct") or (name.startswith("total") and block in _REVENUE)):
        return "revenue", None  # (also "Total net revenue" closing a "Net revenue:" block)
    if segment == "isg":
        if name in ("servers and networking", "server and networking", "servers & networking"):
            return "servers_networking_revenue", None
        if name == "storage":
            return "storage_revenue", None
    if _ISG_TOTAL.fullmatch(name):
        return "isg_revenue", None
    if _CSG_TOTAL.fullmatch(name):
        return "csg_revenue", None
    if name.startswith(_OCF) or name in _NET_OCF:
        return "operating_cash_flow", None
    if name == "free cash flow":
        return "free_cash_flow", None
    if name == "adjusted free cash flow":
        return "free_cash_flow", "non_gaap"
    return None, None


def _pct_metric(name: str, segment: str | None, block: str, prev: str) -> tuple[str | None, str | None]:
    prev = prev.lower()
    m = _PCT_OF_REVENUE.fullmatch(name)
    if m:
        seg = (m["seg"] or "").strip()
        if seg:
            return (f"{seg}_operating_margin", None) if "operating income" in prev else (None, None)
        acc = "non_gaap" if _NON_GAAP.match(prev) else None
        if prev.endswith("gross margin") and "adjust" not in prev:
            return "gross_margin", acc
        if prev.endswith("operating income") and not _SEGMENT_WORD.search(prev):
            return "operating_margin", acc
        return None, None
    if block == "pct" and segment is None:
        if name == "gross margin":
            return "gross_margin", None
        if name in ("operating income", "operating margin"):
            return "operating_margin", None
        return None, None
    ng = _NON_GAAP.match(name)
    acc = "non_gaap" if ng else None
    base = name[ng.end() :].strip() if ng else name
    if base in ("gross margin %", "gross margin percentage", "gross margin rate"):
        return "gross_margin", acc
    if base in ("operating margin", "operating margin %"):
        return ("isg_operating_margin" if segment == "isg" else
                "csg_operating_margin" if segment == "csg" else "operating_margin"), acc
    return None, None
