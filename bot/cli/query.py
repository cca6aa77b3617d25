"""`marketbot feeds` and `marketbot history`: what the bot polled and stored."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import click

from bot import store
from bot.cli.base import cli, engine, fail, get_config, table, when
from bot.config import Env


@cli.command()
@click.pass_obj
def feeds(env: Env) -> None:
    """Show each feed's last success, last error, failures, next poll and replica.

    \b
    Example:
      marketbot feeds --config feeds.yaml
    """
    from bot.edgar.client import unpollable_feeds

    config = get_config()
    with store.transaction(engine(env)) as s:
        states = store.feeds.all_states(s)
        holders = store.feeds.holders(s)
    skipped = unpollable_feeds(config, env)
    rows = []
    for f in config.feeds:
        st = states.get(f.name)
        rows.append([
            f.name, f.kind, "not polled" if f.name in skipped else "yes" if f.enabled else "no",
            when(st.last_success_at) if st else "never",
            (f"{when(st.last_error_at)} {st.last_error}" if st and st.last_error_at
             and st.consecutive_failures else "-"),
            st.consecutive_failures if st else 0,
            when(st.next_poll_at) if st and st.next_poll_at else "at start",
            st.items_total if st else 0,
            _replica(*holders.get(f.name, (None, False))),
        ])
    click.echo(table(["feed", "kind", "enabled", "last success", "last error", "failures",
                       "next poll", "items", "replica"], rows))
    for name, why in skipped.items():
        click.echo(f"{name}: not polled: {why}")


def _replica(holder: str | None, held: bool) -> str:
    """The replica holding the feed's lease, else the one that polled it last."""
    return "-" if holder is None else holder if held else f"{holder} (last)"


@cli.command()
@click.option("--metric", help="Only this metric (e.g. gross_margin).")
@click.option("--company", help="Only this company's ticker.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on/after YYYY-MM-DD.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@click.pass_obj
def history(env: Env, metric: str | None, company: str | None, since: datetime | None,
            fmt: str, limit: int | None) -> None:
    """List stored figures with their source and evidence, newest first.

    \b
    Example:
      marketbot history --metric gross_margin --since 2025-01-01 --format csv
    """
    from bot.figures import METRICS

    if metric and metric not in METRICS:
        fail(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}", 2)
    with store.transaction(engine(env)) as s:
        rows = store.figures.history(s, metric=metric, company=company,
                                     since=since.replace(tzinfo=UTC) if since else None,
                                     limit=limit)
    records = [_figure_record(f, i) for f, i in rows]
    _emit(records, fmt, ["company", "metric", "period", "basis", "accounting", "value", "unit",
                         "source", "published", "evidence"])


def _figure_record(f, item) -> dict:
    return {
        "id": f.id, "company": f.company, "metric": f.metric, "period": f.period,
        "basis": f.basis, "accounting": f.accounting, "value": f.value, "unit": f.unit,
        "approx": f.approx, "comparative": f.comparative, "table": f.from_table,
        "confidence": f.confidence, "source": f.source_kind,
        "published": f.published_at.date().isoformat() if f.published_at else None,
        "title": item.title if item else None,
        "link": item.link if item else None,
        "article_url": item.article_url if item else None,
        "feed": item.feed if item else None, "evidence": f.evidence,
    }


def _emit(records: list[dict], fmt: str, columns: list[str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(records[0]) if records else columns)
        writer.writeheader()
        writer.writerows(records)
        click.echo(buf.getvalue(), nl=False)
    else:
        from bot.rules import format_value

        def cell(r, c):
            if c == "value":
                return ("~" if r.get("approx") else "") + format_value(r["value"], r["unit"])
            if c == "evidence":
                ev = " ".join((r[c] or "").split())
                return ev if len(ev) <= 70 else ev[:69] + "…"
            return r.get(c)
        shown = [c for c in columns if c != "unit"]
        click.echo(table(shown, [[cell(r, c) for c in shown] for r in records]))
