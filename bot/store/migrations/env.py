"""Alembic's environment: how migrations reach the database.

marketbot runs migrations itself (bot.store.db.upgrade), on a connection it has
already locked, passed in config.attributes["connection"]. The `alembic` command
(for developers writing a revision, docs/migrations.md) connects to DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel

from bot.store import tables  # noqa: F401  (registers the tables)
from bot.store.db import make_engine
from bot.store.migrations.render import render_item


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_item=render_item, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///marketbot.db"))
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
