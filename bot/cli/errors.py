"""Errors at the edge: whatever reaches the CLI becomes one line saying what failed
and what to do. `--debug` adds the traceback (bot.cli.base.Root).

`describe(exc)` asks each translator in TRANSLATORS in turn; the first that knows the
exception answers. A more specific translator (a database engine's driver, say) goes
before the generic ones: `TRANSLATORS.insert(0, fn)` or add it to the list below.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from bot.errors import MarketbotError

Translator = Callable[[BaseException], str | None]

DATABASE_HINT = "check DATABASE_URL and that the database is running and reachable"


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ours(exc: BaseException) -> str | None:
    return str(exc) if isinstance(exc, MarketbotError) else None


def _database(exc: BaseException) -> str | None:
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.NoSuchModuleError):
        return (f"DATABASE_URL names a database driver that is not installed "
                f"({one_line(str(exc))}): install it or fix DATABASE_URL")
    if isinstance(exc, sa.ArgumentError):
        return f"DATABASE_URL is not a usable database URL ({one_line(str(exc))}): fix it"
    if isinstance(exc, sa.DBAPIError):
        # The driver's own first line says what happened; SQLAlchemy appends the
        # statement and a link, which a user does not need.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"database error: {one_line(reason)}: {DATABASE_HINT}"
    if isinstance(exc, sa.SQLAlchemyError):
        return f"database error: {one_line(str(exc).splitlines()[0] if str(exc) else '')}: " \
               f"{DATABASE_HINT}"
    return None


def _network(exc: BaseException) -> str | None:
    import httpx

    if isinstance(exc, httpx.HTTPError):
        where = ""
        with contextlib.suppress(RuntimeError):  # no request attached
            where = f" ({exc.request.url.host})"
        return (f"network error{where}: {one_line(str(exc)) or type(exc).__name__}: check the "
                "URL and the connection")
    return None


def _os(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        what = f"{exc.filename}: " if exc.filename else ""
        return f"{what}{exc.strerror or exc}"
    return None


def _missing_module(exc: BaseException) -> str | None:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (f"the Python module {exc.name!r} is not installed: install marketbot with "
                "the extra that needs it (see README, Troubleshooting)")
    return None


TRANSLATORS: list[Translator] = [_ours, _database, _network, _os, _missing_module]


def describe(exc: BaseException) -> str:
    for translate in TRANSLATORS:
        if (message := translate(exc)) is not None:
            return one_line(message, 500)
    return (f"internal error: {type(exc).__name__}: {one_line(str(exc), 200)} "
            "(run with --debug for the traceback, and please report it)")
