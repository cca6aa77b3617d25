"""Figures found with article fetching on vs off, over the fixture news site.

    python benchmarks/articles.py [--verbose]

Serves tests/fixtures/articles on a loopback server (no internet), polls one RSS
feed of every fixture story twice through the real pipeline — fetch_article
off, then on, each into a fresh database — and prints, per story, the figures
stored and what the article fetch recorded. Figures whose value only the
pages' boilerplate states (related stories, comments, ads) are counted apart:
there should be none. --verbose lists every figure with its evidence.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select

from bot import store
from bot.app import build_app
from bot.config import Env, parse_config
from bot.pipeline import build_pipeline
from bot.store.tables import FigureRow, ItemRow
from tests.fixtures.articles.site import STORIES, publish, rss
from tests.loopback import FeedServer, Reply

# Values stated only by the fixture pages' boilerplate (see tests/test_article_pipeline.py).
BOILERPLATE = {21.2, 13.9e9, 40e9, 6.3e9, 23.9e9, 22.1, 39.1e9, 25.0, 35e9, 50e9, 27.4e9, 9.8,
               5.9, 4.5, 4.4e9, 68.0, 861e6, 29.1, 13.0, 6e9}


def poll(server: FeedServer, fetch: bool, db: Path) -> dict[str, tuple[ItemRow, list]]:
    config = parse_config(f"""
feeds:
  - name: news
    url: {server.url}/feeds/news.xml
    fetch_article: {str(fetch).lower()}
slack:
  channel: "#dell-alerts"
articles:
  allow_private_hosts: true
  host_interval: 0
  timeout: 1s
""")
    app = build_app(config, Env(database_url=f"sqlite:///{db}"))
    try:
        build_pipeline(app).poll(config.feeds[0])
        with store.transaction(app.engine) as s:
            items = list(s.exec(select(ItemRow)))
            # Figures read from the text; derived ratios computed from them are not counted.
            figures = list(s.exec(select(FigureRow).where(FigureRow.source_kind != "derived")))
    finally:
        app.close()
    by_title = {st.title: name for name, st in STORIES.items()}
    return {by_title[i.title]: (i, [f for f in figures if f.item_id == i.id]) for i in items}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verbose", action="store_true", help="list every figure")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(message)s")  # the table says it all
    with FeedServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.httpd.handle_error = lambda *_: None  # we hang up on the 10 MB page on purpose
        publish(server, slow_delay=3.0)
        server.route("/feeds/news.xml", Reply(200, rss(server, list(STORIES)),
                                               {"Content-Type": "application/rss+xml"}))
        off = poll(server, False, Path(tmp) / "off.db")
        on = poll(server, True, Path(tmp) / "on.db")
    print(f"{'story':<11} {'off':>4} {'on':>4}  article")
    totals = [0, 0, 0]
    for name in STORIES:
        item, figs_on = on[name]
        figs_off = off[name][1]
        noise = [f for f in figs_on + figs_off if _rounded(f) in BOILERPLATE]
        totals[0] += len(figs_off)
        totals[1] += len(figs_on)
        totals[2] += len(noise)
        print(f"{name:<11} {len(figs_off):>4} {len(figs_on):>4}  "
              f"{item.article_error or 'read'}")
        if args.verbose:
            for tag, figs in (("off", figs_off), ("on", figs_on)):
                for f in figs:
                    print(f"      {tag:>3} {f.metric:<22} {f.value:>16,.2f} {f.unit:<4} "
                          f"{f.period or '-':<10} {' '.join(f.evidence.split())[:60]}")
    print(f"{'total':<11} {totals[0]:>4} {totals[1]:>4}  "
          f"boilerplate figures: {totals[2]}")
    return 0


def _rounded(f: FigureRow) -> float:
    return round(f.value, 1 if f.unit == "%" else -6)


if __name__ == "__main__":
    sys.exit(main())
