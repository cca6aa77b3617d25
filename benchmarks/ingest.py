"""Ingest throughput: extract + store + analyse, items per second, each stage apart.

    python benchmarks/ingest.py [--items 2000] [--docs DIR] [--database URL] [--batch N]

Builds N article-length items (5 KB pieces of the corpus texts, each dated by the text it
comes from, each made unique so that none is a duplicate) and ingests them through the
real pipeline (bot.pipeline.Pipeline with an in-process source: no feed parsing, no
network) into a fresh database with the shipped rules (feeds.yaml), then ingests the same
items again. Prints, per stage:

    extract   text → figures (bot.extract), CPU only, outside any transaction
    store     items and figures written, what is new decided, feed state
    analyse   derive, evaluate, reconcile (bot.analysis), and its SQL statements
    total     the whole poll, and items per second

and the second ingest's new rows and alerts (0 and 0 when dedupe holds).

The stages are timed by wrapping the pipeline's extraction and evaluation calls. It runs on
older commits too (their evaluation was Pipeline._evaluate, per item), so two commits can
be compared side by side: copy this file into a checkout of the other commit and run it
there with the same arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from bot import analysis  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.config import Env, parse_config  # noqa: E402
from bot.items import Item  # noqa: E402
from bot.pipeline import Batch, Pipeline  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus" / "docs"
BUNDLED = ROOT / "tests" / "fixtures" / "corpus" / "docs"
PIECE = 5000  # characters: an article-length text
TABLES = ("item", "figure", "alert")


def pieces(docs_dir: Path, n: int) -> list[tuple[str, date | None]]:
    """n texts of about 5 KB cut at spaces from the corpus texts, each with the
    publication date of the text it comes from."""
    texts = []
    for path in sorted(docs_dir.glob("*.txt")):
        head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
        m = re.search(r"^published:\s*(\d{4}-\d{2}-\d{2})", head, re.M)
        published = date.fromisoformat(m[1]) if m else None
        while body:
            cut = body.rfind(" ", 0, PIECE) + 1 if len(body) > PIECE else len(body)
            texts.append((body[:cut or PIECE], published))
            body = body[cut or PIECE:]
    return [texts[i % len(texts)] for i in range(n)]


def items(docs_dir: Path, n: int) -> list[Item]:
    out = []
    for i, (body, day) in enumerate(pieces(docs_dir, n)):
        when = datetime(day.year, day.month, day.day, 14, tzinfo=UTC) if day else None
        out.append(Item(feed="bench", title=f"Story {i}", guid=f"bench-{i}",
                        link=f"https://news.example.com/{i}", summary=f"{body}\n\n(story {i})",
                        published=when, source_kind="company-ir" if i % 3 == 0 else "news"))
    return out


class Listed:
    """A source that hands the pipeline a fixed list of items."""

    def __init__(self, listed: list[Item]):
        self.listed = listed

    def collect(self, feed, state, unseen) -> Batch:
        return Batch(list(self.listed))


class Meter:
    """Wall time and SQL statements per stage."""

    def __init__(self):
        self.seconds = {"extract": 0.0, "analyse": 0.0}
        self.statements = {"analyse": 0, "other": 0}
        self.stage = "other"

    def wrap(self, owner, name: str, stage: str, sql_stage: str | None = None) -> None:
        real = getattr(owner, name)

        def timed(*args, **kw):
            before, t0 = self.stage, time.perf_counter()
            self.stage = sql_stage or before
            try:
                return real(*args, **kw)
            finally:
                self.seconds[stage] += time.perf_counter() - t0
                self.stage = before
        setattr(owner, name, timed)

    def count(self, *_args) -> None:
        self.statements[self.stage if self.stage in self.statements else "other"] += 1


def run(args) -> None:
    listed = items(args.docs, args.items)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'ingest.db'}"
        config = yaml.safe_load((ROOT / "feeds.yaml").read_text(encoding="utf-8"))
        config["feeds"] = [{"name": "bench", "url": "bench.xml"}]
        config.pop("alert_max_age", None)  # every item counts as new: analyse them all
        app = build_app(parse_config(yaml.safe_dump(config)), Env(database_url=url))
        meter = Meter()
        event.listen(app.engine, "before_cursor_execute", meter.count)
        pipeline = Pipeline(app, {"rss": Listed(listed)})
        if args.batch and hasattr(pipeline, "batch_items"):
            pipeline.batch_items = args.batch
        meter.wrap(pipeline, "_analyse", "extract")
        if hasattr(analysis, "evaluate"):
            meter.wrap(analysis, "evaluate", "analyse", "analyse")
        else:  # before the set-based evaluation: one call per item
            meter.wrap(pipeline, "_evaluate", "analyse", "analyse")
        feed = app.config.feeds[0]
        t0 = time.perf_counter()
        first = pipeline.poll(feed)
        total = time.perf_counter() - t0
        rows = counts(app.engine)
        again = pipeline.poll(feed)
        added = {t: c - rows[t] for t, c in counts(app.engine).items()}
        app.close()
    report(args, first, total, meter, rows, again, added)


def counts(engine) -> dict[str, int]:
    with engine.connect() as con:
        return {t: con.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def report(args, first, total, meter, rows, again, added) -> None:
    n = args.items
    extract, analyse = meter.seconds["extract"], meter.seconds["analyse"]
    store = total - extract - analyse
    batches = f"batches of {args.batch}" if args.batch else "default batches"
    engine = args.database.split(":")[0] if args.database else "sqlite"
    print(f"ingest of {n} items of ~5 KB ({args.docs}), {batches}, {engine}")
    print(f"  first poll: {'ok' if first.ok else 'FAILED: ' + str(first.error)}, "
          f"{first.new_items} new items, {first.figures} figures, {first.alerts} alerts "
          f"(rows: {rows})")
    print(f"  {'stage':<9} {'seconds':>8} {'ms/item':>8} {'items/s':>9} {'SQL statements':>15}")
    for name, secs, sql in (("extract", extract, 0), ("store", store, meter.statements["other"]),
                            ("analyse", analyse, meter.statements["analyse"]),
                            ("total", total, sum(meter.statements.values()))):
        print(f"  {name:<9} {secs:>8.2f} {secs / n * 1000:>8.3f} {n / secs:>9.0f} {sql:>15,}")
    print(f"  store + analyse: {n / (store + analyse):,.0f} items/s")
    print(f"  second ingest of the same items: {again.new_items} new items, "
          f"rows added {added}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--docs", type=Path, default=SHARED if SHARED.is_dir() else BUNDLED)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--batch", type=int, help="items per write transaction")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
