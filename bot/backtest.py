"""Backtest: the alerts a set of rules would have sent on the stored history.

The stored items are replayed, oldest first, into a throwaway SQLite database through
the live pipeline (bot.pipeline → the evaluation stage), one poll per item, with a clock
set just after each item's publication: the same code that alerts live decides here, so
a backtest and the live bot cannot disagree. An item brings the figures stored for it
(never re-extracted, derived values left to be recomputed); texts from a corpus
directory (`--corpus`) are extracted as a feed's items would be. Nothing is sent and the
real database is only read.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app import build_app
from bot.config import Config, Env, FeedConfig
from bot.extract import read_corpus_doc
from bot.figures import DERIVED_SOURCE, Figure
from bot.items import Item
from bot.pipeline import Batch, Pipeline
from bot.store.tables import AlertRow, FigureRow, ItemRow

log = logging.getLogger("marketbot.backtest")

FEED = "backtest"
STEP = timedelta(minutes=1)  # the clock stands this long after each item's publication


@dataclass
class Fired:
    """An alert the rules would have sent (or held), with the item that caused it."""

    id: int
    rule: str | None
    company: str | None
    metric: str | None
    period: str | None
    status: str
    line: str
    at: datetime | None  # publication of the item that caused it
    item: str  # its title, or where it came from
    payload: dict


@dataclass
class Result:
    alerts: list[Fired] = field(default_factory=list)
    items: int = 0
    figures: int = 0
    texts: int = 0
    skipped: list[str] = field(default_factory=list)  # what could not be replayed, and why


def stored_items(engine: Engine, companies: set[str]) -> tuple[list[Item], list[str]]:
    """Every stored item with its stored (non-derived) figures, as the pipeline's input."""
    items, skipped = [], []
    with Session(engine) as s:
        rows = list(s.exec(select(ItemRow).order_by(col(ItemRow.published_at), ItemRow.id)))
        figures: dict[int, list[FigureRow]] = {}
        for f in s.exec(select(FigureRow).where(FigureRow.source_kind != DERIVED_SOURCE)):
            figures.setdefault(f.item_id, []).append(f)
    for row in rows:
        if row.company not in companies:
            skipped.append(f"item {row.id}: company {row.company} is not in the config")
            continue
        items.append(_item(row, figures.get(row.id, [])))
    return items, skipped


def _item(row: ItemRow, figures: list[FigureRow]) -> Item:
    item = Item(feed=row.feed, title=row.title, link=row.link, guid=row.guid,
                content=row.text, published=row.published_at, source_kind=row.source_kind,
                company=row.company, article_url=row.article_url, stated_only=True,
                meta={"content_hash": row.content_hash})
    # The stored spans index the stored text; the item's text may put the title before it.
    shift = item.text.find(row.text) if row.text else -1
    stated = tuple(Figure(
        metric=f.metric, basis=f.basis, value=f.value, unit=f.unit, period=f.period,
        evidence=f.evidence, approx=f.approx, low=f.low, high=f.high, accounting=f.accounting,
        comparative=f.comparative, table=f.from_table, confidence=f.confidence,
        span=(f.span_start + shift, f.span_end + shift)
        if shift >= 0 and f.span_start is not None and f.span_end is not None else (0, 0),
    ) for f in figures)
    return item.with_(figures=stated)


def corpus_items(folder: Path, companies: set[str], default: str) -> tuple[list[Item],
                                                                              list[str]]:
    """Dated texts in the corpus format (header, `---`, text) as feed items to extract:
    press releases as `company-ir`, the rest as `news`."""
    items, skipped = [], []
    for path in sorted(folder.glob("*.txt")):
        header, body = read_corpus_doc(path.read_text(encoding="utf-8", errors="replace"))
        day: date | None = header.get("published")
        company = str(header.get("company") or default).upper()
        if day is None:
            skipped.append(f"{path.name}: no publication date")
            continue
        if company not in companies:
            skipped.append(f"{path.name}: company {company} is not in the config")
            continue
        first, _, rest = body.strip().partition("\n")
        title, content = (first.strip(), rest) if len(first) <= 200 and rest.strip() \
            else ("", body)
        source = str(header.get("source") or "")
        items.append(Item(
            feed="corpus", title=title, content=content, guid=f"corpus:{path.stem}",
            link=source.split()[0] if source.startswith(("http://", "https://")) else None,
            published=datetime.combine(day, datetime.min.time(), UTC).replace(hour=12),
            source_kind="company-ir" if header.get("kind") == "press-release" else "news",
            company=company))
    return items, skipped


class _OneAtATime:
    """A source that hands the pipeline the next item on each poll."""

    def __init__(self):
        self.next: Item | None = None

    def collect(self, feed: FeedConfig, state, unseen) -> Batch:
        item, self.next = self.next, None
        return Batch(items=[item] if item else [])


def replay(config: Config, items: Iterable[Item], *, workdir: Path | None = None) -> Result:
    """Run `items` (oldest first) through the live pipeline into a throwaway database."""
    ordered = sorted(items, key=lambda i: (i.published is None, i.published or datetime.min))
    result = Result()
    feed = FeedConfig(name=FEED, url="backtest.invalid", every=60)
    config = config.model_copy(update={"feeds": (feed,)})
    with tempfile.TemporaryDirectory(prefix="marketbot-backtest-") as tmp:
        db = Path(workdir or tmp) / "backtest.db"
        clock = _Clock(ordered[0].published if ordered and ordered[0].published else None)
        app = build_app(config, Env(database_url=f"sqlite:///{db}"), clock=clock)
        try:
            source = _OneAtATime()
            pipeline = Pipeline(app, {"rss": source})
            seen = 0
            for item in ordered:
                if item.published is not None:
                    clock.now = max(clock.now, item.published + STEP)
                else:
                    clock.now += STEP
                source.next = item
                polled = pipeline.poll(feed)
                if not polled.ok:
                    result.skipped.append(f"{item.title[:60] or item.guid}: {polled.error}")
                result.items += polled.new_items
                result.figures += polled.figures
                result.texts += not item.stated_only
                seen = _collect(app.engine, seen, item, result)
        finally:
            app.close()
    return result


def _collect(engine: Engine, after: int, item: Item, result: Result) -> int:
    """The rule alerts the last poll queued (ids above `after`)."""
    from bot.slack import headline

    with Session(engine) as s:
        rows = list(s.exec(select(AlertRow).where(col(AlertRow.id) > after)
                           .order_by(col(AlertRow.id))))
    for r in rows:
        if r.kind != "rule":
            continue
        p = json.loads(r.payload or "{}")
        result.alerts.append(Fired(
            r.id, r.rule_id, r.company, r.metric, r.period, r.status,
            headline(p) if "metric_label" in p else r.dedupe_key, item.published,
            item.title or item.guid or item.feed, p))
    return max([after] + [r.id for r in rows])


class _Clock:
    def __init__(self, start: datetime | None):
        self.now = start or datetime(2000, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def report(result: Result, config: Config, *, since: date | None = None) -> dict:
    """What a trader reads: the alerts per period, and totals per rule."""
    shown = [a for a in result.alerts
             if since is None or a.at is None or a.at.date() >= since]
    periods: dict[str, list[Fired]] = {}
    for a in shown:
        periods.setdefault(a.period or "no period", []).append(a)
    totals = {r.rule_id: {"alerts": 0, "held": 0} for r in config.rules}
    for a in shown:
        t = totals.setdefault(a.rule or "?", {"alerts": 0, "held": 0})
        t["held" if a.status == "held" else "alerts"] += 1
    return {
        "items": result.items, "figures": result.figures, "texts": result.texts,
        "skipped": result.skipped, "since": since.isoformat() if since else None,
        "periods": {p: [_record(a) for a in alerts] for p, alerts in sorted(periods.items())},
        "totals": totals,
        "total": sum(t["alerts"] for t in totals.values()),
        "held": sum(t["held"] for t in totals.values()),
    }


def _record(a: Fired) -> dict:
    return {"rule": a.rule, "company": a.company, "metric": a.metric, "period": a.period,
            "status": a.status, "alert": a.line,
            "published": a.at.isoformat() if a.at else None, "item": a.item,
            "value": a.payload.get("value"),
            "previous": (a.payload.get("previous") or {}).get("value"),
            "change": a.payload.get("change_text"), "crossed": a.payload.get("crossed")}


def text(rep: dict, rules_file: str) -> str:
    out = [f"backtest: the rules of {rules_file} over {rep['items']} stored item(s)"
           + (f" and {rep['texts']} corpus text(s)" if rep["texts"] else "")
           + (f"; alerts from {rep['since']} on" if rep["since"] else "")
           + " (nothing was sent, the database is unchanged)"]
    for period, alerts in rep["periods"].items():
        out.append(f"\n{period}")
        for a in alerts:
            held = " [held]" if a["status"] == "held" else ""
            day = (a["published"] or "undated")[:10]
            out.append(f"  {day}  {a['rule']:<28} {a['alert']}{held}  ({a['item'][:60]})")
    out.append(f"\n{'rule':<32} {'alerts':>6} {'held':>5}")
    for rule, t in rep["totals"].items():
        out.append(f"{rule:<32} {t['alerts']:>6} {t['held']:>5}")
    out.append(f"{'total':<32} {rep['total']:>6} {rep['held']:>5}")
    for why in rep["skipped"]:
        out.append(f"skipped: {why}")
    return "\n".join(out)


__all__ = ["corpus_items", "replay", "report", "stored_items", "text"]
