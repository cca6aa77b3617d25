"""The `marketbot` command line: a thin layer over the library.

Domain errors become one line on stderr and an exit code (config errors: 2),
never a traceback. Every command's help carries an example; a test checks that
each command is documented in the README.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from bot import __version__, store
from bot.config import Config, Env, load_config
from bot.errors import ConfigError, MarketbotError

log = logging.getLogger("marketbot")

DEFAULT_CONFIG = "feeds.yaml"


# ---------------------------------------------------------------- helpers


class RedactingFormatter(logging.Formatter):
    """Last line of defence: no log line — message, traceback or stack — ever carries a
    token or webhook URL, whatever a library puts in an exception."""

    def __init__(self, secrets: list[str], fmt: str, datefmt: str):
        super().__init__(fmt, datefmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text


def setup_logging(level: str, env: Env) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(env.secrets(), "%(asctime)s %(levelname)s "
                                            "%(message)s", "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("marketbot").setLevel(level.upper())
    # Third-party chatter (and slack-sdk's request dumps at DEBUG) stays quiet.
    for noisy in ("httpx", "httpcore", "slack_sdk", "apscheduler", "urllib3", "trafilatura"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _config(path: str | None) -> Config:
    return load_config(path or os.environ.get("MARKETBOT_CONFIG") or DEFAULT_CONFIG)


def _engine(env: Env):
    engine = store.make_engine(env.database_url)
    store.init_db(engine)
    return engine


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if dt else "-"


def _fail(message: str, code: int = 1):
    click.echo(f"marketbot: {message}", err=True)
    sys.exit(code)


class Group(click.Group):
    """Turns domain errors into one line and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            sys.exit(ConfigError.exit_code)
        except MarketbotError as exc:
            _fail(str(exc))


# ---------------------------------------------------------------- commands


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="marketbot")
@click.option("--log-level", default=lambda: os.environ.get("MARKETBOT_LOG_LEVEL", "info"),
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              show_default="info", help="Log verbosity (logs go to stderr).")
@click.pass_context
def cli(ctx: click.Context, log_level: str) -> None:
    """marketbot: polls news and SEC EDGAR feeds, extracts the figures that move a
    stock, stores them with their evidence, and alerts Slack.

    \b
    Example:
      marketbot run --config feeds.yaml --once
    """
    env = Env.from_environ()
    ctx.obj = env
    setup_logging(log_level, env)


@cli.command()
@click.option("--config", "config_path", metavar="PATH", help="Config file (default feeds.yaml).")
@click.option("--once", is_flag=True, help="Poll every feed once, deliver alerts, exit.")
@click.pass_obj
def run(env: Env, config_path: str | None, once: bool) -> None:
    """Poll feeds on their schedules, extract figures, and alert Slack.

    With --once: one pass over every feed, then exit 0 when every feed polled and every
    alert due was delivered, 1 when a feed failed or an alert could not be delivered
    (the last line says which), 2 for a config error.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-… marketbot run --config feeds.yaml
      marketbot run --once          # one pass over every feed, then exit
    """
    from bot.app import build_app
    from bot.delivery import Delivery
    from bot.pipeline import build_pipeline
    from bot.scheduler import Runner, run_once

    config = _config(config_path)
    app = build_app(config, env)
    try:
        pipeline = build_pipeline(app)
        delivery = Delivery(app.engine, app.sink, config.slack, clock=app.clock,
                            telemetry=app.telemetry)
        if app.sink is None:
            log.warning("slack: no SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL: alerts print to "
                        "stdout and stay pending")
        if not once:
            Runner(app, pipeline, delivery).start()
            return
        report = run_once(app, pipeline, delivery)
    finally:
        app.close()
    for failed in report.failed:
        click.echo(f"marketbot: feed {failed.feed} failed: {failed.error}", err=True)
    for name in report.not_polled:
        click.echo(f"marketbot: feed {name} not polled: {report.not_polled[name]}", err=True)
    click.echo(f"marketbot: {report.summary()}", err=True)
    if problems := report.problems():
        click.echo(f"marketbot: run --once failed: {problems}", err=True)
    sys.exit(report.exit_code)


@cli.command()
@click.option("--config", "config_path", metavar="PATH", help="Config file (default feeds.yaml).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Only filings filed on/after YYYY-MM-DD (default: all).")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME",
              help="Only this EDGAR feed (repeatable; default: every enabled one).")
@click.pass_obj
def backfill(env: Env, config_path: str | None, since: datetime | None,
             feed_names: tuple[str, ...]) -> None:
    """Fill figure history from the EDGAR feeds' past filings (no alerts).

    Walks each company's filings (8-K earnings releases, 10-Q/10-K XBRL facts) so that
    change-vs-previous-period rules work from the first day. Stored filings are
    skipped: it can be re-run. Needs edgar.user_agent or SEC_USER_AGENT.

    \b
    Example:
      SEC_USER_AGENT="Jane Trader jane@example.com" marketbot backfill --since 2023-01-01
    """
    from bot.app import build_app
    from bot.edgar.backfill import Backfill, edgar_feeds

    config = _config(config_path)
    app = build_app(config, env)
    try:
        try:
            feeds = edgar_feeds(app, feed_names)
        except KeyError as exc:
            _fail(f"no EDGAR feed named {exc.args[0]!r} in the config", 2)
        if not feeds:
            _fail("no enabled EDGAR feed (kind: edgar) in the config", 2)
        job = Backfill(app)
        plan = job.plan(feeds, since.date() if since else None)
        quiet = logging.getLogger("marketbot.pipeline")
        if not log.isEnabledFor(logging.DEBUG):  # one "poll:" line per filing: the bar says it
            quiet.setLevel(logging.WARNING)
        with click.progressbar(length=len(plan), label="backfill", file=sys.stderr,
                               show_pos=True) as bar:
            report = job.run(plan, progress=bar.update)
    finally:
        logging.getLogger("marketbot.pipeline").setLevel(logging.NOTSET)
        app.close()
    for problem in report.problems:
        click.echo(f"marketbot: backfill: {problem}", err=True)
    click.echo(f"marketbot: backfill: {report.filings} filing(s), {report.new_items} new "
               f"item(s), {report.figures} figure(s), {report.skipped} skipped", err=True)


@cli.group("config")
def config_group() -> None:
    """Work with the config file."""


@config_group.command("check")
@click.argument("path", required=False)
def config_check(path: str | None) -> None:
    """Validate a config file without running (exit 2 and file:line: key on error).

    \b
    Example:
      marketbot config check feeds.yaml
    """
    from bot.edgar.client import unpollable_feeds

    config = _config(path)
    shown = path or os.environ.get("MARKETBOT_CONFIG") or DEFAULT_CONFIG
    click.echo(f"{shown}: ok ({len(config.feeds)} feed(s), {len(config.rules)} rule(s), "
               f"companies: {', '.join(c.ticker for c in config.all_companies)})")
    # Valid, but not pollable in this environment: said here as at start-up.
    for name, why in unpollable_feeds(config, Env.from_environ()).items():
        click.echo(f"{shown}: warning: feed {name} will not be polled: {why}", err=True)


@cli.command()
@click.option("--config", "config_path", metavar="PATH", help="Config file (default feeds.yaml).")
@click.pass_obj
def feeds(env: Env, config_path: str | None) -> None:
    """Show each feed's last success, last error, consecutive failures and next poll.

    \b
    Example:
      marketbot feeds --config feeds.yaml
    """
    from bot.edgar.client import unpollable_feeds

    config = _config(config_path)
    with store.transaction(_engine(env)) as s:
        states = store.feeds.all_states(s)
    skipped = unpollable_feeds(config, env)
    rows = []
    for f in config.feeds:
        st = states.get(f.name)
        rows.append([
            f.name, f.kind, "not polled" if f.name in skipped else "yes" if f.enabled else "no",
            _when(st.last_success_at) if st else "never",
            (f"{_when(st.last_error_at)} {st.last_error}" if st and st.last_error_at
             and st.consecutive_failures else "-"),
            st.consecutive_failures if st else 0,
            _when(st.next_poll_at) if st and st.next_poll_at else "at start",
            st.items_total if st else 0,
        ])
    click.echo(_table(["feed", "kind", "enabled", "last success", "last error", "failures",
                       "next poll", "items"], rows))
    for name, why in skipped.items():
        click.echo(f"{name}: not polled: {why}")


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
        _fail(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}", 2)
    with store.transaction(_engine(env)) as s:
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
        click.echo(_table(shown, [[cell(r, c) for c in shown] for r in records]))


@cli.command()
@click.argument("file", required=False, default="-")
@click.option("--published", type=click.DateTime(["%Y-%m-%d"]),
              help="Publication date (resolves 'Q1', 'this quarter'…).")
@click.option("--company", help="Ticker whose fiscal calendar to use (from the config).")
@click.option("--config", "config_path", metavar="PATH",
              help="Config with the company (default feeds.yaml if present).")
@click.option("--html", "is_html", is_flag=True, help="The input is HTML: read its tables.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True)
def extract(file: str, published: datetime | None, company: str | None,
            config_path: str | None, is_html: bool, fmt: str) -> None:
    """Print the figures in a text (FILE or - for stdin).

    A corpus document's `published:` header is honoured when --published is not given.

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
    calendar = _calendar(company, config_path)
    if is_html:
        _, figures = extract_html(body, published=day, calendar=calendar)
    else:
        figures = run_extract(body, published=day, calendar=calendar)
    records = [f.to_dict() for f in figures]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    from bot.rules import format_value
    click.echo(_table(
        ["metric", "basis", "period", "value", "accounting", "flags", "conf", "evidence"],
        [[r["metric"], r["basis"], r["period"] or "-",
          ("~" if r["approx"] else "") + format_value(r["value"], r["unit"]),
          r["accounting"] or "", ",".join(k for k in ("comparative", "table") if r[k]),
          f"{r['confidence']:.2f}", r["evidence"][:70]] for r in records]))


def _read_text(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")


def _calendar(ticker: str | None, config_path: str | None):
    from bot.fiscal import DELL
    path = config_path or os.environ.get("MARKETBOT_CONFIG") or DEFAULT_CONFIG
    if not ticker and not config_path:
        return DELL
    if not Path(path).exists():
        if config_path:
            _fail(f"config {path} not found", 2)
        if ticker and ticker != "DELL":
            _fail(f"company {ticker} needs a config that defines it (--config)", 2)
        return DELL
    config = load_config(path)
    try:
        return config.company_for(ticker).calendar
    except KeyError:
        _fail(f"company {ticker} is not in {path}", 2)


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
    with store.transaction(_engine(env)) as s:
        rows = store.alerts.listing(s, status, limit)
    out = []
    for r in rows:
        payload = json.loads(r.payload)
        what = _alert_line(r.kind, payload)
        out.append([r.id, r.status, _when(r.created_at), r.channel, what[:80],
                    r.attempts, r.last_error or ("ts " + r.slack_ts if r.slack_ts else "")])
    click.echo(_table(["id", "status", "created", "channel", "alert", "tries", "detail"], out))


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
        _fail("give alert IDs or --failed", 2)
    with store.transaction(_engine(env)) as s:
        n = store.alerts.requeue(s, None if all_failed else list(ids))
    click.echo(f"re-queued {n} alert(s)")


@cli.command()
@click.option("--keep", metavar="DIR", help="Keep the demo database in DIR.")
def demo(keep: str | None) -> None:
    """Run the whole pipeline offline on bundled sample items and show the result.

    No Slack, no internet: a temporary database, a bundled feed of real Dell
    texts, the default rules; prints the alerts it would post and the figures.

    \b
    Example:
      marketbot demo
    """
    from bot.demo import run_demo
    run_demo(keep)


def main() -> None:
    cli(prog_name="marketbot")


if __name__ == "__main__":
    main()
