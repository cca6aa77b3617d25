"""The corpus document format: `key: value` header lines, a `---` line, then the text."""

from __future__ import annotations

import re
from datetime import date


def read_corpus_doc(raw: str) -> tuple[dict, str]:
    """Split a corpus document into its header fields and its body.

    `published` becomes a `date` (None when absent or "unknown"); other fields stay
    strings. A text without a `---` line is all body, with an empty header.
    """
    head, sep, body = raw.partition("\n---\n")
    if not sep:
        if raw.startswith("---\n"):
            return {}, raw[4:]
        return {}, raw
    fields: dict = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() and " " not in key.strip():
            fields[key.strip()] = value.strip()
    fields["published"] = _date(fields.get("published"))
    return fields, body


def _date(s: str | None) -> date | None:
    try:
        return date.fromisoformat(s) if s else None
    except ValueError:
        return None


# --- sources and folds (benchmarks/extraction.py, tests) -------------------------------------

_NAME = re.compile(
    r"^(?:undated_|\d{4}-\d{2}-\d{2}_|(?P<seed>seed)-\d+-)(?P<outlet>.*?)-?(?P<ticker>[a-z]{2,6})-"
    r"(?:q[1-4])?fy\d{2}-"
)


def source_group(name: str, company: str = "DELL") -> str:
    """The source a corpus document belongs to, for holding out whole sources at a time.

    A peer's texts are one group per company ("HPE"): their language (calendar, segment
    names) is the company's. A Dell text's group is the writer of its words: the wire a
    site reprints ("nbcchicago-cnbc" and "supernews-cnbc" are both "cnbc"), the outlet
    when it writes its own ("tariffsentiment"), "dell" for Dell's own releases and "seed"
    for the seed analyses.
    """
    if company.upper() != "DELL":
        return company.upper()
    m = _NAME.match(name)
    if m is None:
        return name
    if m["seed"]:
        return "seed"
    outlet = m["outlet"]
    return outlet.rsplit("-", 1)[-1] if outlet else m["ticker"]


def make_folds(groups: dict[str, int], k: int) -> list[list[str]]:
    """Whole groups into k folds of about equal label counts, deterministically.

    Largest group first (ties by name), each into the fold with the fewest labels so far
    (ties: the lowest fold number). `groups` maps a group to its number of labels.
    """
    folds: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for g in sorted(groups, key=lambda g: (-groups[g], g)):
        i = min(range(k), key=lambda i: (sizes[i], i))
        folds[i].append(g)
        sizes[i] += groups[g]
    return [sorted(f) for f in folds]
