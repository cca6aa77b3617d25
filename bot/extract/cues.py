"""Cue regexes with a cheap necessary test in front, for the windows next to every number.

A regex searched for at the end of the text before a number ("up 88%": `\\bup\\s+$`) is
tried by `re` at every position of its window, and with IGNORECASE and fifty
alternatives that is about 10 µs per number. But such a cue can only match a window
that ends on one of a few words, and `str.endswith` tells that in well under a
microsecond. Likewise a cue searched for anywhere in a window needs one of its
stems to be in the lowercased window, which one `in` per stem tells (`str` search is
C code and does no case folding). The regex still decides: the test only skips the
windows it cannot match, so results are the same as the regex alone.

Keep each list complete when a pattern changes: a word missing from `ends` or `stems`
makes the cue miss. `tests/test_extract_cues.py` checks every alternative.
"""

from __future__ import annotations

import re
import sys


class EndCue:
    """A regex anchored at the end of its window (`…\\s*$`) and the words it can end on."""

    __slots__ = ("ends", "regex")

    def __init__(self, pattern: str, ends: tuple[str, ...], flags: int = re.IGNORECASE) -> None:
        self.regex = re.compile(pattern, flags)
        self.ends = tuple(e.lower() for e in ends)

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

    def __init__(self, pattern: str, stems: tuple[str, ...], flags: int = re.IGNORECASE) -> None:
        self.regex = re.compile(pattern, flags)
        self.stems = tuple(s.lower() for s in stems)

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
