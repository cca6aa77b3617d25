"""Config: every validation rule has a bad fixture whose first line states the
exact `file:line: key: reason` it must produce (Alertmanager's config tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Env, load_config, parse_duration

FIXTURES = Path(__file__).parent / "fixtures" / "config"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
ROOT = Path(__file__).parent.parent


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: '"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_file_line_and_key(path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}:"), message
    assert f"{path}:{_expected(path)}" in message


def test_there_is_a_bad_fixture_per_rule() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("name", ["minimal.yaml", "full.yaml"])
def test_good_configs_load(name: str) -> None:
    config = load_config(FIXTURES / "good" / name)
    assert config.feeds and config.slack.channel == "#dell-alerts"


def test_minimal_config_defaults_to_dell() -> None:
    config = load_config(FIXTURES / "good" / "minimal.yaml")
    dell = config.company_for(None)
    assert (dell.ticker, dell.cik) == ("DELL", 1571996)
    assert dell.calendar.year_end(2027).isoformat() == "2027-01-29"
    assert config.feeds[0].every == 300
    assert config.rules[0].change_bps == 50 and config.rules[0].compare == "qoq"


def test_shipped_feeds_yaml_is_valid() -> None:
    config = load_config(ROOT / "feeds.yaml")
    kinds = {f.kind for f in config.feeds}
    assert kinds == {"rss", "edgar"}
    assert config.company_for(None).cik == 1571996
    assert all(f.url.startswith("https://") for f in config.feeds if f.kind == "rss")


def test_missing_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_config("nope.yaml")


@pytest.mark.parametrize("text,seconds", [
    ("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86400), ("1h30m", 5400), (90, 90),
    ("1.5m", 90),
])
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-5m", "0", 0, "5 minutes", "", "m", True])
def test_bad_durations(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_secrets_never_print() -> None:
    env = Env.from_environ({"SLACK_BOT_TOKEN": "xoxb-very-secret",
                            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/sekrit"})
    shown = repr(env) + str(env) + env.model_dump_json()
    assert "xoxb-very-secret" not in shown and "sekrit" not in shown
    assert env.secrets() == ["xoxb-very-secret", "https://hooks.slack.com/services/T/B/sekrit"]
    assert Env.from_environ({}).database_url == "sqlite:///marketbot.db"
