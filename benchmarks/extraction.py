"""Score the figure extractor on a labeled corpus directory, and time it.

    python benchmarks/extraction.py [DIR] [--verbose] [--docs N]

DIR (default ../shared/corpus beside the repository: the real texts, which are not part of
the project) holds docs/NAME.txt and labels/NAME.json in the corpus format; the project's own
texts, tests/fixtures/corpus, are a regression fixture, not a measure. Without DIR and without
../shared/corpus the benchmark says so and exits 0. Prints precision, R (without comparative and table labels), R_all and
F1, overall and per metric, with the corpus README's scoring rule (bot.extract.score:
restatements at another rounding are left out of precision's denominator); with
--verbose, every false positive and miss with its evidence. Then throughput on one
core over N documents of about 5 KB cut from the corpus texts, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.extract import extract, read_corpus_doc
from bot.extract.score import DocScore, combine, score_doc

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DOC_SIZE = 5_000


def load(corpus: Path) -> list[tuple[str, dict, str, list[dict]]]:
    out = []
    for doc in sorted((corpus / "docs").glob("*.txt")):
        fields, body = read_corpus_doc(doc.read_text(encoding="utf-8"))
        label_file = corpus / "labels" / f"{doc.stem}.json"
        labels = json.loads(label_file.read_text())["figures"] if label_file.exists() else []
        out.append((doc.stem, fields, body, labels))
    return out


def score(corpus: Path) -> tuple[list[DocScore], int]:
    scores, nfig = [], 0
    for name, fields, body, labels in load(corpus):
        preds = [f.to_dict() for f in extract(body, published=fields.get("published"))]
        nfig += len(preds)
        scores.append(score_doc(name, preds, labels))
    return scores, nfig


def _fmt_row(name: str, t) -> str:
    return (f"{name:<28} {t.predicted:>5} {t.matched:>5} {t.excused:>5} {t.labels:>5} "
            f"{t.precision:>7.3f} {t.recall:>7.3f} {t.recall_all:>7.3f} {t.f1:>7.3f}")


def report_scores(scores: list[DocScore], verbose: bool) -> None:
    total, by_metric = combine(scores)
    print(f"{'metric':<28} {'pred':>5} {'match':>5} {'excus':>5} {'label':>5} "
          f"{'P':>7} {'R':>7} {'R_all':>7} {'F1':>7}")
    for m in sorted(by_metric):
        print(_fmt_row(m, by_metric[m]))
    print(_fmt_row("OVERALL", total))
    print(f"\nprecision {total.precision:.3f}  R {total.recall:.3f}  R_all {total.recall_all:.3f}  "
          f"F1 {total.f1:.3f}   (F1 uses precision and R_all; restatements excused from precision)")
    if verbose:
        for d in scores:
            for f in d.false_positives:
                print(f"FP   {d.name}: {f['metric']} {f['basis']} {f['value']:g} {f['unit']} "
                      f"{f['period']} conf={f['confidence']} | {f['evidence']!r}")
            for f in d.misses:
                flags = "".join(k[0].upper() for k in ("comparative", "table") if f.get(k))
                print(f"MISS {d.name}: {f['metric']} {f['basis']} {f['value']:g} {f['unit']} "
                      f"{f['period']} {flags} | {f['evidence']!r}")


def five_kb_docs(corpus: Path, n: int) -> list[tuple[str, object]]:
    """n documents of about 5 KB, cut at spaces from the corpus texts read one after another.

    Each piece keeps the publication date of the text it starts in, so relative periods
    resolve as they would in the pipeline.
    """
    pieces = []
    chunk, published = "", None
    for _, fields, body, _ in load(corpus):
        if not chunk:
            published = fields.get("published")
        rest = body
        while rest:
            need = DOC_SIZE - len(chunk)
            if len(rest) <= need:
                chunk += rest
                break
            cut = rest.rfind(" ", 0, need) + 1 or need
            pieces.append((chunk + rest[:cut], published))
            chunk, rest, published = "", rest[cut:], fields.get("published")
        chunk += "\n\n"
    if chunk.strip():
        pieces.append((chunk, published))
    return [pieces[i % len(pieces)] for i in range(n)]


def throughput(corpus: Path, n: int) -> None:
    docs = five_kb_docs(corpus, n)
    size = sum(len(t.encode("utf-8")) for t, _ in docs)
    for t, p in docs[:50]:
        extract(t, published=p)  # warm caches (fiscal calendar, regex)
    t0 = time.process_time()
    nfig = sum(len(extract(t, published=p)) for t, p in docs)
    dt = time.process_time() - t0
    print(f"\nthroughput: {n} docs, {size / 1e6:.2f} MB (mean {size / n / 1e3:.1f} KB) in {dt:.2f} s CPU "
          f"on one core: {n / dt:,.0f} docs/s, {size / 1e6 / dt:.2f} MB/s ({nfig} figures)")
    tracemalloc.start()
    for t, p in docs[:200]:
        extract(t, published=p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    big = "\n".join(t for t, _ in docs)[:1_000_000]
    tracemalloc.start()
    extract(big)
    _, peak_big = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: peak traced {peak / 1e6:.2f} MB over 200 docs of 5 KB, "
          f"{peak_big / 1e6:.1f} MB for one 1 MB text; process max RSS {rss:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--docs", type=int, default=3000, help="documents for the throughput run")
    args = ap.parse_args(argv)
    if not (args.dir / "docs").is_dir():
        if args.dir != DEFAULT_DIR:
            ap.error(f"{args.dir}: no docs/ folder of labeled texts")
        print(f"skipped: {DEFAULT_DIR} is absent (the real texts sit beside the clone; "
              "or pass a labeled directory)")
        return 0
    scores, _ = score(args.dir)
    report_scores(scores, args.verbose)
    if args.docs:
        throughput(args.dir, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
