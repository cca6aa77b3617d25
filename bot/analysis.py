"""The evaluation stage: what a batch of stored figures means → outbox rows.

Order-independent by construction (docs/alerts.md has the definition and its limits):
every decision is read from the stored figures of the company, never from the item
that happens to be processed, so the alerts a set of items gives are the same whatever
the order, interleaving, concurrency or database they arrive in.

    evaluate(s, config, now, rows)   rows: the figures a batch just stored. For each
                                     company they touch, under its lock
                                     (store.figures.lock_company):
      touched   the series points (metric, basis, accounting family, period) stored
      derive    every derived value a touched point feeds is recomputed from the
                standing inputs and stored when it changed, dated by its newest input
      evaluate  the touched points, the derived ones, and every point that compares
                with one of them (the next quarter's q/q, the next year's y/y): the
                standing value (bot.series) through the rules (bot.rules)
      gate      a firing whose newest input was published longer ago than
                `alert_max_age` is history, not an alert; `cooldown` rate-limits
      reconcile an alert whose standing value or comparison basis moved beyond the
                tolerance gets a correction in its thread (re-evaluation never
                repeats an alert: each has a dedupe key)

Reads are set-based: one query loads every figure the batch's evaluation needs, one
the alerts on those points.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session

from bot import derive, plausibility, rules, series, store
from bot.alerts import correction_alert, rule_alert
from bot.config import CompanyConfig, Config, RuleConfig
from bot.figures import DERIVED_SOURCE, METRICS
from bot.fiscal import Period
from bot.items import Item
from bot.rules import Observation
from bot.store.figures import accounting_family
from bot.store.tables import AlertRow, FigureRow, ItemRow
from bot.text import sentence_at

log = logging.getLogger("marketbot.analysis")


@dataclass(frozen=True, order=True)
class Key:
    """One point of a company's series: what a rule fires on at most once."""

    metric: str
    basis: str
    family: str  # "gaap" (reported or unqualified) or "non_gaap"
    period: str

    @classmethod
    def of(cls, metric: str, basis: str, accounting: str | None, period: str) -> Key:
        return cls(metric, basis, accounting_family(accounting), period)

    @property
    def accounting(self) -> str | None:
        return "non_gaap" if self.family == "non_gaap" else None

    @property
    def derived(self) -> bool:
        return self.metric in METRICS and METRICS[self.metric].derived

    def at(self, period: Period) -> Key:
        return replace(self, period=period.label)


def evaluate(s: Session, config: Config, now: datetime, rows: Iterable[FigureRow]
             ) -> list[AlertRow]:
    """Derive and evaluate what these newly stored figures touch; the alert rows queued."""
    touched: dict[str, set[Key]] = {}
    for r in rows:
        if r.period and r.source_kind != DERIVED_SOURCE:
            touched.setdefault(r.company, set()).add(Key.of(r.metric, r.basis, r.accounting,
                                                            r.period))
    out: list[AlertRow] = []
    for ticker in sorted(touched):  # one lock order for every writer: no deadlock
        store.figures.lock_company(s, ticker)
        out += Evaluation(s, config, _company(config, ticker), now).run(touched[ticker])
    return out


def _company(config: Config, ticker: str) -> CompanyConfig:
    try:
        return config.company_for(ticker)
    except KeyError:  # stored by an earlier config: still evaluated, named by its ticker
        return CompanyConfig(ticker=ticker, name=ticker)


def observation(row: FigureRow, rank: str = "") -> Observation:
    return Observation(
        company=row.company, metric=row.metric, basis=row.basis, period=row.period,
        value=row.value, unit=row.unit, accounting=row.accounting, confidence=row.confidence,
        comparative=row.comparative, source_kind=row.source_kind, published=row.published_at,
        figure_id=row.id, approx=row.approx, low=row.low, high=row.high, item_id=row.item_id,
        rank=rank)


class Snapshot:
    """The stored figures of one company that an evaluation reads, loaded in bulk."""

    def __init__(self, s: Session, company: str, tol):
        self.s, self.company, self.tol = s, company, tol
        self.rows: dict[Key, list[FigureRow]] = {}
        self.by_id: dict[int, FigureRow] = {}
        self.ranks: dict[int, str] = {}
        self.sources: dict[int, plausibility.Source] = {}
        self.loaded: set[Key] = set()
        self._standing: dict[Key, Observation | None] = {}
        self._observations: dict[Key, list[Observation]] = {}

    def load(self, keys: Iterable[Key]) -> None:
        keys = {k for k in keys if k not in self.loaded}
        if not keys:
            return
        found = store.figures.of_keys(self.s, company=self.company,
                                      keys={(k.metric, k.period) for k in keys})
        fresh: set[Key] = set()
        for row, item_key in found:
            key = Key.of(row.metric, row.basis, row.accounting, row.period)
            if key in self.loaded:
                continue  # loaded before (and maybe added to since)
            fresh.add(key)
            self._keep(key, row, item_key)
        self.loaded |= keys | fresh

    def add(self, row: FigureRow) -> None:
        key = Key.of(row.metric, row.basis, row.accounting, row.period)
        self.load([key])
        self._keep(key, row, "")
        self._standing.pop(key, None)
        self._observations.pop(key, None)

    def _keep(self, key: Key, row: FigureRow, item_key: str | None) -> None:
        self.rows.setdefault(key, []).append(row)
        self.by_id[row.id] = row
        # Content-derived: the item's dedupe key and the figure's place in its text.
        self.ranks[row.id] = f"{item_key or ''}\x00{row.span_start or 0:09d}\x00{row.value!r}"
        feed = getattr(row, "item_feed", None) or ""
        url = getattr(row, "item_article_url", None) or getattr(row, "item_link", None)
        self.sources[row.id] = plausibility.Source(row.item_id, feed, _host(url) or feed)

    def observations(self, key: Key) -> list[Observation]:
        if key not in self._observations:
            self.load([key])
            self._observations[key] = [observation(r, self.ranks[r.id])
                                       for r in self.rows.get(key, ())
                                       if r.source_kind != DERIVED_SOURCE]
        return self._observations[key]

    def current(self, key: Key) -> Observation | None:
        if key not in self._standing:
            self._standing[key] = self._current(key)
        return self._standing[key]

    def _current(self, key: Key) -> Observation | None:
        if key.derived:
            # The newest computation: every evaluation that changes an input re-derives,
            # under the company's lock, so the newest row is the value of today's inputs.
            rows = [r for r in self.rows_of(key) if r.source_kind == DERIVED_SOURCE]
            return observation(max(rows, key=lambda r: r.id)) if rows else None
        return series.standing(self.observations(key), self.tol)

    def rows_of(self, key: Key) -> list[FigureRow]:
        self.load([key])
        return self.rows.get(key, [])


class Evaluation:
    """One company's evaluation of one batch."""

    def __init__(self, s: Session, config: Config, company: CompanyConfig, now: datetime):
        self.s, self.cfg, self.company, self.now = s, config, company, now
        self.tol = config.reconcile
        self.rules = [r for r in config.rules if not r.company or r.company == company.ticker]
        self.snap = Snapshot(s, company.ticker, self.tol)
        self.alerts: dict[str, AlertRow] = {}
        self.corrections: dict[int, list[AlertRow]] = {}
        self._items: dict[int, ItemRow | None] = {}
        self._verdicts: dict[tuple, tuple[plausibility.Verdict, list[str], bool]] = {}

    def run(self, touched: set[Key]) -> list[AlertRow]:
        derived = sorted({d for k in touched for d in _feeds(k)})
        targets = self._targets(touched | set(derived))
        self.snap.load(self._needs(derived, targets))
        self._load_alerts(targets)
        for d in derived:
            self._derive(d)
        out: list[AlertRow] = []
        for k in sorted(targets):
            out += self._evaluate(k)
        return out

    # -------------------------------------------------------------- what to read
    def _targets(self, keys: set[Key]) -> set[Key]:
        """The points to evaluate: those stored or derived now, and every point whose
        evaluation reads them — a late quarter is the basis of the next quarter's q/q and
        of the same quarter's y/y a year later, and part of what plausibility compares the
        next quarters, its fiscal year and that year's quarters with (and so of the
        derived values those feed) — only where a rule looks."""
        ruled = {(r.metric, r.basis) for r in self.rules}
        reach = set(keys)
        for k in keys:
            p = Period.parse(k.period)
            reach.add(k.at(Period(p.year + 1, p.quarter)))
            if p.quarter:
                reach.add(k.at(_next(p)))
            if not k.derived and k.basis == "actual":
                read_by = self._read_by(k)
                reach |= set(read_by) | {d for r in read_by for d in _feeds(r)}
        return {k for k in reach if (k.metric, k.basis) in ruled}

    def _read_by(self, key: Key) -> list[Key]:
        """The points whose plausibility reads this one (the inverse of `_around`)."""
        p = Period.parse(key.period)
        out = [key.at(Period(p.year))] + [key.at(Period(p.year, q)) for q in (1, 2, 3, 4)]
        if p.quarter:
            q = p
            for _ in range(self.cfg.plausibility.recent_quarters):
                q = _next(q)
                out.append(key.at(q))
        return out

    def _needs(self, derived: list[Key], targets: set[Key]) -> set[Key]:
        needs = set(derived) | targets
        for k in set(derived) | {t for t in targets if t.derived}:
            needs |= {Key.of(*i) for i in _inputs_of(k)}
        for k in targets:
            p = Period.parse(k.period)
            needs |= {k.at(p.previous()), k.at(p.year_ago())}
        for k in [n for n in needs if not n.derived and n.basis == "actual"]:
            needs |= set(self._around(k))  # what plausibility compares a point with
        return needs

    def _around(self, key: Key) -> list[Key]:
        """The fiscal year, its quarters and the quarters before (bot.plausibility)."""
        p = Period.parse(key.period)
        out = [key.at(Period(p.year))] + [key.at(Period(p.year, q)) for q in (1, 2, 3, 4)]
        if p.quarter:
            out += [key.at(q) for q in _before(p, self.cfg.plausibility.recent_quarters)]
        return out

    def _load_alerts(self, targets: set[Key]) -> None:
        found = store.alerts.rule_alerts_of(self.s, company=self.company.ticker,
                                            metrics={k.metric for k in targets},
                                            periods={k.period for k in targets})
        self.alerts = {a.dedupe_key: a for a in found}
        for c in store.alerts.corrections_of(self.s, [a.id for a in found]):
            self.corrections.setdefault(c.parent_id, []).append(c)

    def lookup(self, metric: str, basis: str, period: str, accounting: str | None
               ) -> Observation | None:
        return self.snap.current(Key.of(metric, basis, accounting, period))

    # -------------------------------------------------------------- derive
    def _derive(self, key: Key) -> None:
        value = derive.compute(key.metric, key.period, key.accounting, self.lookup)
        if value is None:
            return
        before = self.snap.current(key)
        ids = [i.figure_id for i in value.inputs]
        if before is not None and abs(before.value - value.value) <= 1e-9 \
                and _input_ids(self.snap.by_id[before.figure_id]) == ids:
            return
        hedges = {i.figure_id: h for i in value.inputs if i.approx
                  and (h := derive.hedge(getattr(store.figures.get(self.s, i.figure_id),
                                                 "evidence", None)))}
        newest = max(value.inputs, key=lambda i: (i.published is not None, i.published
                                                  or self.now, i.rank))
        comparative = any(not series.is_reported(self.snap.observations(_key(i)))
                          for i in value.inputs)
        row = store.figures.insert_derived(
            self.s, item_id=newest.item_id, company=self.company.ticker, derived=value,
            published=newest.published, comparative=comparative, observed=self.now,
            hedges=hedges)
        self.snap.add(row)

    # -------------------------------------------------------------- evaluate
    def _evaluate(self, key: Key) -> list[AlertRow]:
        cur = self.snap.current(key)
        if cur is None:
            return []
        if not key.derived:
            cur = replace(cur, comparative=not series.is_reported(self.snap.observations(key)))
        out: list[AlertRow] = []
        for rule in self.rules:
            if (rule.metric, rule.basis) != (key.metric, key.basis):
                continue
            if rule.revision_pct is not None:
                out += self._revisions(rule, key, cur)
            else:
                out += self._once(rule, key, cur)
        return out

    def _once(self, rule: RuleConfig, key: Key, cur: Observation) -> list[AlertRow]:
        """A rule that fires at most once per point: new alert, or reconcile the one sent."""
        alert = self.alerts.get(rules.alert_key(rule, cur))
        firing = rules.evaluate_rule(rule, cur, self.lookup)
        if alert is not None:
            return self._again(alert, rule, key, firing, cur)
        if firing is None:
            return []
        dates = self._dates(key)
        if _is_change_rule(rule) and firing.change is not None:
            dates += self._dates(_key(firing.change.previous))
        if self._stale(rule, cur, dates) or self._cooling_down(rule, cur):
            return []
        return self._queue(self._rule_alert(firing, cur, self._gate(rule, key)))

    def _revisions(self, rule: RuleConfig, key: Key, cur: Observation) -> list[AlertRow]:
        """Guidance revisions: every change of the standing value (bot.series.revisions)
        is an event of its own, judged against the value that stood before it."""
        out: list[AlertRow] = []
        events = series.revisions(self.snap.observations(key), self.tol)
        candidates = [(e.after, e.before, [e.at]) for e in events]
        if not events or events[-1].after.figure_id != cur.figure_id:
            candidates.append((cur, None, self._dates(key)))  # a level on the same rule
        for after, before, dates in candidates:
            def lookup(metric, basis, period, accounting, before=before):
                if Key.of(metric, basis, accounting, period) == key:
                    return before
                return self.lookup(metric, basis, period, accounting)
            firing = rules.evaluate_rule(rule, after, lookup)
            if firing is None:
                continue
            alert = self.alerts.get(firing.dedupe_key)
            if alert is not None:
                if alert.status == "held":  # each revision is its own event: never corrected
                    self._refresh(alert, firing, after, self._gate(rule, key, after))
                continue
            if self._stale(rule, after, dates) or self._cooling_down(rule, after):
                continue
            out += self._queue(self._rule_alert(firing, after, self._gate(rule, key, after)))
        return out

    def _again(self, alert: AlertRow, rule: RuleConfig, key: Key,
               firing: rules.Firing | None, cur: Observation) -> list[AlertRow]:
        """A point evaluated again: an alert nobody has seen is brought up to date (and
        held or released); one that went out is reconciled."""
        if firing is not None and self._refresh(alert, firing, cur, self._gate(rule, key)):
            return []
        if alert.status == "held":
            self._no_longer_fires(alert, cur)
            return []  # never shown: nothing to correct
        return self._reconcile(alert, rule, cur)

    # -------------------------------------------------------------- plausibility
    def _gate(self, rule: RuleConfig, key: Key, obs: Observation | None = None) -> Gate:
        """The checks a figure passed, its doubts, who confirms it, and whether the rule's
        `confirm` policy holds its alert."""
        verdict, by, confirmed = self._plausible(key, obs)
        policy = rule.confirm
        hold = policy != "none" and not confirmed and (policy == "always" or not verdict.ok)
        return Gate(verdict, by if confirmed else [], hold)

    def _plausible(self, key: Key, obs: Observation | None = None
                   ) -> tuple[plausibility.Verdict, list[str], bool]:
        obs = obs or self.snap.current(key)
        cache = (key, obs.figure_id if obs else None)
        if cache in self._verdicts:
            return self._verdicts[cache]
        if obs is None:
            out = (plausibility.Verdict(), [], False)
        elif key.derived:
            out = self._plausible_inputs(obs)
        else:
            sources = plausibility.confirmed(
                obs, [(o, self.snap.sources[o.figure_id]) for o in self.snap.observations(key)],
                self.tol)
            verdict = plausibility.check(obs, self._context(key, obs), self.cfg.plausibility)
            out = (verdict, sorted(_describe(s) for s in sources), len(sources) >= 2)
        self._verdicts[cache] = out
        return out

    def _plausible_inputs(self, obs: Observation
                          ) -> tuple[plausibility.Verdict, list[str], bool]:
        """A derived value is as plausible as its inputs, and confirmed when they all are."""
        row = self.snap.by_id.get(obs.figure_id)
        doubts, by, confirmed = [], [], True
        for key in _input_keys(row) if row else []:
            verdict, sources, ok = self._plausible(key)
            confirmed &= ok
            by += [s for s in sources if s not in by]
            if not ok:
                doubts += [f"input {d}" for d in verdict.doubts]
        passed = () if doubts else ("inputs",)
        return plausibility.Verdict(passed, tuple(doubts)), by, confirmed

    def _context(self, key: Key, obs: Observation) -> plausibility.Context:
        p = Period.parse(key.period)
        if key.basis != "actual":
            return plausibility.Context()
        year = self.snap.current(key.at(Period(p.year))) if p.quarter else obs
        quarters = tuple(q for i in (1, 2, 3, 4)
                         if (q := self.snap.current(key.at(Period(p.year, i)))) is not None)
        recent = tuple(o for q in _before(p, self.cfg.plausibility.recent_quarters)
                       if (o := self.snap.current(key.at(q))) is not None) if p.quarter else ()
        return plausibility.Context(year=year, quarters=quarters, recent=recent)

    def _no_longer_fires(self, alert: AlertRow, cur: Observation) -> None:
        """A held alert whose point now stands at a value that does not fire stays held,
        saying so."""
        payload = json.loads(alert.payload)
        reason = (f"the rule no longer fires with the standing value "
                  f"{rules.format_value(cur.value, cur.unit)} ({cur.source_kind})")
        if (payload.get("held") or {}).get("reason") == reason:
            return
        payload["held"] = {**(payload.get("held") or {}), "reason": reason}
        values = {"payload": json.dumps(payload)}
        if store.alerts.refresh(self.s, alert.id, values, now=self.now):
            alert.payload = values["payload"]

    def _dates(self, key: Key) -> list[datetime | None]:
        """When a point's value was news: its newest non-comparative report (None: an
        undated report, which counts as new). A derived point: its inputs'. A point known
        only from comparative columns gives no date (restating history is not news)."""
        if key.derived:
            cur = self.snap.current(key)
            row = self.snap.by_id.get(cur.figure_id) if cur else None
            return [d for i in _input_keys(row) for d in self._dates(i)] if row else []
        news = [o for o in self.snap.observations(key) if not o.comparative]
        if not news:
            return []
        if any(o.published is None for o in news):
            return [None]
        return [max(o.published for o in news)]

    def _stale(self, rule: RuleConfig, obs: Observation, dates: list[datetime | None]
               ) -> bool:
        limit = self.cfg.alert_max_age
        if not limit or not dates or None in dates:
            return False
        newest = max(d for d in dates if d is not None)
        if self.now - newest <= timedelta(seconds=limit):
            return False
        log.info("rules: %s: %s %s %s: newest input published %s, older than alert_max_age:"
                 " history, not alerted", rule.rule_id, obs.company, obs.metric, obs.period,
                 newest.date().isoformat())
        return True

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

    # -------------------------------------------------------------- reconcile
    def _reconcile(self, alert: AlertRow, rule: RuleConfig, cur: Observation
                   ) -> list[AlertRow]:
        """A correction when the point's standing value, or the basis a change rule
        compared it with, moved beyond the tolerance since the alert (or its latest
        correction) said otherwise."""
        said = (self.corrections.get(alert.id) or [alert])[-1]
        said_prev = (json.loads(said.payload).get("previous") or {}).get("value")
        change = rules.comparison(rule, cur, self.lookup)
        moved = said.value is None or series.differs(said.value, cur.value, cur.unit, self.tol)
        basis_moved = (_is_change_rule(rule) and change is not None and said_prev is not None
                       and series.differs(said_prev, change.previous.value,
                                          change.previous.unit, self.tol))
        if not moved and not basis_moved:
            return []
        firing = rules.evaluate_rule(rule, cur, self.lookup)
        verdict = ("with the corrected value the rule no longer fires" if firing is None
                   else "the rule still fires: " + "; ".join(firing.crossed))
        n = len(self.corrections.get(alert.id, ()))
        correction = correction_alert(
            alert, cur, item=self._source(cur), evidence=self._quote(cur), verdict=verdict,
            inputs=self._inputs(cur), was=said, change=change if _is_change_rule(rule)
            else None, sequence=n + 1)
        queued = self._queue(correction)
        if queued:
            self.corrections.setdefault(alert.id, []).append(queued[0])
        return queued

    def _refresh(self, alert: AlertRow, firing: rules.Firing, cur: Observation,
                 gate: Gate) -> bool:
        """An alert that still fires and has not been seen yet shows today's context, and is
        held or released as its figure's plausibility now says."""
        if alert.id in self.corrections or alert.attempts or alert.shown_at is not None \
                or alert.status not in ("pending", "held"):
            return False
        if self._built_on(alert, firing, cur, gate):
            return True  # built from these very figures: nothing to say differently
        fresh = self._rule_alert(firing, cur, gate, json.loads(alert.payload))
        fields = ("value", "payload", "figure_id", "item_id", "group_key", "source_kind",
                  "status")
        values = {f: getattr(fresh, f) for f in fields if getattr(fresh, f) != getattr(alert, f)}
        if values and store.alerts.refresh(self.s, alert.id, values, now=self.now):
            if values.get("status") == "pending":
                log.info("rules: %s: %s %s %s released: confirmed by %s", alert.rule_id,
                         cur.company, cur.metric, cur.period, ", ".join(gate.by) or
                         "its checks passing")
            elif values.get("status") == "held":
                log.info("rules: %s: %s %s %s held: %s", alert.rule_id, cur.company,
                         cur.metric, cur.period, "; ".join(gate.verdict.doubts)
                         or "the rule asks for two sources")
            for f, v in values.items():
                setattr(alert, f, v)
            return True
        return not values

    def _built_on(self, alert: AlertRow, firing: rules.Firing, cur: Observation,
                  gate: Gate) -> bool:
        """Whether an alert's message was built from what stands now: the same figure (so
        the same value, source and inputs), compared with the same figure, crossing the
        same thresholds, with the same margin moves, and the same plausibility."""
        if (alert.figure_id, alert.item_id) != (cur.figure_id, cur.item_id) \
                or alert.status != ("held" if gate.hold else "pending"):
            return False
        said = json.loads(alert.payload)
        previous = firing.change.previous.figure_id if firing.change else None
        return ((said.get("previous") or {}).get("figure_id") == previous
                and said.get("crossed") == list(firing.crossed)
                and said.get("moves") == self._moves(cur)
                and said.get("checks") == list(gate.verdict.passed)
                and said.get("doubts") == list(gate.verdict.doubts)
                and said.get("confirmed_by") == gate.by)

    # -------------------------------------------------------------- rows
    def _rule_alert(self, firing: rules.Firing, cur: Observation, gate: Gate,
                    before: dict | None = None) -> AlertRow:
        """The alert row; `before`: the payload of the unsent alert it replaces (when it was
        held since, when it was released)."""
        before = before or {}
        held = None
        if gate.hold:
            held = {"reason": "; ".join(gate.verdict.doubts) or
                    "the rule asks for two independent sources",
                    "since": (before.get("held") or {}).get("since") or self.now.isoformat()}
        released = before.get("released")
        if not gate.hold and before.get("held"):
            released = {"at": self.now.isoformat(), "by": gate.by}
        alert = rule_alert(firing, item_id=cur.item_id, figure_id=cur.figure_id,
                           item=self._source(cur), company_name=self.company.name,
                           evidence=self._quote(cur), default_channel=self.cfg.slack.channel,
                           inputs=self._inputs(cur), moves=self._moves(cur),
                           formula=derive.formula(cur.metric) if _derived(cur) else None,
                           checks=list(gate.verdict.passed), doubts=list(gate.verdict.doubts),
                           confirmed_by=gate.by, held=held, released=released)
        if held:
            log.info("rules: %s: %s %s %s held: %s", firing.rule.rule_id, cur.company,
                     cur.metric, cur.period, held["reason"])
        return alert

    def _queue(self, alert: AlertRow) -> list[AlertRow]:
        alert.created_at = self.now
        alert_id = store.alerts.insert(self.s, alert)
        if alert_id is None:
            return []  # already queued (the outbox's unique dedupe key decides)
        alert.id = alert_id
        if alert.kind == "rule":
            self.alerts[alert.dedupe_key] = alert
        return [alert]

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

    def _inputs(self, obs: Observation) -> list[str]:
        row = self.snap.by_id.get(obs.figure_id) if _derived(obs) else None
        if row is None or not row.inputs:
            return []
        out = []
        for i in json.loads(row.inputs):
            m = METRICS.get(i["metric"])
            unit = m.unit if m else ""
            basis = " guidance" if i.get("basis") == "guidance" else ""
            value = rules.format_value(i["value"], unit)
            if i.get("low") is not None and i.get("high") is not None:
                value = (f"{rules.format_value(i['low'], unit)}–"
                         f"{rules.format_value(i['high'], unit)}")
            elif i.get("approx"):  # the input's own hedge words ("under $2B"), else "~"
                value = f"{i['hedge']} {value}" if i.get("hedge") else f"~{value}"
            out.append(f"{m.label if m else i['metric']}{basis} {value} "
                       f"({i['period']}, {i['source_kind']})")
        return out

    def _quote(self, obs: Observation) -> str | None:
        """The sentence a figure came from (its evidence is a short exact phrase)."""
        row = None if _derived(obs) else store.figures.get(self.s, obs.figure_id)
        if row is None:
            return None
        if row.span_start is None or row.item_id is None:
            return row.evidence
        src = self._item_row(row.item_id)
        quote = sentence_at(src.text, row.span_start, row.span_end) if src else ""
        return quote if row.evidence in quote else row.evidence

    def _item_row(self, item_id: int | None) -> ItemRow | None:
        if item_id is None:
            return None
        if item_id not in self._items:
            self._items[item_id] = store.items.get(self.s, item_id)
        return self._items[item_id]

    def _source(self, obs: Observation) -> Item:
        """The item a figure came from (a derived value: its newest input's)."""
        src = self._item_row(obs.item_id)
        if src is None:
            return Item(feed="", title="", source_kind=obs.source_kind, company=obs.company)
        return Item(feed=src.feed, title=src.title, link=src.link, guid=src.guid,
                    published=src.published_at, source_kind=src.source_kind,
                    company=src.company, article_url=src.article_url)


@dataclass(frozen=True)
class Gate:
    verdict: plausibility.Verdict
    by: list[str]  # the independent sources that confirm the figure (two or more), else []
    hold: bool  # the alert waits (status held) for a confirming source


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.") if url else ""


def _describe(src: plausibility.Source) -> str:
    return src.feed if src.outlet == src.feed else f"{src.feed} ({src.outlet})"


def _before(p: Period, n: int) -> list[Period]:
    """The n quarters before a quarter, newest first."""
    out = []
    for _ in range(n):
        p = p.previous()
        out.append(p)
    return out


def _feeds(key: Key) -> list[Key]:
    """The derived points an input point feeds."""
    if key.derived:
        return []
    return [Key.of(m, "actual", acc, p)
            for m, p, acc in derive.affected(key.metric, key.basis, key.period, key.accounting)]


def _inputs_of(key: Key) -> list[tuple[str, str, str | None, str]]:
    return [(m, b, acc, p) for m, b, p, acc in derive.inputs_of(key.metric, key.period,
                                                                   key.accounting)]


def _key(obs: Observation) -> Key:
    return Key.of(obs.metric, obs.basis, obs.accounting, obs.period or "")


def _input_keys(row: FigureRow) -> list[Key]:
    return [Key.of(i["metric"], i["basis"], row.accounting if i["metric"] in METRICS
                   and METRICS[i["metric"]].margin else None, i["period"])
            for i in json.loads(row.inputs or "[]")]


def _input_ids(row: FigureRow) -> list[int | None]:
    return [i.get("id") for i in json.loads(row.inputs or "[]")]


def _derived(obs: Observation) -> bool:
    return obs.source_kind == DERIVED_SOURCE


def _is_change_rule(rule: RuleConfig) -> bool:
    return rule.change_bps is not None or rule.change_pct is not None


def _next(p: Period) -> Period:
    return Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, (p.quarter or 0) + 1)
