"""The `marketbot` command line: a thin layer over the library.

One module per command group; `base` holds the root group, the global options and
the error edge (every error one line, config errors exit 2, `--debug` for the
traceback). Each command's help carries an example, and a test checks that every
command is documented in the README.

    base.py      the root group, global options, shared helpers
    errors.py    exception → one line (what failed, what to do)
    service.py   run, backfill
    config.py    config check
    db.py        db upgrade
    query.py     feeds, history
    alerts.py    alerts, alerts retry
    show.py      show (why an alert fired, what an item gave)
    backtest.py  backtest (rules tried on the stored history)
    extract.py   extract
    demo.py      demo
"""

# Importing a command module registers its commands.
from bot.cli import alerts, backtest, config, db, demo, extract, query, service, show  # noqa: F401
from bot.cli.base import cli


def main() -> None:
    cli(prog_name="marketbot")


__all__ = ["cli", "main"]
