"""After an item's figures are stored: derive, reconcile, evaluate → outbox rows.

Runs inside the poll's transaction, so the alerts are written together with the
figures that caused them. The decisions are the pure functions of bot.derive and
bot.rules; this module only looks values up and writes rows.

- Derive: every derived value an input feeds is recomputed from the current
  inputs and stored when it changed (with the inputs it came from).
- Evaluate: the item's own figures (one per metric/period), the derived values
  that changed, and — when an item brings the comparison basis late (last
  quarter's margin after this quarter's) — the latest quarter's figure again.
- Reconcile: every observation keeps its row; the current value of a period is the
  most authoritative source's (xbrl > sec-filing > company-ir > news), then the
  newest. When the current value of a period an alert was built on moves away
  from the alerted value by more than the tolerance, a correction is queued for
  that alert's thread. A rule fires once per (rule, metric, basis, period): later
  values of the same period become corrections, not new alerts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import derive, rules, store
from bot.alerts import correction_alert, rule_alert
from bot.config import CompanyConfig, Config, RuleConfig
from bot.figures import DERIVED_SOURCE, METRICS, authority
from bot.fiscal import Period
from bot.items import Item
from bot.rules import Observation
from bot.store.figures import accounting_family
from bot.store.tables import AlertRow, FigureRow, ItemRow
from bot.text import sentence_at

log = logging.getLogger("marketbot.analysis")


def observation(row: FigureRow) -> Observation:
    return Observation(
        company=row.company, metric=row.metric, basis=row.basis, period=row.period,
        value=row.value, unit=row.unit, accounting=row.accounting, confidence=row.confidence,
        comparative=row.comparative, source_kind=row.source_kind, published=row.published_at,
        figure_id=row.id, approx=row.approx)


@dataclass
class Analysis:
    config: Config
    now: datetime

    def run(self, s: Session, item: Item, item_id: int, rows: list[FigureRow],
            company: CompanyConfig) -> list[AlertRow]:
        """The alert rows this item causes (already inserted)."""
        ctx = _Context(self, s, item, item_id, company)
        derived = ctx.derive(rows)
        if self._too_old(item):
            log.info("rules: %s: %s is older than alert_max_age: stored, not alerted",
                     item.feed, item.title[:80])
            return []
        candidates = [r for r in _best_per_key(rows) if ctx.stands(r)]
        candidates += derived + ctx.late_basis(rows)
        queued = []
        for row in _unique(candidates):
            queued += ctx.evaluate(row)
        for row in _unique(rows + derived):
            queued += ctx.reconcile(row)
        return queued


    def _too_old(self, item: Item) -> bool:
        limit = self.config.alert_max_age
        return bool(limit and item.published
                    and self.now - item.published > timedelta(seconds=limit))


class _Context:
    def __init__(self, analysis: Analysis, s: Session, item: Item, item_id: int,
                 company: CompanyConfig):
        self.cfg, self.now = analysis.config, analysis.now
        self.s, self.item, self.item_id, self.company = s, item, item_id, company
        self._items: dict[int, ItemRow | None] = {}

    # -------------------------------------------------------------- lookups
    def current(self, metric: str, basis: str, period: str, accounting: str | None,
                exclude_item: int | None = None) -> FigureRow | None:
        return store.figures.current(self.s, company=self.company.ticker, metric=metric,
                                     basis=basis, period=period, accounting=accounting,
                                     exclude_item=exclude_item)

    def stands(self, row: FigureRow) -> bool:
        """Whether this item holds the current value of the row's period: a later but less
        authoritative report of a period never alerts (and never corrects)."""
        found = self.current(row.metric, row.basis, row.period, row.accounting)
        return found is not None and found.item_id == row.item_id

    def lookup_for(self, row: FigureRow) -> rules.Lookup:
        """Values standing for other periods; for the row's own period (revisions), the
        value that stood before this item."""
        def lookup(metric, basis, period, accounting):
            found = self.current(metric, basis, period, accounting,
                                 exclude_item=row.item_id if period == row.period else None)
            return observation(found) if found else None
        return lookup

    def lookup(self, metric, basis, period, accounting) -> Observation | None:
        found = self.current(metric, basis, period, accounting)
        return observation(found) if found else None

    # -------------------------------------------------------------- derive
    def derive(self, rows: list[FigureRow]) -> list[FigureRow]:
        targets = []
        for row in rows:
            if row.source_kind == DERIVED_SOURCE:
                continue
            for key in derive.affected(row.metric, row.basis, row.period, row.accounting):
                if key not in targets:
                    targets.append(key)
        out = []
        for metric, period, accounting in targets:
            value = derive.compute(metric, period, accounting, self.lookup)
            if value is None:
                continue
            before = self.current(metric, "actual", period, accounting)
            if before is not None and abs(before.value - value.value) <= 1e-9:
                continue
            # Stamped with the time of computation: among derived values of one period
            # the newest computation (from the inputs current now) stands.
            out.append(store.figures.insert_derived(
                self.s, item_id=self.item_id, company=self.company.ticker, derived=value,
                published=self.now))
        return out

    def late_basis(self, rows: list[FigureRow]) -> list[FigureRow]:
        """The latest quarter's figure, when this item brings its comparison basis."""
        out = []
        for row in rows:
            if row.basis != "actual" or not row.period or row.source_kind == DERIVED_SOURCE:
                continue
            p = Period.parse(row.period)
            if p.quarter is None:
                continue
            latest = store.figures.latest_quarter(self.s, company=row.company, metric=row.metric)
            if latest is None or latest <= p:
                continue
            later = {Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, p.quarter + 1),
                     Period(p.year + 1, p.quarter)}
            if latest in later:
                found = self.current(row.metric, "actual", latest.label, row.accounting)
                if found is not None and found.item_id != self.item_id:
                    out.append(found)
        return out

    # -------------------------------------------------------------- evaluate
    def evaluate(self, row: FigureRow) -> list[AlertRow]:
        obs = observation(row)
        out = []
        for firing in rules.evaluate(self.cfg.rules, obs, self.lookup_for(row)):
            if self._cooling_down(firing.rule, obs):
                continue
            if firing.rule.revision_pct is not None and self._stated_before(row):
                log.info("rules: %s: %s %s %s repeats earlier guidance, not a revision",
                         firing.rule.rule_id, obs.metric, obs.period, obs.value)
                continue
            alert = rule_alert(firing, item_id=self.item_id, figure_id=row.id,
                               item=self._source(row), company_name=self.company.name,
                               evidence=self._quote(row),
                               default_channel=self.cfg.slack.channel,
                               inputs=_inputs(row), moves=self._moves(obs),
                               formula=_formula(row))
            if self._queue(alert):
                out.append(alert)
        return out

    def _cooling_down(self, rule: RuleConfig, obs: Observation) -> bool:
        if not rule.cooldown:
            return False
        last = store.alerts.last_fired(self.s, rule_id=rule.rule_id, company=obs.company,
                                       metric=obs.metric)
        if last and self.now - last < timedelta(seconds=rule.cooldown):
            log.info("rules: %s: %s %s in cooldown, not alerted", rule.rule_id, obs.metric,
                     obs.period)
            return True
        return False

    def _stated_before(self, row: FigureRow) -> bool:
        """Whether another item already stated this value for this period (a recap of
        superseded guidance is old news, not a cut)."""
        earlier = store.figures.values_for(
            self.s, company=row.company, metric=row.metric, basis=row.basis, period=row.period,
            accounting=row.accounting, exclude_item=row.item_id)
        return any(not _differs(v, row.value, row.unit, self.cfg.reconcile) for v in earlier)

    def _moves(self, obs: Observation) -> dict[str, str]:
        """A margin's q/q and y/y moves, for the message."""
        if obs.metric not in METRICS or not METRICS[obs.metric].margin or not obs.period:
            return {}
        out = {}
        for kind in ("qoq", "yoy"):
            d = derive.compute(f"{obs.metric}_{kind}_bps", obs.period, obs.accounting,
                               self.lookup)
            if d is not None:
                out[kind] = rules.format_value(d.value, "bps")
        return out

    # -------------------------------------------------------------- reconcile
    def reconcile(self, row: FigureRow) -> list[AlertRow]:
        if not row.period:
            return []
        current = self.current(row.metric, row.basis, row.period, row.accounting)
        if current is None or current.id != row.id:
            return []  # a more authoritative value stands for this period
        out = []
        for alert in store.alerts.on_key(
                self.s, company=row.company, metric=row.metric, basis=row.basis,
                family=accounting_family(row.accounting), period=row.period):
            if not self._corrects(row, alert):
                continue
            verdict = self._verdict(alert, row)
            correction = correction_alert(alert, observation(row), item=self._source(row),
                                          evidence=self._quote(row), verdict=verdict,
                                          inputs=_inputs(row))
            if self._queue(correction):
                out.append(correction)
        return out

    def _corrects(self, row: FigureRow, alert: AlertRow) -> bool:
        if alert.item_id == row.item_id and row.source_kind != DERIVED_SOURCE:
            return False
        if alert.value is None or not _differs(alert.value, row.value, row.unit,
                                               self.cfg.reconcile):
            return False
        if row.source_kind == DERIVED_SOURCE:
            return True  # recomputed because an input's current value changed
        return authority(row.source_kind) < authority(alert.source_kind)

    def _verdict(self, alert: AlertRow, row: FigureRow) -> str | None:
        rule = next((r for r in self.cfg.rules if r.rule_id == alert.rule_id), None)
        if rule is None:
            return None
        firing = rules.evaluate_rule(rule, observation(row), self.lookup_for(row))
        if firing is None:
            return "with the corrected value the rule no longer fires"
        return "the rule still fires: " + "; ".join(firing.crossed)

    # -------------------------------------------------------------- helpers
    def _quote(self, row: FigureRow) -> str | None:
        """The sentence a figure came from (its evidence is a short exact phrase)."""
        if row.source_kind == DERIVED_SOURCE:
            return None
        if row.span_start is None or row.item_id is None:
            return row.evidence
        src = self._item_row(row.item_id)
        quote = sentence_at(src.text, row.span_start, row.span_end) if src else ""
        return quote if row.evidence in quote else row.evidence

    def _item_row(self, item_id: int) -> ItemRow | None:
        if item_id not in self._items:
            self._items[item_id] = store.items.get(self.s, item_id)
        return self._items[item_id]

    def _queue(self, alert: AlertRow) -> bool:
        return store.alerts.insert(self.s, alert) is not None

    def _source(self, row: FigureRow) -> Item:
        """The item a figure came from (derived values: the item that triggered them)."""
        if row.item_id in (None, self.item_id) or row.source_kind == DERIVED_SOURCE:
            return self.item
        src = self._item_row(row.item_id)
        if src is None:
            return self.item
        return Item(feed=src.feed, title=src.title, link=src.link, guid=src.guid,
                    published=src.published_at, source_kind=src.source_kind,
                    company=src.company, article_url=src.article_url)


def _differs(alerted: float, value: float, unit: str, tol) -> bool:
    if unit == "%":
        return abs(value - alerted) > tol.tolerance_points + 1e-9
    if unit == "bps":
        return abs(value - alerted) > tol.tolerance_points * 100 + 1e-9
    return abs(value - alerted) > abs(alerted) * tol.tolerance_pct / 100 + 1e-9


def _formula(row: FigureRow) -> str | None:
    return derive.formula(row.metric) if row.source_kind == DERIVED_SOURCE else None


def _inputs(row: FigureRow) -> list[str]:
    if not row.inputs:
        return []
    out = []
    for i in json.loads(row.inputs):
        unit = METRICS[i["metric"]].unit if i["metric"] in METRICS else ""
        basis = " guidance" if i.get("basis") == "guidance" else ""
        out.append(f"{METRICS.get(i['metric']).label if i['metric'] in METRICS else i['metric']}"
                   f"{basis} {rules.format_value(i['value'], unit)} ({i['period']}, "
                   f"{i['source_kind']})")
    return out


def _best_per_key(rows: list[FigureRow]) -> list[FigureRow]:
    """One figure per (metric, basis, accounting family, period) of an item: a press
    release states revenue as $29.8 billion and as 29,776 in a table; alert once."""
    best: dict[tuple, FigureRow] = {}
    for r in rows:
        if r.comparative or r.period is None:
            continue
        key = (r.metric, r.basis, accounting_family(r.accounting), r.period)
        cur = best.get(key)
        if cur is None or (r.confidence, -len(r.evidence)) > (cur.confidence, -len(cur.evidence)):
            best[key] = r
    return list(best.values())


def _unique(rows: list[FigureRow]) -> list[FigureRow]:
    seen, out = set(), []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append(r)
    return out
