"""`marketbot demo`: the whole pipeline offline."""

from __future__ import annotations

import click

from bot.cli.base import cli


@cli.command()
@click.option("--keep", metavar="DIR", help="Keep the demo database in DIR.")
def demo(keep: str | None) -> None:
    """Run the whole pipeline offline on bundled sample items and show the result.

    No Slack, no internet: a temporary database, bundled feeds of Dell texts
    (our words, real figures), the default rules; prints the alerts it would post and the figures.

    \b
    Example:
      marketbot demo
    """
    from bot.demo import run_demo
    run_demo(keep)
