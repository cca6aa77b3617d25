"""`marketbot config …`: check a config file."""

from __future__ import annotations

import click

from bot.cli.base import cli, config_file, get_config


@cli.group("config")
def config_group() -> None:
    """Work with the config file."""


@config_group.command("check")
@click.argument("path", required=False)
def config_check(path: str | None) -> None:
    """Validate a config file without running (exit 2 and file:line: key on error).

    \b
    Example:
      marketbot config check feeds.yaml
    """
    from bot.config import Env
    from bot.edgar.client import unpollable_feeds

    shown = config_file(path)
    config = get_config(shown)
    click.echo(f"{shown}: ok ({len(config.feeds)} feed(s), {len(config.rules)} rule(s), "
               f"companies: {', '.join(c.ticker for c in config.all_companies)})")
    # Valid, but not pollable in this environment: said here as at start-up.
    for name, why in unpollable_feeds(config, Env.from_environ()).items():
        click.echo(f"{shown}: warning: feed {name} will not be polled: {why}", err=True)
