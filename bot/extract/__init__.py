"""The figure extractor: text about Dell's results → `bot.figures.Figure` values.

    from bot.extract import extract
    figures = extract(text, published=date(2026, 6, 6))

`extract(text, *, published=None, calendar=DELL, html=False) -> list[Figure]`
    Pure: no I/O, no network, no state. Bad input (empty, over `MAX_CHARS`,
    binary junk, another language, numbers with no metric) gives [] and never
    raises. `published` anchors relative periods ("Q1", "this quarter"); without
    it a period without an explicit year is None.

Spans. `Figure.span` is (start, end) of `Figure.evidence` in the text that was
read: the input string itself for plain text; for `html=True` it is the text
derived from the HTML by `html_text(html)` (paragraphs and list items one per
line, each table row one line with its cells joined by " | "). Use
`extract_html(html, ...) -> (text, figures)` to get that text together with the
figures; `html_text` is deterministic, so calling it again gives the same text.

Also: `read_corpus_doc(raw) -> (fields, body)` for the corpus document format
(`published` parsed to a date), and `strip_html(snippet) -> str` for feed
summaries that arrive as HTML fragments.

How a text is read (one module each):
- numbers: amounts, percents, basis points, ranges, plus-or-minus, hedges, signs;
- periods: period phrases, resolved on the fiscal calendar and the publication date;
- phrases / vocab: metric phrases (a word trie) and the cue words around a number
  (guidance, estimates, changes, comparisons, market sizes, prices); cues: a cheap
  word test in front of each cue regex (the regex still decides);
- sentences: sentence and clause boundaries, as offsets;
- context: the period a results text reports, and headings (segment, guidance,
  full-year) that scope the lines below them;
- narrative: binding each number of a sentence to its metric, basis, accounting
  and segment; filters: numbers that are not figures (changes, traps, estimates,
  other companies); comparisons: prior-period values; placement: which period
  phrase of a sentence a figure belongs to;
- tables: tables in text (pipe rows, HTML rows, flattened dumps) read by column;
- html: HTML → text; corpus: the corpus document format;
- document: one pass over a text, then filling unplaced periods and deduplication;
- score: the corpus scoring rule (used by benchmarks/extraction.py and the tests).

Confidence: 0.9 for a figure bound by its own words with an explicit period, less
for weak phrases ("backlog", "AI servers"), hedged values, inferred or unknown
periods (−0.05/−0.1), table figures read from flattened text (0.75; 0.85 from
pipe or HTML rows) and comparisons (0.75).
"""

from __future__ import annotations

from datetime import date

from bot.extract.corpus import read_corpus_doc
from bot.extract.document import figures_of
from bot.extract.html import html_text, strip_html
from bot.figures import Figure
from bot.fiscal import DELL, FiscalCalendar

# Longer inputs are refused: a news item or an earnings release is well under this,
# and a cap keeps the cost of one bad item bounded.
MAX_CHARS = 2_000_000
MAX_HTML_CHARS = 8_000_000

__all__ = ["MAX_CHARS", "extract", "extract_html", "html_text", "read_corpus_doc", "strip_html"]


def extract(
    text: str,
    *,
    published: date | None = None,
    calendar: FiscalCalendar = DELL,
    html: bool = False,
) -> list[Figure]:
    """The figures `text` states (see the package docstring for spans with `html=True`)."""
    if html:
        return extract_html(text, published=published, calendar=calendar)[1]
    if not isinstance(text, str) or not text or len(text) > MAX_CHARS:
        return []
    try:
        return figures_of(text, published, calendar)
    except Exception:  # noqa: BLE001 — the contract is "never raises"
        # A pipeline stage must survive any one item: an input this code did not foresee
        # yields no figures rather than stopping the run (house style, rule 5). Tests
        # call `figures_of` directly too, so a bug still fails them loudly.
        return []


def extract_html(
    html: str, *, published: date | None = None, calendar: FiscalCalendar = DELL
) -> tuple[str, list[Figure]]:
    """The text derived from `html` and the figures in it (spans index that text)."""
    if not isinstance(html, str) or not html or len(html) > MAX_HTML_CHARS:
        return "", []
    try:
        text = html_text(html)
    except Exception:  # noqa: BLE001 — the contract is "never raises" (see extract)
        return "", []
    return text, extract(text, published=published, calendar=calendar)
