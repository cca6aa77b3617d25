"""Find metric phrases by words, not by one big regex.

Python's `re` tries every alternative of an alternation at every position, so a
regex of fifty phrases costs about a microsecond per character. Here the text is
cut into words once (one cheap regex), and phrases are looked up in a word trie,
longest match first: a few dictionary lookups per word.

The phrases are data: bot/extract/data/metrics.yaml, one word spec per phrase (`a|b`
alternatives, a trailing `?` for an optional slot, `_` joining words inside one alternative,
`{name}` a group: see knowledge.py), with the segment names of companies.yaml.
"""

from __future__ import annotations

import re
from itertools import compress

from bot.extract.knowledge import KNOWLEDGE as _K
from bot.extract.knowledge import spec_sequences
from bot.extract.vocab import Phrase

_END = ""  # trie key of a phrase's end


def _phrase(entry) -> Phrase:
    return Phrase(entry.metric, entry.unit, generic=entry.generic, weak=entry.weak, needs_ai=entry.needs_ai,
                  post_only=entry.post_only, accounting=entry.accounting, margin_of=entry.margin_of,
                  pre_only=entry.pre_only, segment_only=entry.segment_only, negative=entry.negative)


def _build() -> dict:
    """The word trie of every phrase of metrics.yaml (the first entry that spells a sequence wins)."""
    groups = {**_K.metrics.groups, **_K.segment_groups()}
    trie: dict = {}
    for entry in _K.metrics.phrases:
        phrase = _phrase(entry)
        for words in spec_sequences(entry.words, groups):
            node = trie
            for w in words:
                node = node.setdefault(w, {})
            node.setdefault(_END, phrase)
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
