"""Score the figure extractor on a labeled corpus, held out by source, and time it.

    python benchmarks/extraction.py ../shared/corpus --config ../shared/corpus/companies.yaml
    python benchmarks/extraction.py DIR --fold 3 --verbose       # develop against fold 3
    python benchmarks/extraction.py DIR --fold 3 --show-heldout  # fold 3's own errors (see below)

DIR (default ../shared/corpus beside the repository: the real texts, which are not part
of the project; without it the benchmark says so and exits 0) holds docs/NAME.txt and
labels/NAME.json in the corpus format. The project's own texts (tests/fixtures/corpus) are
regression fixtures that mirror eight of the real ones, not a measure. `--config` is a
marketbot config whose `companies:` give the tickers, names and fiscal calendars (read
with bot.config's loader); a document's company is its header's `company:` (Dell when
absent). Figures the extractor gives to another
company than the document's are not scored against its labels (the labels hold only
the document's company's figures); their count is printed.

Scores follow the corpus README's rule (bot.extract.score): precision (restatements at
another rounding left out of its denominator), R (without comparative and table
labels), R_all and F1, per metric.

Held out by source (printed first). The documents are grouped by the source of their
words (`bot.extract.corpus.source_group`: the wire a site reprints, the outlet, Dell's
own releases, the seed analyses, one group per peer company) and the groups are dealt
into `--folds` folds (default 6) of about equal label counts, largest group first into
the lightest fold (`make_folds`; `--list-folds` prints them). Fold K's score is the
score on its documents of an extractor developed on the other folds. The discipline:
- while developing, look only at the errors of the training folds: `--fold K --verbose`
  prints every false positive and miss of the documents outside fold K, never fold K's;
- fold K's own errors are printed only when asked (`--fold K --show-heldout`), which
  spends that fold: it is no longer held out for the next change;
- a rule is kept only when the held-out scores improve; a fitted weight or threshold
  (none today: the decisions are hand-set rules) is fitted on the other folds only;
- the pooled held-out score sums the folds' held-out counts. With hand-set rules and
  nothing fitted it equals the whole-corpus score; the per-fold rows show its spread.

Then the whole corpus per metric, and throughput on one core over N documents of about
5 KB cut from the corpus texts (`--docs`, 0 to skip), and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import CompanyConfig, load_config
from bot.errors import ConfigError
from bot.extract import extract, read_corpus_doc
from bot.extract.corpus import make_folds, source_group
from bot.extract.score import DocScore, Tally, combine, score_doc

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DOC_SIZE = 5_000
# The sources the extractor was first written on (Dell's releases and the seed analyses,
# once copied into tests/fixtures/corpus): their folds' scores were never held out.
BUILT_ON = ("dell", "seed")


@dataclass
class Doc:
    name: str
    fields: dict
    body: str
    labels: list[dict]
    company: str
    group: str


def load(corpus: Path) -> list[Doc]:
    out = []
    for path in sorted((corpus / "docs").glob("*.txt")):
        fields, body = read_corpus_doc(path.read_text(encoding="utf-8"))
        label_file = corpus / "labels" / f"{path.stem}.json"
        labels = json.loads(label_file.read_text())["figures"] if label_file.exists() else []
        company = (fields.get("company") or "DELL").upper()
        out.append(Doc(path.stem, fields, body, labels, company, source_group(path.stem, company)))
    return out


def companies_of(config: Path | None) -> dict[str, CompanyConfig]:
    if config is None:
        return {"DELL": CompanyConfig()}
    return {c.ticker: c for c in load_config(config).all_companies}


def predict(doc: Doc, companies: dict[str, CompanyConfig]) -> tuple[list[dict], int]:
    """The document's company's figures as dicts, and how many went to other companies."""
    company = companies.get(doc.company)
    if company is None:
        raise SystemExit(f"{doc.name}: company {doc.company} is not in the config (--config)")
    figs = extract(doc.body, published=doc.fields.get("published"), calendar=company.calendar)
    own = [f.to_dict() for f in figs if getattr(f, "company", None) in (None, doc.company)]
    return own, len(figs) - len(own)


def score(docs: list[Doc], companies: dict[str, CompanyConfig]) -> tuple[dict[str, DocScore], int]:
    scores, others = {}, 0
    for d in docs:
        preds, n_other = predict(d, companies)
        others += n_other
        scores[d.name] = score_doc(d.name, preds, d.labels)
    return scores, others


# --- printing ----------------------------------------------------------------------------------

def _fmt_row(name: str, t: Tally) -> str:
    return (f"{name:<28} {t.predicted:>5} {t.matched:>5} {t.excused:>5} {t.labels:>5} "
            f"{t.precision:>7.3f} {t.recall:>7.3f} {t.recall_all:>7.3f} {t.f1:>7.3f}")


def metric_table(scores: list[DocScore], title: str) -> Tally:
    total, by_metric = combine(scores)
    print(f"{title}\n{'metric':<28} {'pred':>5} {'match':>5} {'excus':>5} {'label':>5} "
          f"{'P':>7} {'R':>7} {'R_all':>7} {'F1':>7}")
    for m in sorted(by_metric):
        print(_fmt_row(m, by_metric[m]))
    print(_fmt_row("OVERALL", total))
    print(f"precision {total.precision:.3f}  R {total.recall:.3f}  R_all {total.recall_all:.3f}  "
          f"F1 {total.f1:.3f}   (F1 uses precision and R_all; restatements excused from "
          "precision)\n")
    return total


def fold_tables(docs: list[Doc], folds: list[list[str]], scores: dict[str, DocScore]) -> None:
    fold_of = {g: i for i, f in enumerate(folds) for g in f}
    per_fold: list[list[DocScore]] = [[] for _ in folds]
    for d in docs:
        per_fold[fold_of[d.group]].append(scores[d.name])
    print(f"HELD OUT BY SOURCE: {len(folds)} folds of whole sources; each fold scored as held out "
          "(nothing is fitted: pooled = whole corpus)")
    print(f"{'fold':<6} {'docs':>4} {'labels':>6} {'P':>7} {'R':>7} {'R_all':>7}  sources")
    for i, fs in enumerate(per_fold):
        t, _ = combine(fs)
        seen = [g for g in folds[i] if g in BUILT_ON]
        note = f"  (written on {', '.join(seen)}: not held out)" if seen else ""
        print(f"{i:<6} {len(fs):>4} {t.labels:>6} {t.precision:>7.3f} {t.recall:>7.3f} "
              f"{t.recall_all:>7.3f}  {', '.join(folds[i])}{note}")
    metrics = sorted({m for d in scores.values() for m in d.by_metric})
    print(f"\nper metric and fold (P/R):\n{'metric':<28}"
          + "".join(f"{i:>12}" for i in range(len(folds))))
    for m in metrics:
        cells = []
        for fs in per_fold:
            t = Tally()
            for d in fs:
                if m in d.by_metric:
                    t.add(d.by_metric[m])
            cells.append(f"{t.precision:.2f}/{t.recall:.2f}" if t.predicted or t.labels else "-")
        print(f"{m:<28}" + "".join(f"{c:>12}" for c in cells))
    print()
    metric_table([s for fs in per_fold for s in fs], "POOLED HELD-OUT, per metric")


def errors(ds: DocScore, tag: str = "") -> None:
    for f in ds.false_positives:
        print(f"{tag}FP   {ds.name}: {f['metric']} {f['basis']} {f['value']:g} {f['unit']} "
              f"{f['period']} conf={f['confidence']} | {f['evidence']!r}")
    for f in ds.misses:
        flags = "".join(k[0].upper() for k in ("comparative", "table") if f.get(k))
        print(f"{tag}MISS {ds.name}: {f['metric']} {f['basis']} {f['value']:g} {f['unit']} "
              f"{f['period']} {flags} | {f['evidence']!r}")


# --- throughput --------------------------------------------------------------------------------

def five_kb_docs(docs: list[Doc] | Path, n: int) -> list[tuple[str, object]]:
    """n documents of about 5 KB, cut at spaces from the corpus texts read one after another
    (`docs`: loaded documents, or a corpus directory to load).

    Each piece keeps the publication date of the text it starts in, so relative periods
    resolve as they would in the pipeline.
    """
    if isinstance(docs, Path):
        docs = load(docs)
    pieces = []
    chunk, published = "", None
    for d in docs:
        if not chunk:
            published = d.fields.get("published")
        rest = d.body
        while rest:
            need = DOC_SIZE - len(chunk)
            if len(rest) <= need:
                chunk += rest
                break
            cut = rest.rfind(" ", 0, need) + 1 or need
            pieces.append((chunk + rest[:cut], published))
            chunk, rest, published = "", rest[cut:], d.fields.get("published")
        chunk += "\n\n"
    if chunk.strip():
        pieces.append((chunk, published))
    return [pieces[i % len(pieces)] for i in range(n)]


def throughput(docs: list[Doc], n: int, run: Callable = extract) -> None:
    pieces = five_kb_docs(docs, n)
    size = sum(len(t.encode("utf-8")) for t, _ in pieces)
    for t, p in pieces[:50]:
        run(t, published=p)  # warm caches (fiscal calendar, regex)
    t0 = time.process_time()
    nfig = sum(len(run(t, published=p)) for t, p in pieces)
    dt = time.process_time() - t0
    print(f"throughput: {n} docs, {size / 1e6:.2f} MB (mean {size / n / 1e3:.1f} KB) in "
          f"{dt:.2f} s CPU on one core: {n / dt:,.0f} docs/s, {size / 1e6 / dt:.2f} MB/s "
          f"({nfig} figures)")
    tracemalloc.start()
    for t, p in pieces[:200]:
        run(t, published=p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    big = "\n".join(t for t, _ in pieces)[:1_000_000]
    tracemalloc.start()
    run(big)
    _, peak_big = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: peak traced {peak / 1e6:.2f} MB over 200 docs of 5 KB, "
          f"{peak_big / 1e6:.1f} MB for one 1 MB text; process max RSS {rss:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--config", type=Path, help="marketbot config with the companies (calendars); "
                    "default: DIR/companies.yaml when there is one")
    ap.add_argument("--folds", type=int, default=6, help="number of source folds")
    ap.add_argument("--list-folds", action="store_true",
                    help="print each fold's documents and stop")
    ap.add_argument("--fold", type=int, help="the fold held out while developing")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="with --fold K: the errors of the documents outside fold K")
    ap.add_argument("--show-heldout", action="store_true",
                    help="with --fold K: also fold K's own errors (spends the fold)")
    ap.add_argument("--docs", type=int, default=3000,
                    help="documents for the throughput run (0: none)")
    args = ap.parse_args(argv)
    if (args.verbose or args.show_heldout) and args.fold is None:
        ap.error("--verbose and --show-heldout need --fold K: the errors of the training folds are "
                 "printed, the held-out fold's only when asked (see the docstring)")
    if args.dir == DEFAULT_DIR and not (args.dir / "docs").is_dir():
        print(f"skipped: {DEFAULT_DIR} (the real texts, kept beside the clone) is absent; "
              "pass a labeled directory")
        return 0
    if args.config is None and (args.dir / "companies.yaml").is_file():
        args.config = args.dir / "companies.yaml"  # a corpus's own calendars, as in ../shared/corpus
    try:
        companies = companies_of(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    docs = load(args.dir)
    if not docs:
        print(f"{args.dir}: no documents in {args.dir / 'docs'}", file=sys.stderr)
        return 2
    groups: dict[str, int] = {}
    for d in docs:
        groups[d.group] = groups.get(d.group, 0) + len(d.labels)
    k = max(1, min(args.folds, len(groups)))
    folds = make_folds(groups, k)
    fold_of = {g: i for i, f in enumerate(folds) for g in f}
    if args.fold is not None and not 0 <= args.fold < k:
        ap.error(f"--fold must be 0..{k - 1}")
    if args.list_folds:
        for i in range(k):
            for d in docs:
                if fold_of[d.group] == i:
                    print(f"{i} {d.group:<16} {len(d.labels):>3} {d.name}")
        return 0
    scores, others = score(docs, companies)
    fold_tables(docs, folds, scores)
    metric_table(list(scores.values()), f"WHOLE CORPUS ({len(docs)} texts), per metric")
    if others:
        print(f"({others} figures given to another company than their text's were not scored)\n")
    if args.fold is not None:
        print(f"developing against fold {args.fold} held out ({', '.join(folds[args.fold])})")
        for d in docs:
            held = fold_of[d.group] == args.fold
            if (held and args.show_heldout) or (not held and args.verbose):
                errors(scores[d.name], "HELD-OUT " if held else "")
        print()
    if args.docs:
        throughput(docs, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
