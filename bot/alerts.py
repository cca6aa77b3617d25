"""Turn firings and feed-health events into outbox rows (pure).

The payload is a JSON snapshot of everything the Slack message shows, so that
the message can be rendered (and re-rendered after a restart) without reading
any other table, and so that `marketbot alerts` can show what was said.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.figures import METRICS
from bot.items import Item
from bot.rules import Change, Firing, Observation, format_change, format_value
from bot.store.tables import AlertRow


def rule_alert(firing: Firing, *, item_id: int | None, figure_id: int | None, item: Item,
               company_name: str, evidence: str | None, default_channel: str,
               inputs: list[str] | None = None, moves: dict[str, str] | None = None,
               formula: str | None = None, checks: list[str] | None = None,
               doubts: list[str] | None = None, confirmed_by: list[str] | None = None,
               held: dict | None = None, released: dict | None = None) -> AlertRow:
    """A rule's alert. Plausibility (bot.plausibility, docs/alerts.md): `checks` passed,
    `doubts` found, `confirmed_by` the independent sources stating the figure; `held`
    ({reason, since}) makes it a held alert, never sent until released (`released`:
    {at, by})."""
    obs, rule = firing.observation, firing.rule
    metric = METRICS[obs.metric]
    channel = rule.channel or default_channel
    change = firing.change
    payload = {
        "kind": "rule",
        "company": obs.company,
        "company_name": company_name,
        "metric": obs.metric,
        "metric_label": metric.label,
        "unit": obs.unit,
        "basis": obs.basis,
        "accounting": obs.accounting,
        "period": obs.period,
        "value": obs.value,
        "value_text": format_value(obs.value, obs.unit),
        "approx": obs.approx,
        # A range (guidance "$101B–$105B", or what approximate inputs allow a derived value):
        "low": obs.low,
        "high": obs.high,
        "low_text": None if obs.low is None else format_value(obs.low, obs.unit),
        "high_text": None if obs.high is None else format_value(obs.high, obs.unit),
        "confidence": obs.confidence,
        "direction": change.direction if change else None,
        "change_text": format_change(change) if change else None,
        "previous": None if change is None else _previous(change),
        "crossed": list(firing.crossed),
        "inputs": inputs or [],
        "formula": formula,
        "moves": moves or {},
        "source_kind": obs.source_kind,
        "rule": rule.rule_id,
        "severity": rule.severity,
        "evidence": evidence,
        "source": _source(item),
        "checks": checks or [],
        "doubts": doubts or [],
        "confirmed_by": confirmed_by or [],
        "held": held,
        "released": released,
    }
    return AlertRow(
        dedupe_key=firing.dedupe_key, kind="rule", status="held" if held else "pending",
        group_key=f"item:{item_id}:{channel}",
        rule_id=rule.rule_id, company=obs.company, metric=obs.metric, basis=obs.basis,
        accounting_family="non_gaap" if obs.accounting == "non_gaap" else "gaap",
        period=obs.period, value=obs.value, source_kind=obs.source_kind, channel=channel,
        severity=rule.severity, mention=rule.mention, item_id=item_id, figure_id=figure_id,
        payload=json.dumps(payload),
    )


def correction_alert(parent: AlertRow, obs: Observation, *, item: Item, evidence: str | None,
                     verdict: str | None, inputs: list[str] | None = None,
                     was: AlertRow | None = None, change: Change | None = None,
                     sequence: int = 1) -> AlertRow:
    """A reply in the thread of `parent`: the value it was built on (or, for a change rule,
    the value it was compared with) has been corrected — by a more authoritative or a
    newer source, or, for a derived value, by a corrected input. `was` is what the thread
    said last (the parent or its latest correction); `sequence` numbers the corrections
    of one alert, so that a value that moves back and forth is corrected each time."""
    was = was or parent
    before = json.loads(was.payload)
    payload = {
        "kind": "correction",
        "company": obs.company,
        "metric": obs.metric,
        "metric_label": METRICS[obs.metric].label,
        "basis": obs.basis,
        "accounting": obs.accounting,
        "period": obs.period,
        "value": obs.value,
        "value_text": format_value(obs.value, obs.unit),
        "approx": obs.approx,
        "was_text": before.get("value_text"),
        "was_source_kind": was.source_kind,
        "source_kind": obs.source_kind,
        "change_text": format_change(change) if change else None,
        "was_change_text": before.get("change_text") if change else None,
        "previous": None if change is None else _previous(change),
        "verdict": verdict,
        "inputs": inputs or [],
        "evidence": evidence,
        "source": _source(item),
    }
    key = f"correction:{parent.id}:{sequence}:{obs.value:.6g}"
    return AlertRow(
        dedupe_key=key, kind="correction", group_key=key, company=obs.company,
        metric=obs.metric, basis=obs.basis,
        accounting_family="non_gaap" if obs.accounting == "non_gaap" else "gaap",
        period=obs.period, value=obs.value, source_kind=obs.source_kind,
        channel=parent.channel, severity=parent.severity, item_id=obs.item_id,
        figure_id=obs.figure_id, parent_id=parent.id, payload=json.dumps(payload),
    )


def _previous(change: Change) -> dict:
    return {"value": change.previous.value,
            "value_text": format_value(change.previous.value, change.previous.unit),
            "period": change.previous.period, "source_kind": change.previous.source_kind,
            "figure_id": change.previous.figure_id}


def feed_notice(kind: str, *, feed: str, reason: str | None, failures: int,
                since: datetime | None, channel: str, now: datetime) -> AlertRow:
    """One notice when a feed starts failing for good, one when it recovers. The notices
    waiting in one channel when the outbox is drained (those of one poll cycle) share a
    group key, so they go out as one message."""
    assert kind in ("feed_down", "feed_up")
    stamp = (since or now).isoformat()
    payload = {"kind": kind, "feed": feed, "reason": reason, "failures": failures,
               "since": stamp, "at": now.isoformat()}
    return AlertRow(dedupe_key=f"{kind}:{feed}:{stamp}", kind=kind,
                    group_key=f"feed-notices:{channel}", channel=channel,
                    severity="warning" if kind == "feed_down" else "info",
                    payload=json.dumps(payload))


def _source(item: Item) -> dict:
    return {
        "title": item.title,
        "link": item.article_url or item.link,
        "feed": item.feed,
        "kind": item.source_kind,
        "published": item.published.isoformat() if item.published else None,
    }
