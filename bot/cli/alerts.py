"""`marketbot alerts …`: the outbox."""

from __future__ import annotations

import csv
import io
import json

import click

from bot import store
from bot.cli.base import cli, engine, fail, table, when
from bot.config import Env


@cli.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["pending", "sent", "failed", "held"]),
              default=None, help="Only alerts in this state (held: waiting for a confirming "
                                 "source).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json and csv give every field of every alert.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def alerts(ctx: click.Context, status: str | None, fmt: str, limit: int) -> None:
    """List alerts in the outbox (pending, sent, failed, held), newest first.

    With --format json (or csv), each alert's rule, company, metric, basis, period,
    value (approx, low, high), previous period and value, change, status, source link,
    evidence, and a derived metric's inputs with their periods, values and sources.
    `marketbot show ID` explains one alert.

    \b
    Example:
      marketbot alerts --status failed
      marketbot alerts --status held --format json
      marketbot alerts retry --failed
    """
    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.obj
    with store.transaction(engine(env)) as s:
        rows = store.alerts.listing(s, status, limit)
        if fmt != "table":
            from bot.explain import alert_record

            records = [alert_record(s, r) for r in rows]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        _csv([_flat(r) for r in records])
        return
    from bot.explain import held_reason

    out = []
    for r in rows:
        payload = json.loads(r.payload)
        what = _alert_line(r, payload)
        detail = r.last_error or ("ts " + r.slack_ts if r.slack_ts else "")
        if r.status == "held":
            detail = f"held: {held_reason(r, payload)}"
        out.append([r.id, r.status, when(r.created_at), r.channel, what[:80], r.attempts,
                    detail])
    click.echo(table(["id", "status", "created", "channel", "alert", "tries", "detail"], out))


def _alert_line(row, payload: dict) -> str:
    from bot.slack import headline
    kind = row.kind
    if kind == "rule" and "metric_label" in payload:
        return headline(payload)
    if kind == "rule":
        return f"{row.company} {row.metric} {row.basis} {row.period} {row.value}"
    if kind == "correction":
        return (f"correction: {payload['company']} {payload['metric_label']} "
                f"{payload['period']} {payload.get('was_text')} → {payload['value_text']}")
    return f"{kind} {payload.get('feed')}"


CSV_COLUMNS = ["id", "kind", "status", "rule", "severity", "channel", "company", "metric",
               "basis", "accounting", "period", "value", "unit", "approx", "low", "high",
               "previous_period", "previous_value", "change", "source_kind", "link",
               "evidence", "formula", "inputs", "held_reason", "created_at", "sent_at",
               "last_error"]


def _flat(r: dict) -> dict:
    """One CSV row: the previous value and the inputs folded into cells."""
    prev = r.get("previous") or {}
    inputs = "; ".join(f"{i.get('metric')} {i.get('period')} {i.get('value')} "
                       f"({i.get('source_kind')}{', ' + i['link'] if i.get('link') else ''})"
                       for i in r.get("inputs") or [])
    return {**{c: r.get(c) for c in CSV_COLUMNS}, "previous_period": prev.get("period"),
            "previous_value": prev.get("value"),
            "change": (r.get("change") or {}).get("text"), "inputs": inputs or None}


def _csv(rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    click.echo(buf.getvalue(), nl=False)


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
