"""The database edge: schema migrations under a lock, old databases upgraded in place,
and one-line errors for a missing driver or an unreachable server."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from bot import store
from bot.errors import DatabaseError
from tests import database
from tests.conftest import FIXTURES, ROOT


def test_the_migrations_build_exactly_the_models_schema(database_url) -> None:
    """A model change without its migration fails here (docs/migrations.md)."""
    engine = store.make_engine(database_url)
    try:
        done = store.init_db(engine)
        assert (done.before, done.empty) == (None, True)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True}), SQLModel.metadata)
        assert diff == []
        again = store.init_db(engine)
        assert again.before == again.after == done.after
        assert again.describe().endswith("nothing to do")
    finally:
        engine.dispose()


@pytest.mark.sqlite_only
def test_a_database_made_before_migrations_upgrades_in_place(tmp_path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript((FIXTURES / "db" / "before-migrations.sql").read_text())
    con.close()
    engine = store.make_engine(f"sqlite:///{path}")
    try:
        done = store.init_db(engine)
        assert done.before is None and not done.empty
        assert done.describe().startswith("upgraded from a schema made before migrations")
        with store.transaction(engine) as s:
            states = store.feeds.all_states(s)
            figures = store.figures.history(s)
            alerts = store.alerts.listing(s)
        assert states["broken"].consecutive_failures == 1 and states["seed"].items_total == 1
        assert len(figures) == 11 and [a.status for a in alerts] == ["pending"]
    finally:
        engine.dispose()


def test_processes_started_together_on_an_empty_database_all_start(tmp_path) -> None:
    """Six `marketbot db upgrade` released at one instant (a file barrier, after their
    imports): the lock lets exactly one build the schema; the others wait, find it built
    and go on."""
    n, url, go = 6, database.url_for(tmp_path), tmp_path / "go"
    wait_then_run = (
        "import pathlib, sys, time, alembic.command; from bot.cli import main; "
        "pathlib.Path(sys.argv[1]).touch(); go = pathlib.Path(sys.argv[2]); "
        "exec('while not go.exists(): time.sleep(0.005)'); "
        "sys.argv = ['marketbot', 'db', 'upgrade']; main()")
    env = {"DATABASE_URL": url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-c", wait_then_run, str(tmp_path / f"ready{i}"),
                               str(go)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(n)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready*"))) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * n, [err for _, _, err in results]
    said = sorted(out.split(": ", 1)[1].strip() for _, out, _ in results)
    assert said[-1].startswith("upgraded from an empty database to revision")
    assert all(s.endswith("nothing to do") for s in said[:-1])


def test_db_upgrade_names_the_database_and_what_it_did(bot) -> None:
    first = bot("db", "upgrade")
    assert first.code == 0, first.stderr
    assert "upgraded from an empty database to revision" in first.stdout
    second = bot("db", "upgrade")
    assert second.code == 0 and "nothing to do" in second.stdout


def test_without_the_postgresql_driver_one_line_and_exit_2(tmp_path) -> None:
    no_driver = ("import sys; sys.modules['psycopg'] = None; from bot.cli import main; "
                 "sys.argv = ['marketbot', 'db', 'upgrade']; main()")
    p = subprocess.run([sys.executable, "-c", no_driver], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60, env={
                           "DATABASE_URL": "postgresql://bot:s3cret@127.0.0.1:5432/marketbot",
                           "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 2
    assert p.stderr == ("marketbot: DATABASE_URL uses PostgreSQL: install marketbot[postgres] "
                        "(pip install 'marketbot[postgres]')\n")


@pytest.mark.parametrize("command", [["db", "upgrade"], ["alerts"], ["history"]])
def test_a_refused_connection_is_one_line_naming_host_and_port(bot, command) -> None:
    port = _closed_port()
    result = bot(*command, env={"DATABASE_URL": f"postgresql://bot:s3cret@127.0.0.1:{port}/mb"})
    assert result.code == 1
    assert result.stderr.count("\n") == 1 and "s3cret" not in result.stderr
    assert result.stderr.startswith(f"marketbot: cannot reach PostgreSQL at 127.0.0.1:{port}/mb:")
    assert "Connection refused; start it there or fix DATABASE_URL" in result.stderr


@pytest.mark.parametrize("url, message", [
    ("not a url", "DATABASE_URL is not a database URL"),
    ("mysql://u:p@host/db", "DATABASE_URL: unsupported database 'mysql'"),
])
def test_an_unusable_database_url_is_a_setting_error(url, message) -> None:
    with pytest.raises(DatabaseError) as caught:
        store.make_engine(url)
    assert str(caught.value).startswith(message) and caught.value.exit_code == 2
    assert "u:p" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.sqlite_only
def test_a_failing_migration_is_named_as_one_not_as_an_unreachable_database(tmp_path) -> None:
    """A table in the way of a migration: the message says the upgrade failed and
    leaves the database as it was, instead of "cannot open … check the path"."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript((FIXTURES / "db" / "before-migrations.sql").read_text())
    con.execute("CREATE TABLE replica (id TEXT)")  # what a later revision creates
    con.commit()
    tables_before = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    engine = store.make_engine(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseError) as caught:
            store.init_db(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert message.startswith(f"upgrading the schema of {path} from revision (none) to ")
    assert "already exists" in message and "cannot open" not in message
    con = sqlite3.connect(path)
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master")} == tables_before
    con.close()
