"""Cue regexes with a cheap necessary test in front, for the windows next to every number.

A regex searched for at the end of the text before a number ("up 88%": `\\bup\\s+$`) is
tried by `re` at every position of its window, and with IGNORECASE and fifty
alternatives that is about 10 µs per number. But such a cue can only match a window
that ends on one of a few words, and `str.endswith` tells that in well under a
microsecond. Likewise a cue searched for anywhere in a window needs one of its
stems to be in the lowercased window, which one `in` per stem tells (`str` search is
C code and does no case folding). The regex still decides: the test only skips the
windows it cannot match, so results are the same as the regex alone.

The words of each test are read off the compiled pattern itself (`final_literals`,
`necessary_factors`: a walk over `re`'s parse tree), never kept by hand: a cue whose
pattern changes, in code or in a data file, keeps a test that agrees with it. A pattern
too loose to give one (a tail of `\\w*`) gets no test: its regex runs every time.
`tests/test_extract_cues.py` checks the tests against the regexes on many samples.
"""

from __future__ import annotations

import re
import re._constants as _c
import re._parser as _parser
import sys

_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)


def _literal_set(av) -> set[str] | None:
    """The characters of a small character class of literals (`[-−]`), else None."""
    chars = set()
    for op, v in av:
        if op is not _c.LITERAL:
            return None
        chars.add(chr(v))
    return chars if 0 < len(chars) <= 4 else None


def _blank_repeat(op, av) -> bool:
    """`\\s*`, `\\s+`, ` +`: blanks that `str.rstrip` removes."""
    if op not in _REPEATS:
        return False
    inner = list(av[2])
    if len(inner) != 1:
        return False
    iop, iav = inner[0]
    if iop is _c.LITERAL:
        return chr(iav).isspace()
    return iop is _c.IN and all(o is _c.CATEGORY and v is _c.CATEGORY_SPACE for o, v in iav)


def _fixed(items) -> str | None:
    """The string a sequence of literals matches, else None."""
    out = ""
    for op, av in items:
        if op is not _c.LITERAL:
            return None
        out += chr(av)
    return out or None


def _can_be_empty(items) -> bool:
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _REPEATS and av[0] == 0:
            continue
        if op is _c.SUBPATTERN and _can_be_empty(av[-1]):
            continue
        if op is _c.BRANCH and any(_can_be_empty(b) for b in av[1]):
            continue
        return False
    return True


def _tails(items) -> set[str] | None:
    """Strings one of which ends every match of `items`, trailing blanks aside; None if unknown."""
    items = list(items)
    acc = ""
    while items:
        op, av = items[-1]
        if op in _ZERO_WIDTH:
            items.pop()
            continue
        if op is _c.LITERAL:
            acc = chr(av) + acc
            items.pop()
            continue
        if acc:
            return {acc}
        if _blank_repeat(op, av):
            items.pop()
            continue
        rest = items[:-1]
        fixed = _fixed(av[2]) if op in _REPEATS and av[:2] == (0, 1) else None
        if fixed:
            # An optional literal ("vs\\.?"): the tails of what precedes, with and without it.
            before = _tails(rest)
            return None if before is None else before | {t + fixed for t in before}
        if op is _c.SUBPATTERN:
            inner: list = [list(av[-1])]
        elif op is _c.BRANCH:
            inner = [list(b) for b in av[1]]
        elif op in _REPEATS:
            inner = [list(av[2])]
        elif op is _c.IN:
            chars = _literal_set(av)
            return chars
        else:
            return None
        out: set[str] = set()
        for seq in inner:
            if _can_be_empty(seq) or (op in _REPEATS and av[0] == 0):
                more = _tails(rest)
                if more is None:
                    return None
                out |= more
            if not _can_be_empty(seq):
                t = _tails(seq)
                if t is None:
                    return None
                out |= t
        return out
    return {acc} if acc else None


def final_literals(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
    """Lowercase strings one of which ends every match of `pattern` (blanks after it aside),
    cut to their last 16 characters; None when the pattern allows no such test."""
    found = _tails(_parser.parse(pattern, flags))
    if not found or "" in found:
        return None
    return tuple(sorted({t.lower()[-16:] for t in found}))


def _leading(items) -> str:
    """The literal characters a sequence starts with."""
    out = ""
    for op, av in items:
        if op is not _c.LITERAL:
            break
        out += chr(av)
    return out


def _factors(items) -> set[str] | None:
    """Strings one of which is inside every match of `items` (the best such set), or None."""
    candidates: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append({run})
            if op is _c.BRANCH:
                # `re` moves a prefix the alternatives share out in front ("versus|vs" is
                # "v(?:ersus|s)"): the prefix with each alternative's own start is a better test.
                candidates.append({run + _leading(b) for b in av[1]})
            run = ""
        f = None
        if op is _c.SUBPATTERN:
            f = _factors(av[-1])
        elif op is _c.BRANCH:
            parts = [_factors(b) for b in av[1]]
            if all(parts):
                f = set().union(*parts)
        elif op in _REPEATS and av[0] >= 1:
            f = _factors(av[2])
        elif op is _c.IN:
            f = _literal_set(av)
        if f:
            candidates.append(f)
    if run:
        candidates.append({run})
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))


def necessary_factors(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
    """Lowercase strings one of which is in every match of `pattern` (lowercased), with none
    that holds another (`in` the shorter suffices); None when the pattern allows no such test."""
    found = _factors(_parser.parse(pattern, flags))
    if not found:
        return None
    low = sorted({f.lower() for f in found}, key=len)
    keep: list[str] = []
    for f in low:
        if not any(k in f for k in keep):
            keep.append(f)
    return tuple(keep)


class EndCue:
    """A regex anchored at the end of its window (`…\\s*$`) and the words it can end on."""

    __slots__ = ("ends", "regex")

    def __init__(self, pattern: str, flags: int = re.IGNORECASE) -> None:
        self.regex = re.compile(pattern, flags)
        # "" ends every string: a pattern too loose for a test is tried on every window.
        self.ends = final_literals(pattern, flags) or ("",)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match | None:
        # Lowercasing only the last few characters is enough: every end word is short.
        # (The same expression as `tail`, written out: this runs for every number.)
        if not text[pos:endpos].rstrip()[-16:].lower().endswith(self.ends):
            return None
        return self.regex.search(text, pos, endpos)

    def may_end(self, window_tail: str) -> bool:
        """The word test alone, on `tail(window)`: False when the regex cannot match the window.

        One tail serves every cue whose window ends at the same place, even a shorter window:
        the tail of a longer one ends with the same characters, so the test never says False
        where the window's own tail would say True (the regex still decides)."""
        return window_tail.endswith(self.ends)


def tail(window: str) -> str:
    """What `EndCue` tests of a window: its last 16 characters but trailing blanks, lowercased."""
    return window.rstrip()[-16:].lower()


class StemCue:
    """A regex searched for anywhere in a window, and the lowercase stems any match contains."""

    __slots__ = ("regex", "stems")

    def __init__(self, pattern: str, flags: int = re.IGNORECASE) -> None:
        self.regex = re.compile(pattern, flags)
        # "" is in every string: a pattern too loose for a test is tried on every window.
        self.stems = necessary_factors(pattern, flags) or ("",)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match | None:
        if not may_contain(text[pos:endpos].lower(), self.stems):
            return None
        return self.regex.search(text, pos, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize):
        if not may_contain(text[pos:endpos].lower(), self.stems):
            return iter(())
        return self.regex.finditer(text, pos, endpos)


def may_contain(low: str, stems: tuple[str, ...]) -> bool:
    for s in stems:
        if s in low:
            return True
    return False
