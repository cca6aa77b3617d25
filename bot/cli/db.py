"""`marketbot db …`: the database schema."""

from __future__ import annotations

import click

from bot import store
from bot.cli.base import cli
from bot.config import Env


@cli.group("db")
def db_group() -> None:
    """Work with the database (DATABASE_URL)."""


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(env: Env) -> None:
    """Bring the database schema to the newest revision (migrations).

    Every command does this at start, under a database lock, so replicas can start
    together; this command does it alone, e.g. before rolling out a new version.

    \b
    Example:
      DATABASE_URL=postgresql://marketbot@db:5432/marketbot marketbot db upgrade
    """
    engine = store.make_engine(env.database_url)
    try:
        done = store.init_db(engine)
        where = store.db.where(engine)
    finally:
        engine.dispose()
    click.echo(f"database {where}: {done.describe()}")
