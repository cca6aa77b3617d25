"""The root `marketbot` group, the options every command takes, and shared helpers.

Global options (`--config`, `--log-level`, `--log-format`, `--debug`) are accepted
before or after the subcommand: every command and group built here (`@cli.command()`,
`@cli.group()`) carries them, and the last one given wins. A command that declares
its own `--config` (dest `config_path`) receives the global one when it has none.

Errors that reach the CLI become one line on stderr and an exit code (config: 2,
everything else: 1); `--debug` prints the traceback too. The wording lives in
`bot.cli.errors`.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from bot import __version__, store
from bot.config import Config, Env, load_config
from bot.errors import ConfigError
from bot.logs import FORMATS, LEVELS, redact, setup_logging

DEFAULT_CONFIG = "feeds.yaml"


@dataclass
class Globals:
    """The global options, as given anywhere on the command line."""

    log_level: str | None = None
    log_format: str | None = None
    debug: bool = False
    config_path: str | None = None

    def config_file(self, explicit: str | None = None) -> str:
        return (explicit or self.config_path or os.environ.get("MARKETBOT_CONFIG")
                or DEFAULT_CONFIG)


def globals_of(ctx: click.Context | None = None) -> Globals:
    ctx = ctx or click.get_current_context()
    return ctx.meta.setdefault("marketbot.globals", Globals())  # type: ignore[no-any-return]


def _global_params() -> list[click.Parameter]:
    return [
        click.Option(["--config", "config_path"], metavar="PATH",
                     help="Config file (default $MARKETBOT_CONFIG or feeds.yaml)."),
        click.Option(["--log-level"], type=click.Choice(LEVELS, case_sensitive=False),
                     help="Log verbosity, logs go to stderr (default $MARKETBOT_LOG_LEVEL "
                          "or info)."),
        click.Option(["--log-format"], type=click.Choice(FORMATS),
                     help="human (default, or $MARKETBOT_LOG_FORMAT) or json: one object "
                          "per line."),
        click.Option(["--debug"], is_flag=True, default=False,
                     help="Show the traceback of an error (and debug logs)."),
    ]


_GLOBAL_NAMES = ("config_path", "log_level", "log_format", "debug")


class _GlobalOptions(click.Command):
    """Adds the global options to a command and folds what was given into Globals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = {p.name for p in self.params}
        self.own_config = "config_path" in names
        self.params += [p for p in _global_params() if p.name not in names]

    def invoke(self, ctx: click.Context) -> Any:
        g = globals_of(ctx)
        for name in _GLOBAL_NAMES:
            keep = name == "config_path" and self.own_config
            value = ctx.params.get(name) if keep else ctx.params.pop(name, None)
            if value:
                setattr(g, name, value)
        if self.own_config:
            ctx.params["config_path"] = g.config_path
        apply_logging(g, ctx.find_object(Env))
        return super().invoke(ctx)


def apply_logging(g: Globals, env: Env | None) -> None:
    level = "debug" if g.debug else (g.log_level or os.environ.get("MARKETBOT_LOG_LEVEL")
                                     or "info")
    fmt = g.log_format or os.environ.get("MARKETBOT_LOG_FORMAT") or "human"
    if level.lower() not in LEVELS:
        level = "info"
    if fmt not in FORMATS:
        fmt = "human"
    setup_logging(level, fmt, secrets(env))


def secrets(env: Env | None) -> list[str]:
    return (env or Env.from_environ()).secrets()


class Command(_GlobalOptions):
    pass


class Group(_GlobalOptions, click.Group):
    command_class = Command

    # Groups made with @group.group() are Groups too (click reads this attribute).
    group_class: type[click.Group] | None = None


Group.group_class = Group


class Root(Group):
    """The `marketbot` group: turns whatever escapes a command into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            sys.exit(ConfigError.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 (the edge: every error becomes one line)
            from bot.cli.errors import describe

            hide = secrets(ctx.find_object(Env))
            if globals_of(ctx).debug:
                click.echo(redact(traceback.format_exc(), hide), err=True, nl=False)
            click.echo(f"marketbot: {redact(describe(exc), hide)}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))  # e.g. DatabaseError: 2 for a bad setting


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="marketbot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """marketbot: polls news and SEC EDGAR feeds, extracts the figures that move a
    stock, stores them with their evidence, and alerts Slack.

    The options below are accepted before or after the command.

    \b
    Example:
      marketbot run --config feeds.yaml --once
    """
    ctx.obj = Env.from_environ()


# ---------------------------------------------------------------- helpers


def config_file(explicit: str | None = None) -> str:
    """The config path: the argument, else --config, else $MARKETBOT_CONFIG, else default."""
    return globals_of().config_file(explicit)


def get_config(explicit: str | None = None) -> Config:
    return load_config(config_file(explicit))


def engine(env: Env):  # type: ignore[no-untyped-def]
    eng = store.make_engine(env.database_url)
    store.init_db(eng)
    return eng


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def when(dt: datetime | None) -> str:
    """A time in a table: ISO-8601 UTC with its offset, to the minute."""
    return dt.astimezone(UTC).isoformat(timespec="minutes") if dt else "-"


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"marketbot: {message}", err=True)
    sys.exit(code)
