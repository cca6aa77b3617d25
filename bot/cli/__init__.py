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
    extract.py   extract
    demo.py      demo
"""

from bot.cli import alerts, config, db, demo, extract, query, service  # noqa: F401 (registers)
from bot.cli.base import cli


def main() -> None:
    cli(prog_name="marketbot")


__all__ = ["cli", "main"]
