"""The README tells the truth: every command is documented, the two set-up commands are
what CI runs, every metric the config accepts is listed, it stays short (under 250 lines:
developer material lives in docs/), and every config key is in docs/configuration.md."""

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
REFERENCE = (ROOT / "docs" / "configuration.md").read_text()


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
        assert key in REFERENCE, f"docs/configuration.md does not document {prefix}{name}"


def test_the_readme_lists_exactly_the_metrics_the_config_accepts() -> None:
    from bot.figures import METRICS

    paragraph = README[README.index("\nMetrics ("):]
    paragraph = paragraph[:paragraph.index("\n\n")]
    listed = re.findall(r"`([a-z_]+)`", paragraph)
    assert sorted(listed) == sorted(METRICS), "README's metric list differs from bot.figures"
    for name in METRICS:  # rules accept exactly these
        RuleConfig(metric=name, above=1)


def test_the_readme_is_for_users_and_short() -> None:
    lines = README.count("\n")
    assert lines < 250, f"README has {lines} lines: move developer material to docs/"
    for needed in ("## Quick start", "marketbot demo", "## Configuration", "## Commands",
                   "## Slack set-up", "## SEC EDGAR", "To stop it", "## Docker",
                   "## Troubleshooting"):
        assert needed in README, f"README lacks {needed!r}"


def test_every_doc_is_linked_and_every_link_resolves() -> None:
    docs = {p.name for p in (ROOT / "docs").glob("*.md")}
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)", README))
    assert docs <= linked, f"docs not linked from README: {sorted(docs - linked)}"
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([\w./-]+\.md)", page.read_text()):
            assert (page.parent / target).resolve().exists(), f"{page.name} → {target}"
