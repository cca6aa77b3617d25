"""Shared fixtures: the test database (SQLite, or PostgreSQL with MARKETBOT_TEST_DATABASE_URL:
see tests/database.py), loopback servers and a way to run `marketbot` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot import store
from tests import database
from tests.edgar_server import EdgarServer, serve_dell_data, serve_dell_www
from tests.fixtures.articles.site import publish
from tests.loopback import FeedServer, SlackServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


class Bot:
    """Runs `python -m bot …` in a temp dir with its own database and environment."""

    def __init__(self, tmp: Path, env: dict[str, str], database_url: str | None = None):
        self.tmp = tmp
        self.env = env
        self.database_url = database_url or database.url_for(tmp)

    def config(self, data: dict, name: str = "feeds.yaml") -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def __call__(self, *args: str, input: str | None = None, timeout: float = 90,
                 env: dict[str, str] | None = None) -> Result:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLACK_", "SEC_", "EDGAR_", "MARKETBOT_"))}
        full_env.update(self.environ(env))
        p = subprocess.run([sys.executable, "-m", "bot", *args], cwd=self.tmp, env=full_env,
                           input=input, capture_output=True, text=True, timeout=timeout)
        return Result(p.returncode, p.stdout, p.stderr)

    def environ(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """What the subprocess gets on top of the inherited environment."""
        return {"DATABASE_URL": self.database_url, "PYTHONPATH": str(ROOT), **self.env,
                **(env or {})}

    def query(self, sql: str, **params) -> list[tuple]:
        return database.query(self.database_url, sql, **params)


def pytest_report_header(config) -> str:
    server = database.server_url()
    return (f"database: PostgreSQL at {server.host}:{server.port or 5432} ({database.ENV})"
            if server is not None else f"database: SQLite (set {database.ENV} for PostgreSQL)")


def pytest_sessionstart(session) -> None:
    database.drop_stale()


def pytest_collection_modifyitems(config, items) -> None:
    if database.engine_name() == "sqlite":
        return
    skip = pytest.mark.skip(reason="about SQLite itself")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_databases():
    """Drops the PostgreSQL databases a test made (tests/database.py)."""
    yield
    database.drop_created()


@pytest.fixture
def database_url(tmp_path) -> str:
    """The test's own fresh database: SQLite in tmp_path, or PostgreSQL (tests/database.py)."""
    return database.url_for(tmp_path)


@pytest.fixture
def engine(database_url):
    """A fresh database with the schema."""
    engine = store.make_engine(database_url)
    store.init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


@pytest.fixture
def slack():
    with SlackServer() as server:
        yield server


@pytest.fixture
def bot(tmp_path, slack, database_url) -> Bot:
    return Bot(tmp_path, {"SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.token},
               database_url)


@pytest.fixture
def site():
    """The fixture news site (tests/fixtures/articles: publisher pages, an aggregator's
    redirects, unreadable pages) on a loopback server."""
    with FeedServer() as server:
        publish(server)
        yield server


@pytest.fixture
def edgar_servers():
    """Loopback stand-ins for www.sec.gov and data.sec.gov serving Dell's filings."""
    with EdgarServer() as www, EdgarServer() as data:
        serve_dell_www(www)
        serve_dell_data(data)
        yield www, data


def fixture_bytes(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()
