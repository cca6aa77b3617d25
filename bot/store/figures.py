"""Figures: every observation kept with its evidence; the current value of a
(company, metric, basis, period) is chosen by source authority, then recency."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, or_, text
from sqlmodel import Session, col, select

from bot.figures import DERIVED_SOURCE, SOURCE_KINDS, Figure
from bot.fiscal import Period
from bot.items import Item
from bot.store.tables import FigureRow, ItemRow

_AUTHORITY = case({k: i for i, k in enumerate(SOURCE_KINDS)}, value=FigureRow.source_kind,
                  else_=len(SOURCE_KINDS))


def insert(s: Session, item_id: int, item: Item, figures: Sequence[Figure]) -> list[FigureRow]:
    rows = [FigureRow(
        item_id=item_id, company=item.company, metric=f.metric, basis=f.basis, period=f.period,
        value=f.value, unit=f.unit, approx=f.approx, low=f.low, high=f.high,
        accounting=f.accounting, comparative=f.comparative, from_table=f.table,
        confidence=f.confidence, evidence=f.evidence, span_start=f.span[0], span_end=f.span[1],
        source_kind=item.source_kind, published_at=item.published,
    ) for f in figures]
    s.add_all(rows)
    s.flush()  # assigns ids
    return rows


def insert_derived(s: Session, *, item_id: int | None, company: str, derived,
                   published: datetime | None, comparative: bool = False,
                   observed: datetime | None = None) -> FigureRow:
    """Store a derived value with the inputs it came from (bot.derive.Derived), dated by
    its newest input (`published`), not by when it was computed."""
    row = FigureRow(
        item_id=item_id, company=company, metric=derived.metric, basis="actual",
        period=derived.period, value=derived.value, unit=derived.unit,
        accounting=derived.accounting, confidence=derived.confidence,
        evidence=derived.evidence, source_kind=DERIVED_SOURCE, published_at=published,
        comparative=comparative,
        inputs=json.dumps([{"id": i.figure_id, "metric": i.metric, "basis": i.basis,
                            "period": i.period, "value": i.value,
                            "source_kind": i.source_kind} for i in derived.inputs]),
    )
    if observed is not None:
        row.observed_at = observed
    s.add(row)
    s.flush()
    return row


def of_periods(s: Session, *, company: str, metrics: Iterable[str], periods: Iterable[str]
               ) -> list[tuple[FigureRow, str | None]]:
    """Every figure of a company for any of these metrics and periods, with its item's
    dedupe key (a content-derived tie-break): one query for a whole evaluation."""
    metrics, periods = sorted(set(metrics)), sorted(set(periods))
    if not metrics or not periods:
        return []
    q = (select(FigureRow, ItemRow.dedupe_key).join(ItemRow, isouter=True)
         .where(FigureRow.company == company, col(FigureRow.metric).in_(metrics),
                col(FigureRow.period).in_(periods)))
    return list(s.exec(q))


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
