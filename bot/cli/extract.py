"""`marketbot extract`: the figures in a text."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import click

from bot.cli.base import DEFAULT_CONFIG, cli, fail, globals_of, table
from bot.config import load_config
from bot.fiscal import FiscalCalendar


@cli.command()
@click.argument("file", required=False, default="-")
@click.option("--published", type=click.DateTime(["%Y-%m-%d"]),
              help="Publication date (resolves 'Q1', 'this quarter'…).")
@click.option("--company", help="Ticker whose fiscal calendar to use (from the config).")
@click.option("--html", "is_html", is_flag=True, help="The input is HTML: read its tables.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True)
def extract(file: str, published: datetime | None, company: str | None, is_html: bool,
            fmt: str) -> None:
    """Print the figures in a text (FILE or - for stdin).

    A corpus document's `published:` header is honoured when --published is not given.
    The company's calendar comes from --config (default feeds.yaml if present).

    \b
    Example:
      marketbot extract article.txt --published 2026-06-06 --format table
      curl -s https://…/ex99-1.htm | marketbot extract - --html
    """
    from bot.extract import extract as run_extract
    from bot.extract import extract_html, read_corpus_doc

    raw = sys.stdin.read() if file == "-" else _read_text(file)
    header, body = read_corpus_doc(raw)
    day: date | None = published.date() if published else header.get("published")
    calendar = _calendar(company, globals_of().config_path)
    if is_html:
        _, figures = extract_html(body, published=day, calendar=calendar)
    else:
        figures = run_extract(body, published=day, calendar=calendar)
    records = [f.to_dict() for f in figures]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    from bot.rules import format_value
    click.echo(table(
        ["metric", "basis", "period", "value", "accounting", "flags", "conf", "evidence"],
        [[r["metric"], r["basis"], r["period"] or "-",
          ("~" if r["approx"] else "") + format_value(r["value"], r["unit"]),
          r["accounting"] or "", ",".join(k for k in ("comparative", "table") if r[k]),
          f"{r['confidence']:.2f}", r["evidence"][:70]] for r in records]))


def _read_text(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")


def _calendar(ticker: str | None, config_path: str | None) -> FiscalCalendar:
    from bot.fiscal import DELL
    path = config_path or os.environ.get("MARKETBOT_CONFIG") or DEFAULT_CONFIG
    if not ticker and not config_path:
        return DELL
    if not Path(path).exists():
        if config_path:
            fail(f"config {path} not found", 2)
        if ticker and ticker != "DELL":
            fail(f"company {ticker} needs a config that defines it (--config)", 2)
        return DELL
    config = load_config(path)
    try:
        return config.company_for(ticker).calendar
    except KeyError:
        fail(f"company {ticker} is not in {path}", 2)
