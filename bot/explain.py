"""Why an alert fired, read back from the store: what `marketbot show` prints and what
`marketbot alerts --format json` gives for every alert.

An alert row keeps a snapshot of its message (the payload); the figures it was built on
keep their evidence and the item they came from. `alert_record()` joins the two by id:
the figure (value, approx, low/high, evidence, source), the figure it was compared with,
a derived value's formula and inputs (each with its own evidence and source), the rule,
the checks it passed or why it is held, and its delivery. `message_text()` turns the
Slack message back into plain text. Reading only: nothing here writes.
"""

from __future__ import annotations

import html
import json
import re

from sqlmodel import Session

from bot import store
from bot.figures import DERIVED_SOURCE, METRICS
from bot.rules import format_value
from bot.slack import render
from bot.store.tables import AlertRow, FigureRow, ItemRow

_COMPARE = (("q/q", "qoq"), ("y/y", "yoy"), ("vs prior guidance", "revision"))
_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")


def alert_record(s: Session, alert: AlertRow) -> dict:
    """Every field of an alert a trader (or a script) needs to judge it."""
    p = json.loads(alert.payload or "{}")
    rec: dict = {
        "id": alert.id, "kind": alert.kind, "status": alert.status,
        "rule": alert.rule_id, "severity": alert.severity, "channel": alert.channel,
        "company": alert.company, "metric": alert.metric, "basis": alert.basis,
        "accounting": p.get("accounting"), "period": alert.period,
    }
    if alert.kind in ("feed_down", "feed_up"):
        rec.update(feed=p.get("feed"), reason=p.get("reason"), failures=p.get("failures"),
                   since=p.get("since"))
        return {**rec, **_delivery(alert)}
    fig = store.figures.get(s, alert.figure_id) if alert.figure_id else None
    unit = fig.unit if fig else p.get("unit") or (METRICS[alert.metric].unit
                                                  if alert.metric in METRICS else None)
    rec.update(
        value=alert.value, unit=unit, value_text=p.get("value_text"),
        approx=bool(fig.approx if fig else p.get("approx")),
        low=fig.low if fig else None, high=fig.high if fig else None,
        headline=_headline(alert.kind, p),
        previous=_previous(s, p.get("previous")),
        change=_change(p.get("change_text")),
        crossed=p.get("crossed") or [],
        source_kind=alert.source_kind,
        source=p.get("source"),
        link=(p.get("source") or {}).get("link"),
        evidence=p.get("evidence") or (fig.evidence if fig else None),
        figure_id=alert.figure_id, item_id=alert.item_id,
        formula=p.get("formula"),
        inputs=_inputs(s, fig) if fig is not None else [],
        checks=p.get("checks") or [],
        held_reason=held_reason(alert, p),
    )
    if alert.kind == "correction":
        rec.update(parent_id=alert.parent_id, was_text=p.get("was_text"),
                   was_source_kind=p.get("was_source_kind"), verdict=p.get("verdict"))
    return {**rec, **_delivery(alert)}


def _delivery(alert: AlertRow) -> dict:
    return {"created_at": _iso(alert.created_at), "sent_at": _iso(alert.sent_at),
            "attempts": alert.attempts, "last_error": alert.last_error,
            "slack_ts": alert.slack_ts}


def _headline(kind: str, p: dict) -> str | None:
    from bot.slack import headline

    return headline(p) if kind == "rule" and "metric_label" in p else None


def held_reason(alert: AlertRow, p: dict) -> str | None:
    """Why a held alert waits (the decision stage writes it into the payload)."""
    held = p.get("held")
    if isinstance(held, dict):
        return held.get("reason")
    return p.get("held_reason") or (held if isinstance(held, str) else None) or (
        "held" if alert.status == "held" else None)


def _change(text: str | None) -> dict | None:
    """'−110 bps q/q' → {amount: -110, unit: 'bps', compare: 'qoq', text}."""
    if not text:
        return None
    m = re.match(r"([+−±-])([\d,.]+)\s*(bps|%)", text)
    compare = next((c for label, c in _COMPARE if label in text), None)
    if not m:
        return {"text": text, "amount": None, "unit": None, "compare": compare}
    sign = -1 if m.group(1) in "−-" else (0 if m.group(1) == "±" else 1)
    amount = sign * float(m.group(2).replace(",", ""))
    return {"text": text, "amount": amount, "unit": m.group(3), "compare": compare}


def _previous(s: Session, prev: dict | None) -> dict | None:
    if not prev:
        return None
    row = store.figures.get(s, prev["figure_id"]) if prev.get("figure_id") else None
    if row is None:
        return {"period": prev.get("period"), "value": prev.get("value"),
                "value_text": prev.get("value_text"), "source_kind": prev.get("source_kind"),
                "figure_id": prev.get("figure_id")}
    return {**figure_record(s, row), "value_text": prev.get("value_text"),
            "inputs": _inputs(s, row)}


def _inputs(s: Session, row: FigureRow) -> list[dict]:
    """A derived value's inputs, each with its evidence and source."""
    if row.source_kind != DERIVED_SOURCE or not row.inputs:
        return []
    out = []
    for i in json.loads(row.inputs):
        found = store.figures.get(s, i["id"]) if i.get("id") else None
        out.append(figure_record(s, found) if found is not None else {
            "metric": i.get("metric"), "basis": i.get("basis"), "period": i.get("period"),
            "value": i.get("value"), "source_kind": i.get("source_kind"), "figure_id": None})
    return out


def figure_record(s: Session, row: FigureRow) -> dict:
    item = store.items.get(s, row.item_id) if row.item_id else None
    return {
        "figure_id": row.id, "metric": row.metric, "basis": row.basis,
        "accounting": row.accounting, "period": row.period, "value": row.value,
        "unit": row.unit, "value_text": value_text(row), "approx": row.approx,
        "low": row.low, "high": row.high, "comparative": row.comparative,
        "confidence": row.confidence, "source_kind": row.source_kind,
        "published": _iso(row.published_at), "evidence": row.evidence,
        "item_id": row.item_id,
        "title": item.title if item else None,
        "link": (item.article_url or item.link) if item else None,
        "feed": item.feed if item else None,
    }


def value_text(row: FigureRow) -> str:
    """'~$2B', '$101B–$105B', '17.8%': the value as the text hedged or ranged it."""
    return value_words(row.value, row.unit, approx=row.approx, low=row.low, high=row.high)


def value_words(value: float, unit: str, *, approx: bool = False, low: float | None = None,
                high: float | None = None) -> str:
    if low is not None and high is not None and low != high:
        text = f"{format_value(low, unit)}–{format_value(high, unit)}"
    else:
        text = format_value(value, unit)
    return ("~" + text) if approx else text


def item_record(s: Session, item: ItemRow) -> dict:
    figures = store.figures.of_item(s, item.id)
    alerts = store.alerts.of_item(s, item.id)
    return {
        "id": item.id, "feed": item.feed, "company": item.company,
        "source_kind": item.source_kind, "title": item.title, "link": item.link,
        "article_url": item.article_url, "article_error": item.article_error,
        "guid": item.guid, "published": _iso(item.published_at),
        "fetched": _iso(item.fetched_at), "characters": len(item.text or ""),
        "figures": [figure_record(s, f) for f in figures],
        "alerts": [{"id": a.id, "kind": a.kind, "status": a.status, "rule": a.rule_id,
                    "headline": _headline(a.kind, json.loads(a.payload or "{}"))
                    or a.dedupe_key} for a in alerts],
    }


def message_text(s: Session, alert: AlertRow) -> str:
    """The Slack message the alert went (or will go) out in, as plain text: the alerts
    that share its message (one item's alerts for one channel), rendered as posted."""
    group = [a for a in store.alerts.in_group(s, alert.group_key)
             if alert.slack_ts is None or a.slack_ts == alert.slack_ts] or [alert]
    mentions = {a.mention for a in group if a.mention}
    mention = "channel" if "channel" in mentions else ("here" if mentions else None)
    _, blocks = render([json.loads(a.payload) for a in group], mention=mention)
    lines = []
    for b in blocks:
        if b["type"] in ("header", "section"):
            lines.append(b["text"]["text"])
        elif b["type"] == "context":
            lines += [e["text"] for e in b["elements"]]
    return _plain("\n".join(lines))


def _plain(mrkdwn: str) -> str:
    """Slack mrkdwn → what a reader sees: links as 'title (url)', entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    return html.unescape(text.replace("\u2060", ""))


def _iso(when) -> str | None:
    return when.isoformat() if when else None
