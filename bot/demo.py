"""`marketbot demo`: the whole pipeline, offline, on bundled Dell texts.

A temporary database, the bundled feeds (Dell results releases and an analysis,
written in the project's words with Dell's real figures: tests/fixtures/corpus),
no Slack: alerts print to stdout as they would be posted, then the stored
figures are listed. Nothing here is special-cased: it is `run --once` with a
bundled config.
"""

from __future__ import annotations

import sys
import tempfile
from importlib import resources
from pathlib import Path

from bot import store
from bot.app import build_app
from bot.config import Env, parse_config
from bot.delivery import Delivery
from bot.pipeline import build_pipeline
from bot.rules import format_value
from bot.scheduler import run_once


def run_demo(keep: str | None = None) -> None:
    samples = resources.files("bot") / "samples"
    with resources.as_file(samples) as folder, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep) if keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        text = (folder / "demo.yaml").read_text(encoding="utf-8")
        for name in ("demo-ir.xml", "demo-news.xml"):
            text = text.replace(f"url: {name}", f"url: {(folder / name).as_uri()}")
        config = parse_config(text, "demo.yaml")
        env = Env(database_url=f"sqlite:///{workdir / 'demo.db'}")
        app = build_app(config, env)
        try:
            print("marketbot demo: polling the bundled feeds of Dell texts (offline)…\n")
            delivery = Delivery(app.engine, None, config.slack, clock=app.clock,
                                out=sys.stdout)
            report = run_once(app, build_pipeline(app), delivery)
            polls = report.polls
            print(f"\n{sum(p.new_items for p in polls)} items, {sum(p.figures for p in polls)} "
                  f"figures, {report.delivery.shown} alerts (printed above as they would be "
                  "posted to Slack).\n")
            _print_figures(app)
        finally:
            app.close()
        if keep:
            print(f"\nDatabase kept: {workdir / 'demo.db'} "
                  f"(DATABASE_URL=sqlite:///{workdir / 'demo.db'} marketbot history)")


def _print_figures(app) -> None:
    with store.transaction(app.engine) as s:
        rows = store.figures.history(s)
    print("Stored figures (newest first):")
    for f, _item in rows:
        value = ("~" if f.approx else "") + format_value(f.value, f.unit)
        flags = ",".join(k for k, on in (("guidance", f.basis == "guidance"),
                                          ("non-GAAP", f.accounting == "non_gaap"),
                                          ("comparative", f.comparative),
                                          ("table", f.from_table)) if on)
        print(f"  {f.period or '-':<10} {f.metric:<27} {value:>9}  {flags:<22} "
              f"“{' '.join(f.evidence.split())[:60]}”")
