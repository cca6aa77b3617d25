"""Engine creation, schema upgrades and transactions.

SQLite (the default) runs in WAL mode (readers never block the writer) with a busy
timeout, and every transaction starts with BEGIN IMMEDIATE: pysqlite's deferred BEGIN
lets two writers both start reading and then deadlock when they upgrade, which SQLite
reports as "database is locked" without waiting (sqlite.org/lang_transaction).

PostgreSQL (DATABASE_URL=postgresql://…, driver psycopg 3: `pip install
'marketbot[postgres]'`) is for several replicas sharing one database (docs/scaling.md).

The schema is brought to the newest migration (bot/store/migrations, Alembic) by
`init_db` at the start of every command, under a database-wide lock, so that any
number of processes can start together on an empty or an old database.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import (
    ColumnElement,
    Engine,
    Interval,
    event,
    exc,
    func,
    inspect,
    literal,
    text,
    type_coerce,
)
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, SQLModel, create_engine

from bot.errors import DatabaseError
from bot.store import tables  # noqa: F401  (registers the tables)
from bot.store.tables import UTCDateTime

POSTGRES_DRIVER = "postgresql+psycopg"
# pg_advisory_xact_lock keys (one 64-bit namespace per database; 0x6d6b62 = "mkb").
MIGRATE_LOCK = 0x6D6B62_0001
READ_ONLY = "marketbot_read_only"  # execution option of store.read()'s connections


def make_engine(url: str) -> Engine:
    """An engine for DATABASE_URL; DatabaseError (exit code 2) when the URL names no
    usable database or its driver is not installed. The URL is never echoed: it may
    carry a password."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    if parsed.get_backend_name() != "sqlite":
        raise DatabaseError(f"DATABASE_URL: unsupported database {parsed.get_backend_name()!r}"
                            " (use sqlite:///FILE or postgresql://USER@HOST/DB)", exit_code=2)
    return _sqlite_engine(parsed)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseError("DATABASE_URL is not a database URL (e.g. sqlite:///marketbot.db "
                            "or postgresql://user@host:5432/marketbot)", exit_code=2) from None
    # postgres:// (Heroku, compose examples) and postgresql:// mean psycopg 3 here.
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def _postgres_engine(url: URL) -> Engine:
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError:
        raise DatabaseError("DATABASE_URL uses PostgreSQL: install marketbot[postgres] "
                            "(pip install 'marketbot[postgres]')", exit_code=2) from None


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        _wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a read without the lock
        # store.read(): a deferred BEGIN reads a snapshot of the WAL without the write lock
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def _wal(cur) -> None:
    """WAL mode, which the file keeps once set. Switching a new file to it needs an
    exclusive lock, and SQLite answers "database is locked" at once, without waiting,
    when processes started together all try: whoever loses retries until one has set it."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL").fetchall()  # a no-op once set
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def where(engine: Engine) -> str:
    """The database for messages, without credentials: host:port/name or the file."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


# ---------------------------------------------------------------- schema


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # revision found (None: an empty database, or one made before migrations)
    after: str  # the newest revision, now in force
    empty: bool = False  # the database had no tables

    def describe(self) -> str:
        if self.before == self.after:
            return f"at revision {self.after} (the newest): nothing to do"
        was = ("an empty database" if self.empty else
               "a schema made before migrations" if self.before is None else
               f"revision {self.before}")
        return f"upgraded from {was} to revision {self.after}"


def init_db(engine: Engine) -> Upgrade:
    """Bring the schema to the newest revision, under a database lock."""
    with connection_errors(engine):
        head = _head()
        current = _current(engine)
        if current == head:
            return Upgrade(current, head)  # the usual start: no lock, no write
        return _upgrade(engine, head)


def _upgrade(engine: Engine, head: str) -> Upgrade:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    # One transaction holds the lock while migrations run: pg_advisory_xact_lock on
    # PostgreSQL (the DDL is transactional there), BEGIN IMMEDIATE on SQLite (our begin
    # hook: in WAL mode IMMEDIATE excludes other writers as EXCLUSIVE would). A process
    # that waited finds the schema at head and does nothing.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        before = MigrationContext.configure(conn).get_current_revision()
        empty = before is None and not inspect(conn).get_table_names()
        if before != head:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return Upgrade(before, head, empty)


def _current(engine: Engine) -> str | None:
    """The schema's revision, read without the write lock (a plain autocommit read)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    return config


def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


@contextmanager
def connection_errors(engine: Engine) -> Iterator[None]:
    """A database that cannot be reached becomes one DatabaseError naming where and
    what to do (the driver's message without the URL)."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        reason = " ".join(str(error.orig or error).split("\n")[0].split())
        if engine.dialect.name == "sqlite":
            raise DatabaseError(f"cannot open the SQLite database {where(engine)}: {reason}; "
                                "check the path in DATABASE_URL and its permissions") from None
        raise DatabaseError(f"cannot reach PostgreSQL at {where(engine)}: {reason}; start it "
                            "there or fix DATABASE_URL") from None


# ---------------------------------------------------------------- units of work


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads. On SQLite a deferred BEGIN: one consistent snapshot
    of the WAL that never takes, or waits for, the write lock, so a poll's long write never
    blocks a read and a read never blocks a writer. On PostgreSQL a READ ONLY transaction.
    Nothing is committed."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True, "postgresql_readonly": True}
                               if engine.dialect.name == "postgresql" else {READ_ONLY: True})
        with Session(bind=conn, expire_on_commit=False) as session:
            yield session  # closing ends the transaction; what was read stays loaded


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked": another writer held the lock past the busy timeout
    (retryable: the transaction was rolled back)."""
    return isinstance(error, exc.OperationalError) and "database is locked" in str(error)


def dialect_insert(session: Session, table):
    """INSERT for this session's database, with its ON CONFLICT clauses."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_ignore(session: Session, model: type[SQLModel], values: dict) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the database, not a prior
    SELECT, decides what is new, so two writers can never both insert."""
    table = model.__table__
    stmt = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    if "id" not in table.c:  # keyed by its own primary key (item_alias)
        session.execute(stmt)
        return None
    return session.execute(stmt.returning(table.c.id)).scalar_one_or_none()


def insert_or_nothing(session: Session, model: type[SQLModel], values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted the row."""
    stmt = dialect_insert(session, model.__table__).values(**values).on_conflict_do_nothing()
    return session.execute(stmt).rowcount == 1


# ---------------------------------------------------------------- the database's clock


def clock_sql(session: Session, plus: float = 0.0) -> ColumnElement:
    """The database's current UTC time (+ `plus` seconds) as SQL, comparable with our
    timestamp columns: leases shared by replicas are decided by one clock, not by each
    replica's own."""
    if session.get_bind().dialect.name == "postgresql":
        now = func.timezone("UTC", func.clock_timestamp())
        return type_coerce(now + literal(timedelta(seconds=plus), Interval()), UTCDateTime)
    # SQLite: the text form SQLAlchemy stores DATETIME in (microseconds, 6 digits).
    now = func.strftime("%Y-%m-%d %H:%M:%f", "now", f"{plus:+.3f} seconds").concat("000")
    return type_coerce(now, UTCDateTime)


def epoch_sql(session: Session) -> ColumnElement:
    """The database's current time in seconds since 1970 (a float), for arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", func.clock_timestamp())
    return (func.julianday("now") - 2440587.5) * 86400.0
