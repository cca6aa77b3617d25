"""What a document says about itself: its reporting period and its sections.

A press release opens with the period it reports ("announces financial results
for its fiscal 2026 second quarter", "Second Quarter Fiscal 2026 Financial
Results"); its unqualified figures ("Record revenue of $29.8 billion") belong to
that period. Inside it, headings scope the lines below them: a segment heading
("Infrastructure Solutions Group (ISG)") makes "Revenue: $10.3 billion" ISG
revenue, a "Guidance" heading makes its bullets guidance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from bot.extract import vocab
from bot.extract.cues import may_contain
from bot.extract.periods import PeriodMention, Resolved, day_quarter, find_periods, resolve
from bot.figures import Figure
from bot.fiscal import FiscalCalendar, Period

# "results for its fiscal 2026 second quarter", "Q2 FY26 results", "Second Quarter Fiscal 2026
# Financial Results", "reported second-quarter earnings": the period the text reports.
_RESULTS_AFTER = re.compile(
    r"^[\s,]*(?:(?:financial|quarterly|earnings|operating)\s+)?(?:results|earnings|report)\b", re.IGNORECASE
)
_RESULTS_BEFORE = re.compile(
    r"\b(?:results|earnings|reported|reports|posted|delivers|delivered|announce[sd]?)\s+"
    r"(?:(?:for|of|from|its|the|in)\s+){0,3}$",
    re.IGNORECASE,
)
_SUMMARY = re.compile(r"^[\s,-]*(?:summary|highlights|results)\b", re.IGNORECASE)
_HEAD_CHARS = 2500


@dataclass(frozen=True)
class DocContext:
    published: date | None
    calendar: FiscalCalendar
    default: Period | None = None  # the period the text reports, when it says so


def reporting_period(
    text: str, mentions: Iterable[PeriodMention], published: date | None, calendar: FiscalCalendar
) -> Period | None:
    """The period a results text reports, from its headline or first lines.

    `mentions` in text order; read only up to the first that names the reported period,
    so they may come from `iter_periods` and the rest of the head is never searched."""
    for pm in mentions:
        if pm.start > _HEAD_CHARS:
            break
        if pm.kind not in ("explicit", "quarter", "qyear"):
            continue
        after = text[pm.end : pm.end + 40]
        before = text[max(0, pm.start - 40) : pm.start]
        if not (_RESULTS_AFTER.match(after) or _RESULTS_BEFORE.search(before) or _SUMMARY.match(after)):
            continue
        r = resolve(pm, guidance=False, published=published, default=None, calendar=calendar)
        if r.period is None:
            continue
        if published is not None and calendar.bounds(r.period)[1] >= published:
            continue  # "will report fourth-quarter results": not yet reported
        return r.period
    return None


def document_period(
    text: str, mentions: list[PeriodMention], published: date | None, calendar: FiscalCalendar
) -> Period | None:
    """The quarter a text reports, read as a careful reader would (`mentions` in text order).

    In order: the period named next to "results"/"reported"/"earnings" in its head
    (`reporting_period`); else the first quarter named with its year in its opening lines
    that is not a comparison; else a quarter named without its year ("the fiscal third
    quarter", "the quarter ended May 3") placed by the publication date, or, in an undated
    text, by the fiscal year the text names ("fiscal 2026" guidance, "all of fiscal 2025").
    A text that names no fiscal year and has no date has no period (corpus NOTES, policy 1).
    """
    found = reporting_period(text, mentions, published, calendar)
    if found is not None:
        return found
    for pm in mentions:
        if pm.start > _OPENING_CHARS:
            break
        p = pm.period
        if (pm.kind == "explicit" and p is not None and p.quarter is not None and not _compared(text, pm)
                and (published is None or calendar.bounds(p)[1] < published)):
            return p
    bare = _reported_quarter(text, mentions)
    if bare is None:
        return None
    if published is not None:
        if bare.kind in ("qday", "mday"):
            return day_quarter(bare.md, False, published, None, calendar)
        return calendar.latest_ended_quarter(published, bare.quarter)
    year = _text_year(text, mentions, bare)
    if year is None:
        return None
    if bare.kind in ("qday", "mday"):
        return day_quarter(bare.md, False, None, Period(year), calendar)
    return Period(year, bare.quarter)


_OPENING_CHARS = 600
_COMPARED_BEFORE = re.compile(r"\b(?:from|versus|vs\.?|compared\s+(?:with|to)|against|than|over|since)\s+(?:the\s+|its\s+)?$",
                              re.IGNORECASE)


def _compared(text: str, pm: PeriodMention) -> bool:
    return _COMPARED_BEFORE.search(text, max(0, pm.start - 30), pm.start) is not None


def _sentence(text: str, at: int) -> tuple[int, int]:
    """The sentence around offset `at`, roughly: from the last line break or full stop before it."""
    lo = max(text.rfind("\n", 0, at), text.rfind(". ", max(0, at - 300), at)) + 1
    hi = len(text)
    for stop in ("\n", ". "):
        i = text.find(stop, at, at + 300)
        if 0 <= i < hi:
            hi = i
    return lo, hi


def _is_guidance_sentence(text: str, at: int) -> bool:
    lo, hi = _sentence(text, at)
    return vocab.GUIDANCE_RE.search(text, lo, hi) is not None


_CLAUSE_CUT = re.compile(r"(?:[;:]|,\s+|\s+(?:and|but|while|after|as)\s+)(?=[^;:,]*$)")
_GUIDANCE_AFTER = re.compile(r"[\s-]*(?:guidance|outlook|forecast|target|view)\b", re.IGNORECASE)


def _guidance_year(text: str, pm: PeriodMention) -> bool:
    """A year named in a guidance clause ("expects $15 billion in fiscal 2026", "its fiscal 2026
    outlook"), not merely in a sentence that also holds guidance."""
    if _GUIDANCE_AFTER.match(text, pm.end, pm.end + 20):
        return True
    lo = _sentence(text, pm.start)[0]
    cut = _CLAUSE_CUT.search(text, lo, pm.start)
    return vocab.GUIDANCE_RE.search(text, cut.end() if cut else lo, pm.start) is not None


def _reported_quarter(text: str, mentions: list[PeriodMention]) -> PeriodMention | None:
    """The first quarter named without its year outside guidance and comparisons."""
    for pm in mentions:
        if pm.kind in ("quarter", "qyear", "qday") and not _compared(text, pm) and not _is_guidance_sentence(text, pm.start):
            return pm
    return None


def _text_year(text: str, mentions: list[PeriodMention], bare: PeriodMention) -> int | None:
    """The fiscal year of an undated text's quarter, from the years it names: guidance "for
    fiscal 2026" is for the year under way (the next one, after a fourth quarter); a result
    "for all of fiscal 2025" is for a year that has ended (this one, in a fourth quarter)."""
    fourth = bare.quarter == 4 or (bare.md is not None and bare.md[0] in (1, 2))
    votes: dict[int, int] = {}
    for pm in mentions:
        p = pm.period
        if pm.kind == "qyear":
            y = pm.year
        elif pm.kind == "explicit" and p is not None:
            if p.quarter is not None:
                y = p.year
            elif _guidance_year(text, pm):
                y = p.year - 1 if fourth else p.year
            else:
                y = p.year if fourth else p.year + 1
        else:
            continue
        votes[y] = votes.get(y, 0) + 1
    if not votes:
        return None
    return max(votes, key=lambda y: votes[y])


# A heading line: a short run of words with no figure, e.g. "Client Solutions Group (CSG)",
# "Guidance Summary", "1 Guidance Summary" (a page number glued on by flattening).
# Its words are possessive (`*+`, `++`): what follows a word is a blank, ":" or the end, never a
# word character, so giving characters back cannot help; it only cost a try per character
# on every short line that is not a heading.
_HEADING = re.compile(r"^(?:\d{1,2}\s+)?[A-Z][\w&’'()\-]*+(?:\s+[\w&’'()\-]++){0,6}:?$")
_SEGMENT_HEADING = re.compile(
    r"^(?:\d{1,2}\s+)?(?:(?P<isg>Infrastructure\s+Solutions\s+Group|ISG)|(?P<csg>Client\s+Solutions\s+Group|CSG))"
    r"(?:\s*\((?:ISG|CSG)\))?(?:\s+(?:results|segment|highlights))?\s*:?$",
    re.IGNORECASE,
)
# A heading glued to the end of the previous bullet when a page is flattened:
# "…operating income: $1.5 billion, up 14% year over year Client Solutions Group (CSG)".
_SEGMENT_TAIL = re.compile(
    r"(?:^|\s)(?:(?P<isg>Infrastructure\s+Solutions\s+Group\s*\(ISG\))|(?P<csg>Client\s+Solutions\s+Group\s*\(CSG\)))"
    r"\s*:?$"
)
_YEAR_HEADING = re.compile(r"\b(?:full[\s-]+(?:fiscal[\s-]+)?year|fiscal[\s-]+year|annual)\b", re.IGNORECASE)
# A quote: it opens with a quotation mark, or its first line says "said"/"says".
_SAID = re.compile(r"\b(?:said|says)\b")
_GUIDANCE_HEADING = re.compile(r"\b(?:guidance|outlook|forecast)\b", re.IGNORECASE)
# A bullet-like line: "Revenue: $10.3 billion, up 12%", "Record revenue: $16.8 billion".
# (Possessive for the same reason as _HEADING: the label's characters do not include ":".)
_LABEL_LINE = re.compile(r"^[A-Z][\w\s&’'()\-]{0,60}+:\s*\S")


@dataclass
class Sections:
    """Heading state while reading a document top to bottom."""

    segment: str | None = None
    guidance: bool = False
    full_year: bool = False  # under "Full-Year Summary": unqualified results are the year's

    def update(self, sentence: str) -> bool:
        """Read one sentence; return True when it was a heading (and holds no figure)."""
        s = sentence.strip()
        # A heading has no ",", "." or "$" (neither pattern allows them), and nearly every
        # sentence with a figure has one: a cheap test before the patterns. (Both hold at most
        # eight words and fail within them on a longer sentence: no word count is needed.)
        if "," not in s and "." not in s and "$" not in s:
            m = _SEGMENT_HEADING.match(s)
            if m:
                self.segment = "isg" if m["isg"] else "csg"
                self.guidance = False
                return True
            if _HEADING.match(s) and not any(map(str.isdigit, s.split(None, 1)[-1])):
                self.segment = None
                self.guidance = bool(_GUIDANCE_HEADING.search(s))
                self.full_year = bool(_YEAR_HEADING.search(s)) and not self.guidance
                return True
        if self.segment is None and not self.full_year:
            return False  # no section for prose to end: most sentences stop here
        # Words counted once, up to 26: a paragraph has more than 24, a segment's bullets fewer than 15.
        words = len(s.split(None, 25))
        if _is_quote(s) or (words > 24 and not _LABEL_LINE.match(s)):
            self.segment = None  # prose (a quote, a paragraph) after a section's bullet list
            self.full_year = False
        elif self.segment and words > 14 and not _LABEL_LINE.match(s):
            self.segment = None
        return False

    def after(self, sentence: str) -> None:
        """Read the tail of a sentence whose figures are done (a glued heading applies next)."""
        tail = sentence.rstrip()
        if not tail.endswith((")", ":")) or not tail.removesuffix(":").rstrip().endswith(("(ISG)", "(CSG)")):
            return  # the glued heading ends with its abbreviation (a cheap test before the regex)
        m = _SEGMENT_TAIL.search(tail)
        if m:
            self.segment = "isg" if m["isg"] else "csg"
            self.guidance = False


def _is_quote(s: str) -> bool:
    if s and s[0] in "\"“‘":
        return True
    if "said" not in s and "says" not in s:
        return False  # most sentences: no need to cut out the first line
    line_end = s.find("\n")
    line = s if line_end < 0 else s[:line_end]
    return ("said" in line or "says" in line) and _SAID.search(line) is not None


@dataclass
class GuidanceThread:
    """The period the text last gave guidance for, which guidance naming none continues.

    "For the fourth quarter, Dell expects revenue of $31 billion to $32 billion. Non-GAAP EPS
    is expected to be $3.50": the second sentence's guidance is for the fourth quarter too.
    A guidance sentence that names a period starts a thread, which lasts to the end of its
    paragraph (at most `_THREAD_CHARS` on); a guidance heading that names one period ("Q4
    Guidance") starts one for its whole section.
    """

    ctx: DocContext
    period: Period | None = None
    end: int = -1
    section: bool = False

    def heading(self, text: str, s: int, e: int, guidance: bool) -> None:
        self.period, self.section = None, False
        if guidance:
            named = {self._guided(pm) for pm in find_periods(text, self.ctx.calendar, [(s, e)])} - {None}
            if len(named) == 1:
                self.period, self.end, self.section = named.pop(), e, True

    def carry(self, text: str, s: int, found: list[tuple[Figure, Resolved | None]]):
        if self.period is None:
            return found
        if not self.section and (s - self.end > _THREAD_CHARS or "\n\n" in text[self.end : s]):
            return found
        out = []
        for f, r in found:
            if (f.basis == "guidance" and r is not None and r.period is None and r.open
                    and r.open_quarter is None and r.shift == "guidance"):
                f = replace(f, period=self.period.label, confidence=round(max(0.05, f.confidence - 0.1), 2))
                r = Resolved(self.period, False, inferred=True)
            out.append((f, r))
        return out

    def after(self, text: str, s: int, e: int, mentions: list[PeriodMention]) -> None:
        """Read a sentence whose figures are done: a guidance sentence naming a period starts a thread."""
        if self.section or not mentions or not may_contain(text[s:e].lower(), vocab.GUIDANCE_RE.stems):
            return
        if vocab.GUIDANCE_RE.search(text, s, e) is None:
            return
        for pm in mentions:
            if s <= pm.start < e and not _compared(text, pm):
                p = self._guided(pm)
                if p is not None:
                    self.period, self.end = p, e
                    return

    def _guided(self, pm: PeriodMention) -> Period | None:
        c = self.ctx
        return resolve(pm, guidance=True, published=c.published, default=c.default, calendar=c.calendar).period


_THREAD_CHARS = 600
