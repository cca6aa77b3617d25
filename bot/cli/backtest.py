"""`marketbot backtest`: try rules on the stored history before saving them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from bot import store
from bot.cli.base import cli, config_file, fail, get_config
from bot.config import Env


@cli.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Only alerts caused by items published on/after YYYY-MM-DD (earlier "
                   "items are still replayed: they are what later ones compare with).")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also replay the dated texts of this directory (corpus format: a header "
                   "with published:, ---, the text).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_obj
def backtest(env: Env, since: datetime | None, corpus: Path | None, fmt: str) -> None:
    """Replay the stored history through the rules of --config and print the alerts
    they would have sent, per period, with totals per rule. Nothing is sent and the
    database is not changed (the replay runs in a throwaway database).

    \b
    Example:
      marketbot backtest --config candidate.yaml --since 2024-01-01
      marketbot backtest --config feeds.yaml --corpus texts/ --format json
    """
    from bot.backtest import corpus_items, replay, report, stored_items, text

    config = get_config()
    companies = {c.ticker for c in config.all_companies}
    url = make_url(env.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        # Opening it would create an empty one: a backtest changes nothing.
        fail(f"no database at {url.database}: nothing to replay (set DATABASE_URL)")
    engine = store.make_engine(env.database_url)
    try:
        items, skipped = stored_items(engine, companies)
    finally:
        engine.dispose()
    if corpus is not None:
        extra, more = corpus_items(corpus, companies, config.company_for(None).ticker)
        items += extra
        skipped += more
    result = replay(config, items)
    result.skipped[:0] = skipped
    rep = report(result, config, since=since.date() if since else None)
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2, ensure_ascii=False))
    else:
        click.echo(text(rep, config_file()))
