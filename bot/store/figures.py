"""Figures: every observation kept with its evidence; the current value of a
(company, metric, basis, period) is chosen by source authority, then recency."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import case, or_, text, tuple_
from sqlalchemy import insert as sql_insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from bot.figures import DERIVED_SOURCE, SOURCE_KINDS, Figure
from bot.fiscal import Period
from bot.items import Item
from bot.store.tables import FigureRow, ItemRow, utcnow

_AUTHORITY = case({k: i for i, k in enumerate(SOURCE_KINDS)}, value=FigureRow.source_kind,
                  else_=len(SOURCE_KINDS))


@dataclass(frozen=True)
class Stored:
    """What the evaluation needs of a figure just stored: which series point it touches."""

    company: str
    metric: str
    basis: str
    accounting: str | None
    period: str | None
    source_kind: str


def insert_many(s: Session, batch: Sequence[tuple[int, Item, Sequence[Figure]]]
                ) -> list[Stored]:
    """Store the figures of several items in one statement (executemany, without building
    ORM objects: the cost of a batch is the database's, not Python's)."""
    rows = [dict(
        item_id=item_id, company=item.company, metric=f.metric, basis=f.basis, period=f.period,
        value=f.value, unit=f.unit, approx=f.approx, low=f.low, high=f.high,
        accounting=f.accounting, comparative=f.comparative, from_table=f.table,
        confidence=f.confidence, evidence=f.evidence, span_start=f.span[0], span_end=f.span[1],
        source_kind=item.source_kind, published_at=item.published, observed_at=now,
        inputs=None,
    ) for now in [utcnow()] for item_id, item, figures in batch for f in figures]
    if not rows:
        return []
    s.execute(sql_insert(FigureRow.__table__), rows)  # executemany: no ids needed back
    return [Stored(r["company"], r["metric"], r["basis"], r["accounting"], r["period"],
                   r["source_kind"]) for r in rows]


def insert_derived(s: Session, *, item_id: int | None, company: str, derived,
                   published: datetime | None, comparative: bool = False,
                   observed: datetime | None = None,
                   hedges: dict[int, str] | None = None) -> SimpleNamespace:
    """Store a derived value with the inputs it came from (bot.derive.Derived), dated by
    its newest input (`published`), not by when it was computed, approximate when an
    input is (with the range the inputs allow, and each approximate input's hedge words:
    `hedges` by figure id). Returns the row as stored (the attributes of a FigureRow)."""
    hedges = hedges or {}
    values = dict(
        item_id=item_id, company=company, metric=derived.metric, basis="actual",
        period=derived.period, value=derived.value, unit=derived.unit, approx=derived.approx,
        low=derived.low, high=derived.high, accounting=derived.accounting,
        comparative=comparative,
        from_table=False, confidence=derived.confidence, evidence=derived.evidence,
        span_start=None, span_end=None, source_kind=DERIVED_SOURCE, published_at=published,
        observed_at=observed or utcnow(),
        inputs=json.dumps([{"id": i.figure_id, "metric": i.metric, "basis": i.basis,
                            "period": i.period, "value": i.value,
                            "source_kind": i.source_kind, "approx": i.approx, "low": i.low,
                            "high": i.high, "hedge": hedges.get(i.figure_id)}
                           for i in derived.inputs]),
    )
    table = FigureRow.__table__
    new_id = s.execute(sql_insert(table).returning(table.c.id), [values]).scalar_one()
    return SimpleNamespace(id=new_id, **values)


# What deciding reads of a figure (its evidence is read only for the few that alert).
_SERIES_COLUMNS = ("id", "item_id", "company", "metric", "basis", "period", "value", "unit",
                   "approx", "low", "high", "accounting", "comparative", "confidence",
                   "span_start", "source_kind", "published_at", "inputs")


def get(s: Session, figure_id: int) -> FigureRow | None:
    return s.get(FigureRow, figure_id)


def of_keys(s: Session, *, company: str, keys: Iterable[tuple[str, str]]
            ) -> list[tuple[FigureRow, str | None]]:
    """Every figure of a company for these (metric, period) pairs, with its item's dedupe
    key (a content-derived tie-break), feed and links (who said it): one query for a whole
    evaluation."""
    pairs = sorted(set(keys))
    if not pairs:
        return []
    figure = FigureRow.__table__
    out = []
    for i in range(0, len(pairs), 400):  # a few hundred pairs per statement
        # Plain rows (attribute access like a FigureRow), not ORM objects: an evaluation
        # reads thousands of them and changes none.
        q = (sql_select(*(figure.c[c] for c in _SERIES_COLUMNS),
                        col(ItemRow.dedupe_key).label("item_key"),
                        col(ItemRow.feed).label("item_feed"),
                        col(ItemRow.link).label("item_link"),
                        col(ItemRow.article_url).label("item_article_url"))
             .select_from(figure.outerjoin(ItemRow.__table__))
             .where(figure.c.company == company,
                    tuple_(figure.c.metric, figure.c.period).in_(pairs[i:i + 400])))
        out += [(row, row.item_key) for row in s.execute(q)]
    return out


def lock_company(s: Session, company: str) -> None:
    """Serialize the evaluations of one company across transactions and processes: an
    evaluation reads what is stored before it decides, so two of them at once (orders
    stored by one feed, revenue by another) could each miss the other's figure.
    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write transaction
    (BEGIN IMMEDIATE) already excludes every other writer."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                  {"k": f"marketbot:company:{company}"})


def latest_quarter(s: Session, *, company: str, metric: str, basis: str = "actual"
                   ) -> Period | None:
    """The latest fiscal quarter with a stored figure for this metric."""
    labels = s.exec(select(FigureRow.period).distinct().where(
        FigureRow.company == company, FigureRow.metric == metric, FigureRow.basis == basis,
        col(FigureRow.period).like("FY____-Q_")))
    periods = [Period.parse(p) for p in labels if p]
    return max(periods, default=None)


def accounting_family(accounting: str | None) -> str:
    """Reported (GAAP, or unqualified) figures compare with each other; non-GAAP with non-GAAP."""
    return "non_gaap" if accounting == "non_gaap" else "gaap"


def current(s: Session, *, company: str, metric: str, basis: str, period: str,
            accounting: str | None = None, exclude_item: int | None = None
            ) -> FigureRow | None:
    """The value that stands for a period: most authoritative source, then newest."""
    q = _of_period(select(FigureRow), company, metric, basis, period, accounting, exclude_item)
    q = q.order_by(_AUTHORITY, col(FigureRow.published_at).desc().nulls_last(),
                   col(FigureRow.id).desc())
    return s.exec(q.limit(1)).first()


def values_for(s: Session, *, company: str, metric: str, basis: str, period: str,
               accounting: str | None = None, exclude_item: int | None = None) -> list[float]:
    """Every value observed for a period (one accounting family)."""
    q = _of_period(select(FigureRow.value), company, metric, basis, period, accounting,
                   exclude_item)
    return list(s.exec(q))


def _of_period(q, company: str, metric: str, basis: str, period: str, accounting: str | None,
               exclude_item: int | None):
    """Restrict a query to one (company, metric, basis, period, accounting family)."""
    q = q.where(FigureRow.company == company, FigureRow.metric == metric,
                FigureRow.basis == basis, FigureRow.period == period)
    if accounting_family(accounting) == "non_gaap":
        q = q.where(FigureRow.accounting == "non_gaap")
    else:
        q = q.where(or_(col(FigureRow.accounting).is_(None), FigureRow.accounting == "gaap"))
    if exclude_item is not None:
        q = q.where(FigureRow.item_id != exclude_item)
    return q


def history(s: Session, *, metric: str | None = None, company: str | None = None,
            since: datetime | None = None, limit: int | None = None
            ) -> list[tuple[FigureRow, ItemRow | None]]:
    q = select(FigureRow, ItemRow).join(ItemRow, isouter=True)
    if metric:
        q = q.where(FigureRow.metric == metric)
    if company:
        q = q.where(FigureRow.company == company)
    if since:
        q = q.where(col(FigureRow.published_at) >= since)
    q = q.order_by(col(FigureRow.published_at).desc().nulls_last(), col(FigureRow.id).desc())
    if limit:
        q = q.limit(limit)
    return list(s.exec(q))


def get(s: Session, figure_id: int) -> FigureRow | None:
    return s.get(FigureRow, figure_id)


def of_item(s: Session, item_id: int) -> list[FigureRow]:
    """The figures stored from one item (derived values it triggered included)."""
    return list(s.exec(select(FigureRow).where(FigureRow.item_id == item_id)
                       .order_by(col(FigureRow.id))))
