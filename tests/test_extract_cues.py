"""Fast forms of the extractor's regexes give the same answers as the readable ones.

The speed-ups in cues.py (a word or stem test before a cue regex), sentences.py (clause
boundaries scanned from one character class), periods.py (a lowercased text scanned
case-sensitively) and vocab.py (other companies' names scanned without the leading word
boundary) must never change a result. Each is checked here against its plain regex on
phrases built from the regex's own words, so a word added to a pattern but not to its
list fails here.
"""

import json
import random
import re
from pathlib import Path

import pytest

from bot.extract import filters, narrative, numbers, periods, phrases, sentences, vocab
from bot.extract.cues import EndCue, StemCue

FIX = Path(__file__).parent / "fixtures"
TEXTS = [c["text"] for c in json.loads((FIX / "extract" / "sentences.json").read_text())["cases"]] + [
    p.read_text(encoding="utf-8") for p in sorted((FIX / "corpus" / "docs").glob("*.txt"))
]

END_CUES = {
    "CHANGE_BEFORE_RE": vocab.CHANGE_BEFORE_RE,
    "LEVEL_BEFORE_RE": vocab.LEVEL_BEFORE_RE,
    "COMPARE_BEFORE_RE": vocab.COMPARE_BEFORE_RE,
    "NOT_FIGURE_BEFORE_RE": vocab.NOT_FIGURE_BEFORE_RE,
    "filters._VS_END": filters._VS_END,
    "numbers._HEDGE_BEFORE": numbers._HEDGE_BEFORE,
    "numbers._BETWEEN": numbers._BETWEEN,
    "numbers._NEGATIVE": numbers._NEGATIVE,
    "narrative._MID_OF": narrative._MID_OF,
    "narrative._COMPANY_LEVEL": narrative._COMPANY_LEVEL,
}
STEM_CUES = {"GUIDANCE_RE": vocab.GUIDANCE_RE, "narrative._PRE_BREAK": narrative._PRE_BREAK}
FILLERS = ["the", "revenue", "of", "$", "5", "a", "Dell", "-", ",", "(", "~", "≈", "'s", "’s", "x"]


def _words(pattern: str) -> list[str]:
    """The literal words of a pattern ("increased?" gives "increased" and "increase")."""
    out = set()
    for w in re.findall(r"[A-Za-z/&.'’~≈-]+\??", pattern.replace("\\s", " ").replace("\\b", " ")):
        w = w.strip(".-")
        if w.endswith("?"):
            out.update({w[:-1], w[:-2]})
        elif w:
            out.add(w)
    return sorted(x for x in out if x)


def _phrases(words: list[str], n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    pool = words * 3 + FILLERS
    out = []
    for _ in range(n):
        parts = [rnd.choice(pool) for _ in range(rnd.randint(1, 4))]
        if rnd.random() < 0.3:
            parts = [p.upper() if rnd.random() < 0.5 else p.capitalize() for p in parts]
        text = rnd.choice(["", "x ", "up ", "(", "-"]) + rnd.choice([" ", "  ", "\n", "-"]).join(parts)
        out.append(text + rnd.choice(["", " ", "  ", "\n", " \t"]))
    return out


@pytest.mark.parametrize("name", sorted(END_CUES))
def test_end_cue_matches_its_regex(name):
    cue: EndCue = END_CUES[name]
    samples = _phrases(_words(cue.regex.pattern), 4000, seed=len(name))
    samples += [t[max(0, i - 40) : i] for t in TEXTS[:80] for i in range(0, len(t), 7)]
    hits = 0
    for s in samples:
        want = cue.regex.search(s)
        got = cue.search(s)
        assert (got is None) == (want is None), (name, s)
        hits += want is not None
    assert hits > 20  # the samples do exercise the pattern


@pytest.mark.parametrize("name", sorted(STEM_CUES))
def test_stem_cue_matches_its_regex(name):
    cue: StemCue = STEM_CUES[name]
    samples = _phrases(_words(cue.regex.pattern), 4000, seed=7) + TEXTS
    for s in samples:
        assert [m.span() for m in cue.finditer(s)] == [m.span() for m in cue.regex.finditer(s)], s


def _clause_samples() -> list[str]:
    words = ["and", "we", "it", "they", "Dell", "the", "company", "but", "vs.", "vs", "versus", ";", "—", "–", "-",
             ",", "while", "whereas", "although", "though", "compared", "with", "to", "against", "after", "before",
             "despite", "sand", "é", "_", "3"]
    rnd = random.Random(3)
    return [
        "".join(rnd.choice(words) + rnd.choice(["", " ", " ", "  ", "\t"]) for _ in range(rnd.randint(1, 12)))
        for _ in range(5000)
    ] + TEXTS


@pytest.mark.parametrize(
    "plain,scan",
    [(sentences.CLAUSE_RE, sentences._CLAUSE_SCAN), (sentences.SUBJECT_CLAUSE_RE, sentences._SUBJECT_CLAUSE_SCAN)],
)
def test_clause_scan_matches_clause_regex(plain, scan):
    for t in _clause_samples():
        for lo, hi in ((0, len(t)), (len(t) // 3, 2 * len(t) // 3)):
            assert sentences.clause_ends(scan, t, lo, hi) == [m.end() for m in plain.finditer(t, lo, hi)], t


def test_lowercase_period_scan_matches_period_regex():
    extra = ["Q2 FY26", "2QFY26", "fiscal Q1 2026", "FY26 Q3", "Nine Months Ended August 1, 2025", "first half",
             "1H", "H2", "YTD", "the last twelve months", "TTM", "calendar 2025", "CY25", "in 2024", "in-quarter",
             "the just-ended quarter", "next fiscal year", "Fiscal Year Ended January 31, 2025", "six months"]
    for t in TEXTS + extra:
        want = [(m.lastgroup, m.span()) for m in periods.PERIOD_RE.finditer(t)]
        got = [(m.lastgroup, m.span()) for m in periods.LOWER_PERIOD_RE.finditer(t.lower())]
        assert got == want, t


def test_other_company_scan_finds_every_name_first():
    names = ["Nvidia", "HPE", "Hewlett Packard Enterprise", "Super Micro", "xAI", "J.P. Morgan", "Citigroup", "IDC",
             "Bank of America", "SK Hynix"]
    for t in TEXTS + [f"As {n} said, revenue was $5 billion" for n in names] + ["NVIDIAx", "aNvidia", "the HPE3"]:
        m = vocab.OTHER_COMPANY_RE.search(t)
        if m is not None:
            assert vocab.first_other_company(t, 0, len(t)) <= m.start(), t


def _period_samples() -> list[str]:
    """Period phrases and their near misses, glued by blanks and punctuation, plus the real texts."""
    rnd = random.Random(5)
    words = ["Q2", "2Q", "q4", "1Q", "FY26", "FY 2026", "fy'25", "fiscal", "Fiscal Year", "year", "first", "1st",
             "second", "2nd", "third", "3rd", "fourth", "4th", "quarter", "Quarter", "three", "months", "Months",
             "Ended", "ending", "August", "1,", "2025", "1999", "20", "19", "half", "1H", "H2", "2h", "q1h", "YTD",
             "year-to-date", "last", "past", "trailing", "prior", "previous", "twelve", "12", "TTM", "LTM",
             "full", "full-year", "the", "this", "current", "latest", "most", "recent", "just-ended", "next",
             "coming", "upcoming", "following", "in", "in-quarter", "calendar", "CY25", "cy", "January", "May",
             "December", "nine", "six", "of", "for", "$2025", "2025%", "x2025", "-Q2", "Q5", "thee", "fiscally"]
    seps = ["", " ", " ", "  ", "-", ", ", "\n", "(", "—", "’"]
    return [
        "".join(rnd.choice(words) + rnd.choice(seps) for _ in range(rnd.randint(1, 10))) for _ in range(8000)
    ] + TEXTS


def test_period_word_starts_find_every_period_match():
    """find_periods tries LOWER_PERIOD_RE only at word starts that _STARTS finds: the same matches."""
    for t in _period_samples():
        low = t.lower()
        blanks = b" " + low.encode("ascii", "replace").translate(periods._BLANKS)
        for lo, hi in ((0, len(t)), (len(t) // 3, 2 * len(t) // 3)):
            want = [(m.lastgroup, m.span(), m.groups()) for m in periods.LOWER_PERIOD_RE.finditer(low, lo, hi)]
            got = [(m.lastgroup, m.span()) for m in periods._lower_matches(low, blanks, lo, hi)]
            assert got == [(k, s) for k, s, _ in want], t


def _plain_find_phrases(text: str, start: int, end: int) -> list:
    """find_phrases as first written: a word at a time, a break for every other word."""
    plain_word = re.compile(r"([A-Z]?[a-z]+|[A-Z]+(?![a-z])|&)")
    parts = plain_word.split(text[start:end])
    words: list = []
    pos = start + len(parts[0])
    prev_end, broken = -1, False
    for i in range(1, len(parts), 2):
        w = parts[i]
        e = pos + len(w)
        if not (w == "s" and pos > 0 and text[pos - 1] in "'’"):
            lw = "and" if w == "&" else w.lower()
            if lw in phrases.VOCABULARY:
                joined = prev_end >= 0 and pos - prev_end <= 3 and not text[prev_end:pos].strip(phrases._JOINERS)
                words.append((lw, pos, e, joined))
                broken = False
            elif not broken:
                words.append((None, 0, 0, False))
                broken = True
            prev_end = e
        pos = e + len(parts[i + 1])
    out, i, n = [], 0, len(words)
    while i < n:
        node = phrases.TRIE.get(words[i][0])
        best, j = None, i
        while node is not None:
            if "" in node:
                best = (j, node[""])
            j += 1
            if j >= n or not words[j][3]:
                break
            node = node.get(words[j][0])
        if best is None:
            i += 1
            continue
        k, phrase = best
        ps, pe = words[i][1], words[k][2]
        if pe < len(text) and text[pe] == ")" and "(" in text[ps:pe]:
            pe += 1
        out.append((ps, pe, phrase))
        i = k + 1
    return out


def test_find_phrases_equals_the_word_at_a_time_reading():
    rnd = random.Random(9)
    vocab = sorted(phrases.VOCABULARY)
    glue = [" ", " ", "-", "/", " (", ") ", "’s ", "'s ", "  ", "\n", ", ", "", "&", " & ", "—", " x ", "1"]
    samples = [
        "".join(rnd.choice([rnd.choice(vocab), rnd.choice(vocab).upper(), rnd.choice(vocab).title(), "Dell", "USD"])
                + rnd.choice(glue) for _ in range(rnd.randint(1, 14)))
        for _ in range(6000)
    ] + TEXTS + ["yearRecord ISGRevenue", "AIServer backlog", "ISG’s revenue", "non-GAAP EPS (EPS)", "R&D"]
    for t in samples:
        for lo, hi in ((0, len(t)), (len(t) // 4, 3 * len(t) // 4), (1, len(t))):
            assert phrases.find_phrases(t, lo, hi) == _plain_find_phrases(t, lo, hi), (t, lo, hi)
    for t in samples[:2000]:
        assert phrases._WORD_SPLIT.split(t) == re.split(r"([A-Z]?[a-z]+|[A-Z]+(?![a-z])|&)", t), t


def test_compare_words_hold_every_compare_cue():
    # narrative.sentence_figures reads no compare cue in an ASCII sentence without one of
    # COMPARE_WORDS: every match of COMPARE_BEFORE_RE must hold one.
    from bot.extract.comparisons import COMPARE_WORDS

    cue = vocab.COMPARE_BEFORE_RE
    samples = _phrases(_words(cue.regex.pattern), 4000, seed=11)
    samples += [t[max(0, i - 30) : i] for t in TEXTS[:80] for i in range(0, len(t), 7)]
    hits = 0
    for s in samples:
        if s.isascii() and cue.regex.search(s):
            hits += 1
            assert any(w in s.lower() for w in COMPARE_WORDS), s
    assert hits > 20


def test_estimate_hints_pass_wherever_the_estimate_regex_matches():
    # filters reads ESTIMATE_RE only when its hint test passes (which leaves out the
    # "rating" of "operating"): the test must pass wherever the regex matches.
    words = [*_words(vocab.ESTIMATE_RE.pattern), "operating", "rating", "target", "price", "buy"]
    samples = _phrases(words, 4000, seed=13) + TEXTS
    hits = 0
    for s in samples:
        if vocab.ESTIMATE_RE.search(s):
            hits += 1
            assert filters._may_cite_estimates(s), s
            assert filters.may_cite_estimates(s), s
    assert hits > 20
