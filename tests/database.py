"""The test database: SQLite by default, PostgreSQL when MARKETBOT_TEST_DATABASE_URL is set.

    MARKETBOT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres pytest

names a server (and a database there to connect to for administration). Each test that
asks for a database gets a fresh one: a file in its tmp_path on SQLite, a new database
`mbt_<pid>_<n>` on PostgreSQL, dropped when the test ends. Tests use

    database_url   (fixture)  the test's database URL
    url_for(tmp_path[, name]) the same from a helper that only has tmp_path; a second
                              name gives a second database in the same test
    query(url, sql, **params) rows of one SQL statement, on either engine

so that no test hardcodes `sqlite:///`. A test that is about SQLite itself is marked
`@pytest.mark.sqlite_only` and skipped on PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ENV = "MARKETBOT_TEST_DATABASE_URL"

_counter = itertools.count(1)
_lock = threading.Lock()
_created: dict[tuple[str, str], str] = {}  # (tmp_path, name) -> URL, this test's databases


def server_url() -> URL | None:
    """The PostgreSQL server the tests run on, or None for SQLite."""
    raw = os.environ.get(ENV, "").strip()
    return make_url(raw) if raw else None


def engine_name() -> str:
    return "postgresql" if server_url() is not None else "sqlite"


def url_for(tmp_path: Path, name: str = "marketbot") -> str:
    """The database of the current test called `name` (created on first use)."""
    server = server_url()
    if server is None:
        return f"sqlite:///{Path(tmp_path) / f'{name}.db'}"
    key = (str(tmp_path), name)
    with _lock:
        if key not in _created:
            db = f"mbt_{os.getpid()}_{next(_counter)}"
            _admin(server, f'CREATE DATABASE "{db}"')
            _created[key] = server.set(database=db).render_as_string(hide_password=False)
        return _created[key]


def drop_created() -> None:
    """Drop the databases made for the test that just ended."""
    server = server_url()
    with _lock:
        urls, _ = list(_created.values()), _created.clear()
    for url in urls:
        _admin(server, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def drop_stale() -> None:
    """Drop databases left by test runs whose process is gone (killed mid-run). Databases
    of runs still alive (other suites on the same server) are left alone."""
    server = server_url()
    if server is None:
        return
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            names = con.execute(text(
                "SELECT datname FROM pg_database WHERE datname LIKE 'mbt\\_%'")).scalars()
            for name in list(names):
                pid = name.split("_")[1]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _admin(server: URL, sql: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            con.execute(text(sql))
    finally:
        engine.dispose()


def query(url: str, sql: str, **params) -> list[tuple]:
    """The rows of one SQL statement on the test database (either engine)."""
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            return [tuple(r) for r in con.execute(text(sql), params)]
    finally:
        engine.dispose()
