"""Shared fixtures: loopback servers and a way to run `marketbot` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot import store
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

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp = tmp
        self.env = env
        self.db = tmp / "marketbot.db"

    def config(self, data: dict, name: str = "feeds.yaml") -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def __call__(self, *args: str, input: str | None = None, timeout: float = 90,
                 env: dict[str, str] | None = None) -> Result:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLACK_", "SEC_", "EDGAR_", "MARKETBOT_"))}
        full_env.update({"DATABASE_URL": f"sqlite:///{self.db}",
                         "PYTHONPATH": str(ROOT), **self.env, **(env or {})})
        p = subprocess.run([sys.executable, "-m", "bot", *args], cwd=self.tmp, env=full_env,
                           input=input, capture_output=True, text=True, timeout=timeout)
        return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def engine(tmp_path):
    """A fresh database (SQLite file, WAL) with the schema."""
    engine = store.make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
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
def bot(tmp_path, slack) -> Bot:
    return Bot(tmp_path, {"SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.token})


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
