"""Where the extractor's time goes: milliseconds per 5 KB document for each stage of a text.

    python benchmarks/extract_stages.py [--docs N] [--repeat K]

Runs the stages of `bot.extract.document.figures_of` one by one over the benchmark's 5 KB
pieces (benchmarks/extraction.py) and prints the CPU time of each per document: tables,
the number scan, sentence splitting, period phrases near numbers, the reporting period
(the text's own, read from its head), headings (Sections), narrative binding
(sentence_figures) and the final fill and dedupe. The best of K runs is printed (the
machine is shared: the minimum is the least disturbed).

The stages are called here as `figures_of` calls them; every document's figures are
compared with `figures_of`'s, and the script stops with an error when they differ, so a
change to `figures_of` that this copy misses cannot go unnoticed.
"""

from __future__ import annotations

import argparse
import sys
import time
from bisect import bisect_left
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.extraction import DEFAULT_DIR, five_kb_docs
from bot.extract import document, tables
from bot.extract.context import DocContext, GuidanceThread, Sections, document_period
from bot.extract.narrative import sentence_figures
from bot.extract.numbers import find_quantities
from bot.extract.periods import find_periods
from bot.extract.sentences import split
from bot.fiscal import DELL

STAGES = ("reporting period", "tables", "numbers", "sentences", "periods", "headings", "narrative",
          "fill + dedupe")


def timed_figures(text, published, calendar, spent: dict[str, float]) -> list:
    """`document.figures_of`, stage by stage, adding each stage's CPU seconds to `spent`."""
    clock = time.process_time
    t0 = clock()
    found_tables = tables.find_tables(text, DocContext(published=published, calendar=calendar))
    skip = [(t.start, t.end) for t in found_tables]
    t1 = clock()
    quantities = find_quantities(text, skip)
    starts = [q.start for q in quantities]
    t2 = clock()
    spans = split(text)
    t3 = clock()
    periods = find_periods(text, calendar, document._windows(quantities, spans, starts))
    pstarts = [p.start for p in periods]
    t4 = clock()
    default = document_period(text, document._with_head(text, calendar, periods), published, calendar)
    ctx = DocContext(published=published, calendar=calendar, default=default)
    t5 = clock()
    spent["tables"] += t1 - t0
    spent["numbers"] += t2 - t1
    spent["sentences"] += t3 - t2
    spent["periods"] += t4 - t3
    spent["reporting period"] += t5 - t4
    sections = Sections()
    thread = GuidanceThread(ctx)
    out = []
    for s, e in spans:
        if skip and document._inside(s, skip) and document._inside(e - 1, skip):
            continue
        a = clock()
        sentence = text[s:e]
        is_heading = sections.update(sentence)
        if is_heading:
            thread.heading(text, s, e, sections.guidance)
            sections.after(sentence)
            spent["headings"] += clock() - a
            continue
        i, j = bisect_left(starts, s), bisect_left(starts, e)
        b = clock()
        if i < j:
            sctx = document._year_section(ctx) if sections.full_year else ctx
            for ps_, pe_, qi, qj in document._pieces(s, e, i, j, starts):
                ps = periods[bisect_left(pstarts, ps_ - 40) : bisect_left(pstarts, pe_ + 40)]
                found = sentence_figures(text, (ps_, pe_), quantities[qi:qj], ps, sctx,
                                         sections.segment, sections.guidance)
                out.extend(thread.carry(text, ps_, found))
        thread.after(text, s, e, periods[bisect_left(pstarts, s) : bisect_left(pstarts, e)])
        c = clock()
        sections.after(sentence)
        spent["headings"] += (b - a) + (clock() - c)
        spent["narrative"] += c - b
    t6 = clock()
    figs = document._fill_open_periods(out, default, ctx)
    figs.extend(tables.table_figures(text, found_tables, ctx))
    figs = document.dedupe([document._at_period_end(document._expected(f, ctx)) for f in figs])
    spent["fill + dedupe"] += clock() - t6
    return figs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    docs = five_kb_docs(DEFAULT_DIR, args.docs)
    for text, published in docs:
        if timed_figures(text, published, DELL, dict.fromkeys(STAGES, 0.0)) != \
                document.figures_of(text, published, DELL):
            print("extract_stages.py no longer matches bot.extract.document.figures_of: update it",
                  file=sys.stderr)
            return 1
    best = dict.fromkeys(STAGES, float("inf"))
    for _ in range(args.repeat):
        spent = dict.fromkeys(STAGES, 0.0)
        for text, published in docs:
            timed_figures(text, published, DELL, spent)
        best = {k: min(best[k], spent[k]) for k in STAGES}
    total = sum(best.values())
    for k in STAGES:
        print(f"{k:<17} {best[k] * 1000 / len(docs):6.3f} ms/doc  {best[k] / total:4.0%}")
    print(f"{'total':<17} {total * 1000 / len(docs):6.3f} ms/doc  "
          f"({len(docs)} docs, best of {args.repeat}, CPU time; the clock reads add a little)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
