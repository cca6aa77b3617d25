"""Sentence and clause boundaries, as offsets into the original text.

A "sentence" is what one figure's words stay inside: a prose sentence, a bullet,
a heading line, or a run of bullets glued together when a page was flattened
("…up 9% year over yearRecord Infrastructure Solutions Group…"). Offsets, not
copies, so every span the extractor reports points into the caller's text.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_ABBREV = re.compile(
    r"(?:\b(?:Inc|Corp|Co|Ltd|Jr|Sr|Mr|Ms|Mrs|Dr|St|vs|approx|No|Nos|est|e\.g|i\.e|U\.S|U\.K|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z])$"
)

# The pattern opens with one character class, so `re` skips in C to the next candidate
# character; a lookbehind on that character then picks the kind of boundary. (Alternatives
# opening with different things make `re` try each of them at every position: 3x slower.)
# Capitals are the most frequent candidates and can only be a glued bullet: they take the
# first alternative and are kept out of the others by one test, not five failed lookbehinds;
# there one lookbehind (a capital after the last letter of a glue word) turns most away.
# A metric card's lines stay together: "Total Revenue / $23.9B / Previous year: $22.3B / +7.2%"
# (a line opening with a minus and a number is a value, "-$117M", not a bullet).
_CARD_LINE = r"(?:[ \t]*(?:Previous|Prior|Last)\s+(?:year|quarter)|[ \t]*Year[\s-]ago)\s*:"
_BOUNDARY = re.compile(
    r"""
    [\n•·▪◦●■.!?;|A-Z](?:
      (?<=[rnyt%][A-Z])(?:(?<=year.)|(?<=%.)|(?<=lion.)|(?<=ally.)|(?<=flat.))(?=[a-z])(?P<glue>)  # glued bullets: "…yearRecord…"
    | (?<![A-Z])(?:
        (?<=\n)(?:[ \t]*\n\s*                                         # a blank line,
          |(?!{_CARD_LINE})(?=[ \t]*(?:[•·▪◦●■*]|-(?![$\d])|\d+\.\s|[A-Z"“(])))  # or an item
      | (?<=[•·▪◦●■])[ \t]*                                             # a bullet anywhere
      | (?<=[.!?])(?P<quote>["”’)]?)(?:[ \t]+(?=["“‘(]?[A-Z0-9$])|(?<=["”’])(?=[A-Z]))  # end of a sentence
      | (?<=;)[ \t]+
      | (?<=\|)[ \t]*\n                                                # pipe-table line ends
    ))
    """.replace("{_CARD_LINE}", _CARD_LINE),
    re.VERBOSE,
)


def split(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end], without surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        at = m.start()
        c = text[at]
        if c in ".!?":
            if c == "." and _is_abbrev(text, at + 1):
                continue
            cut = at + 1 + len(m["quote"])
        elif m["glue"] is not None:
            # The capital that starts the next bullet was matched: it stays with that bullet.
            _add(text, spans, pos, at)
            pos = at
            continue
        else:
            cut = at
        _add(text, spans, pos, cut)
        pos = m.end()
    _add(text, spans, pos, end)
    return spans


def _is_abbrev(text: str, at: int) -> bool:
    """True when the full stop before `at` ends an abbreviation ("Inc. — diluted", "vs. $2B")."""
    # An abbreviation starts a word and has at most six characters: after seven letters or
    # digits the full stop ends a longer word ("quarter.", "Technologies."), as it does for
    # about half the sentences, and no search is needed.
    if at >= 8 and text[at - 8 : at - 1].isalnum():
        return False
    return bool(_ABBREV.search(text, at - 8 if at > 8 else 0, at - 1))


def _add(text: str, spans: list[tuple[int, int]], s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


# Where a hedge, a guidance word or an estimate stops applying inside a sentence.
CLAUSE_RE = re.compile(
    r";|—|–\s|\s-\s|,\s+(?:and|with)\b|\band\s+(?=(?:we|it|they|Dell|the\s+company)\b)|\b(?:but|while|whereas|although|though|vs\.?|versus|compared\s+(?:with|to)|"
    r"against|after|before|despite)\b",
    re.IGNORECASE,
)


# Looser: where a segment named as a subject stops applying ("…for ISG, with revenue up 29%" keeps it).
SUBJECT_CLAUSE_RE = re.compile(r";|\b(?:but|while|whereas|although|though|vs\.?|versus)\b", re.IGNORECASE)

# The same boundaries as CLAUSE_RE and SUBJECT_CLAUSE_RE (their match ends are what is used),
# written to open with one character class: `re` then skips in C to candidate characters, and
# a lookbehind on the character picks the alternative (a word must not follow a letter or
# digit). Three times faster than the forms above, which stay as the readable definition;
# tests/test_extract_cues.py checks that both give the same ends. Most candidates are
# letters inside a word: the word-start test comes first for a letter, and a letter is kept
# out of the punctuation alternatives by one lookbehind (as in _BOUNDARY).
_WORD_START = r"(?<!\w.)"  # after the first letter is taken: no word character before it
_CLAUSE_SCAN = re.compile(
    r"""[;—–\-,aAbBwWtTvVcCdD](?:
        (?<=[a-zA-Z])""" + _WORD_START + r"""(?:
          (?<=[aA])(?i:nd\s+(?=(?:we|it|they|dell|the\s+company)\b)|lthough\b|gainst\b|fter\b)
        | (?<=[bB])(?i:ut|efore)\b
        | (?<=[wW])(?i:hile|hereas)\b
        | (?<=[tT])(?i:hough)\b
        | (?<=[vV])(?i:s\.?|ersus)\b
        | (?<=[cC])(?i:ompared\s+(?:with|to))\b
        | (?<=[dD])(?i:espite)\b
      )
      | (?<![a-zA-Z])(?:
          (?<=[;—])
        | (?<=–)\s
        | (?<=\s-)\s
        | (?<=,)\s+(?i:and|with)\b
      )
    )""",
    re.VERBOSE,
)
_SUBJECT_CLAUSE_SCAN = re.compile(
    r"""[;bBwWaAtTvV](?:
        (?<=;)
      | (?<=[a-zA-Z])""" + _WORD_START + r"""(?:
          (?<=[bB])(?i:ut)\b
        | (?<=[wW])(?i:hile|hereas)\b
        | (?<=[aA])(?i:lthough)\b
        | (?<=[tT])(?i:hough)\b
        | (?<=[vV])(?i:s\.?|ersus)\b
      )
    )""",
    re.VERBOSE,
)


class Clauses:
    """Clause starts of one sentence, found on first use and then kept (a sentence is asked
    about many times, and most sentences are never asked: the scan is done only when needed)."""

    __slots__ = ("_strict", "_subject", "end", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self._strict: list[int] | None = None
        self._subject: list[int] | None = None

    def start_of(self, at: int, subject: bool = False) -> int:
        """Start of the clause that contains offset `at`; `subject`: the looser subject scope."""
        if subject:
            if self._subject is None:
                self._subject = clause_ends(_SUBJECT_CLAUSE_SCAN, self.text, self.start, self.end)
            ends = self._subject
        else:
            if self._strict is None:
                self._strict = clause_ends(_CLAUSE_SCAN, self.text, self.start, self.end)
            ends = self._strict
        i = bisect_right(ends, at) - 1
        return ends[i] if i >= 0 else self.start


def clause_ends(scan: re.Pattern, text: str, start: int, end: int) -> list[int]:
    """Ends of the clause boundaries in text[start:end], as CLAUSE_RE / SUBJECT_CLAUSE_RE find them."""
    out: list[int] = []
    prev = start
    for m in scan.finditer(text, start, end):
        at = m.start()
        # " - " is matched at its dash: the blank before it must be inside the window and not
        # part of the boundary before (CLAUSE_RE would have started there).
        if text[at] == "-" and at - 1 < prev:
            continue
        out.append(m.end())
        prev = m.end()
    return out
