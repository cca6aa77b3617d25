"""HTML → text (placeholder until the lxml reader lands)."""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]+>")


def strip_html(s: str) -> str:
    return _TAG.sub(" ", s or "")


def html_text(html: str) -> str:
    return strip_html(html)
