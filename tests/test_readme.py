"""The README tells the truth: every command is documented, the two set-up commands are
what CI runs, and every config key is in the reference."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from bot.cli import cli
from bot.config import (
    ArticlesConfig,
    CompanyConfig,
    Config,
    EdgarConfig,
    FeedConfig,
    FiscalYearConfig,
    HttpConfig,
    ReconcileConfig,
    RuleConfig,
    SlackConfig,
)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def commands(cmd: click.Command, prefix: tuple[str, ...] = ()):
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from commands(sub, (*prefix, name))
        if cmd.invoke_without_command:
            yield prefix
    else:
        yield prefix


ALL = sorted(" ".join(c) for c in commands(cli) if c)


@pytest.mark.parametrize("command", ALL)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`marketbot {command}" in README, f"README does not document `marketbot {command}`"


@pytest.mark.parametrize("command", ALL)
def test_every_command_has_an_example_in_its_help(command: str) -> None:
    cmd = cli
    for part in command.split():
        cmd = cmd.commands[part]
    assert "Example:" in (cmd.help or ""), f"`marketbot {command} --help` has no example"


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    quick = [line for line in blocks[0].splitlines() if line and not line.startswith("#")]
    assert len(quick) == 2, "the quick start is two commands"
    run_cmd, test_cmd = quick
    assert run_cmd.endswith("marketbot run") and test_cmd.endswith("python -m pytest")
    install = "install -q -e '.[test]'"
    assert install in run_cmd and install in test_cmd and install in ci
    assert '-m pytest' in ci


@pytest.mark.parametrize("model,prefix", [
    (FeedConfig, ""), (RuleConfig, ""), (SlackConfig, ""), (CompanyConfig, ""),
    (FiscalYearConfig, "fiscal_year."), (EdgarConfig, "edgar."), (HttpConfig, "http."),
    (ReconcileConfig, "reconcile."), (ArticlesConfig, "articles."), (Config, ""),
])
def test_every_config_key_is_documented(model, prefix: str) -> None:
    for name, field in model.model_fields.items():
        key = f"`{prefix}{name}." if isinstance(field.default, BaseModel) else f"`{prefix}{name}`"
        assert key in README, f"README does not document {prefix}{name}"
