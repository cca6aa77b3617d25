"""Storage: every SQL statement of marketbot lives in this package.

    db       engine (SQLite WAL / PostgreSQL), schema upgrades (migrations/), transactions
             (`transaction` writes, `read` never takes the write lock)
    tables   the SQLModel tables
    feeds    feed state            items    deduplicated items
    figures  observations          alerts   the outbox
    articles pages fetched for news items, keyed by canonical URL
    pace     rate limits shared by replicas (Slack per channel, the EDGAR budget)
"""

from bot.store import alerts, articles, db, feeds, figures, items, pace
from bot.store.db import init_db, make_engine, read, transaction

__all__ = [
           "alerts",
           "articles",
           "db",
           "feeds",
           "figures",
           "init_db",
           "items",
           "make_engine",
           "pace",
           "read",
           "transaction",
]
