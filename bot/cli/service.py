"""`marketbot run` and `marketbot backfill`: the long-running service and its history."""

from __future__ import annotations

import logging
import sys
from datetime import datetime

import click

from bot.cli.base import cli, fail, get_config
from bot.config import Env

log = logging.getLogger("marketbot")


@cli.command()
@click.option("--once", is_flag=True, help="Poll every feed once, deliver alerts, exit.")
@click.pass_obj
def run(env: Env, once: bool) -> None:
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

    config = get_config()
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
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Only filings filed on/after YYYY-MM-DD (default: all).")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME",
              help="Only this EDGAR feed (repeatable; default: every enabled one).")
@click.pass_obj
def backfill(env: Env, since: datetime | None,
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

    config = get_config()
    app = build_app(config, env)
    try:
        try:
            feeds = edgar_feeds(app, feed_names)
        except KeyError as exc:
            fail(f"no EDGAR feed named {exc.args[0]!r} in the config", 2)
        if not feeds:
            fail("no enabled EDGAR feed (kind: edgar) in the config", 2)
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
