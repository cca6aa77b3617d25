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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event, exc, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, SQLModel, create_engine

from bot.errors import DatabaseError
from bot.store import tables  # noqa: F401  (registers the tables)

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
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
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
