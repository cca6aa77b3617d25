"""The CLI's frame: global options anywhere on the line, errors as one line at the edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.loopback import Reply

GOOD = FIXTURES / "config" / "good" / "minimal.yaml"


@pytest.mark.parametrize("args", [
    ["--config", "{cfg}", "config", "check"],
    ["config", "check", "--config", "{cfg}"],
    ["--log-level", "debug", "config", "check", "{cfg}"],
    ["config", "check", "{cfg}", "--log-level", "debug"],
    ["config", "--log-format", "json", "check", "{cfg}"],
    ["config", "check", "{cfg}", "--debug", "--log-format", "json"],
])
def test_global_options_before_or_after_the_command(bot, args) -> None:
    result = bot(*[a.format(cfg=GOOD) for a in args])
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(f"{GOOD}: ok (")


def test_the_last_config_given_wins(bot, tmp_path: Path) -> None:
    result = bot("--config", str(tmp_path / "missing.yaml"), "config", "check",
                 "--config", str(GOOD))
    assert result.code == 0, result.stderr


def test_run_accepts_log_level_after_the_subcommand(bot, feeds, slack) -> None:
    empty = Reply(200, "<rss version='2.0'><channel><title>t</title></channel></rss>",
                  {"Content-Type": "application/rss+xml"})
    cfg = bot.config({"feeds": [{"name": "empty", "url": feeds.route("/x", empty)}],
                      "slack": {"channel": "#c"}})
    result = bot("run", "--once", "--config", str(cfg), "--log-level", "debug",
                 "--log-format", "json")
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(entry["logger"].startswith("marketbot") for entry in lines), result.stderr


@pytest.mark.parametrize("url,expect,code", [
    # A file that is not a database (its bytes written below).
    ("sqlite:///{tmp}/garbage.db",
     "marketbot: database error: file is not a database: check DATABASE_URL", 1),
    ("notadb://x", "marketbot: DATABASE_URL", 2),  # a setting to fix, like a config error
])
def test_a_database_error_is_one_line_and_debug_shows_the_traceback(bot, tmp_path, url,
                                                                    expect, code) -> None:
    (tmp_path / "garbage.db").write_bytes(b"this is not SQLite" * 100)
    url = url.format(tmp=tmp_path)
    plain = bot("feeds", "--config", str(GOOD), env={"DATABASE_URL": url})
    assert plain.code == code
    assert plain.stderr.strip().startswith(expect), plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1, plain.stderr
    debug = bot("feeds", "--config", str(GOOD), "--debug", env={"DATABASE_URL": url})
    assert debug.code == code and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_a_secret_in_an_error_never_reaches_the_terminal(bot) -> None:
    # The password of a database URL is a secret like the Slack token.
    url = "postgresql+nosuchdriver://bot:hunter2-secret@127.0.0.1:1/marketbot"
    for extra in ((), ("--debug",)):
        result = bot("feeds", "--config", str(GOOD), *extra, env={"DATABASE_URL": url})
        assert result.code == 1
        assert "hunter2-secret" not in result.stderr + result.stdout
