"""`marketbot alerts …`: the outbox."""

from __future__ import annotations

import json

import click

from bot import store
from bot.cli.base import cli, engine, fail, table, when
from bot.config import Env


@cli.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def alerts(ctx: click.Context, status: str | None, limit: int) -> None:
    """List alerts in the outbox (pending, sent, failed), newest first.

    \b
    Example:
      marketbot alerts --status failed
      marketbot alerts retry --failed
    """
    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.obj
    with store.transaction(engine(env)) as s:
        rows = store.alerts.listing(s, status, limit)
    out = []
    for r in rows:
        payload = json.loads(r.payload)
        what = _alert_line(r.kind, payload)
        out.append([r.id, r.status, when(r.created_at), r.channel, what[:80],
                    r.attempts, r.last_error or ("ts " + r.slack_ts if r.slack_ts else "")])
    click.echo(table(["id", "status", "created", "channel", "alert", "tries", "detail"], out))


def _alert_line(kind: str, payload: dict) -> str:
    from bot.slack import headline
    if kind == "rule":
        return headline(payload)
    if kind == "correction":
        return (f"correction: {payload['company']} {payload['metric_label']} "
                f"{payload['period']} {payload.get('was_text')} → {payload['value_text']}")
    return f"{kind} {payload.get('feed')}"


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Re-queue every failed alert.")
@click.pass_obj
def alerts_retry(env: Env, ids: tuple[int, ...], all_failed: bool) -> None:
    """Re-queue failed alerts (by ID, or all with --failed) for the next delivery.

    \b
    Example:
      marketbot alerts retry 12 13
    """
    if not ids and not all_failed:
        fail("give alert IDs or --failed", 2)
    with store.transaction(engine(env)) as s:
        n = store.alerts.requeue(s, None if all_failed else list(ids))
    click.echo(f"re-queued {n} alert(s)")
