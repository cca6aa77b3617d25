"""The corpus document format: `key: value` header lines, a `---` line, then the text."""

from __future__ import annotations

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
