"""`marketbot show`: why an alert fired, or what an item gave."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from bot import store
from bot.cli.base import cli, config_file, engine, fail, get_config
from bot.config import Config, Env, RuleConfig

_REF = re.compile(r"^(?:(alert|item)[:#]|#)?(\d+)$", re.IGNORECASE)
_WIDTH = 15  # label column


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_obj
def show(env: Env, ref: str, fmt: str) -> None:
    """Explain an alert (ID, alert:ID) or show an item (item:ID).

    For an alert: the figure with its evidence and source, the value it was compared
    with and that value's evidence and source, the rule and its threshold, a derived
    value's formula and inputs, the checks it passed or why it is held, its delivery
    and the Slack message. For an item: its figures and the alerts it caused.

    \b
    Example:
      marketbot show 12
      marketbot show item:42 --format json
    """
    from bot.explain import alert_record, item_record, message_text

    m = _REF.match(ref.strip())
    if not m:
        fail(f"{ref!r} is not an alert or item reference: give 12, alert:12 or item:42", 2)
    kind, ident = (m.group(1) or "alert").lower(), int(m.group(2))
    with store.transaction(engine(env)) as s:
        if kind == "item":
            item = store.items.get(s, ident)
            if item is None:
                fail(f"no item {ident} in the database")
            record = item_record(s, item)
        else:
            alert = store.alerts.get(s, ident)
            if alert is None:
                fail(f"no alert {ident} in the database")
            record = alert_record(s, alert)
            record["message"] = message_text(s, alert)
    if fmt == "json":
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    elif kind == "item":
        click.echo(item_text(record))
    else:
        click.echo(alert_text(record, _rule(record.get("rule"))))


def _rule(rule_id: str | None) -> tuple[RuleConfig | None, str | None]:
    """The rule as the config defines it now, when a config is at hand."""
    path = config_file()
    if not rule_id or not Path(path).exists():
        return None, None
    config: Config = get_config(path)
    return next((r for r in config.rules if r.rule_id == rule_id), None), path


# ---------------------------------------------------------------- text


def _line(label: str, text: str | None, indent: int = 0) -> str:
    pad = " " * indent
    return f"{pad}{label:<{_WIDTH - indent}} {' '.join((text or '-').split())}"


def _figure_lines(f: dict, label: str, indent: int = 0) -> list[str]:
    what = [f"{_metric(f['metric'])} {f.get('value_text') or f['value']}", f["basis"],
            f.get("period") or "no period"]
    if f.get("accounting") == "non_gaap":
        what.append("non-GAAP")
    if f.get("comparative"):
        what.append("comparative")
    ident = f"figure #{f['figure_id']}, " if f.get("figure_id") else ""
    lines = [_line(label, f"{', '.join(what)} ({ident}{f.get('source_kind')})", indent)]
    if f.get("evidence") and f.get("source_kind") != "derived":
        lines.append(_line("  evidence", f"“{f['evidence']}”", indent))
    if (f.get("link") or f.get("title")) and f.get("source_kind") != "derived":
        lines.append(_line("  source", _source(f), indent))
    for i in f.get("inputs") or []:
        lines += _figure_lines(i, "  input", indent + 2)
    return lines


def _source(f: dict) -> str:
    parts = [f.get("title") or "", f.get("link") or ""]
    meta = [x for x in (f"feed {f['feed']}" if f.get("feed") else "",
                        f"published {f['published'][:10]}" if f.get("published") else "") if x]
    return " ".join(p for p in parts if p) + (f" ({', '.join(meta)})" if meta else "")


def _metric(name: str | None) -> str:
    from bot.figures import METRICS

    return METRICS[name].label if name in METRICS else (name or "?")


def alert_text(r: dict, rule: tuple[RuleConfig | None, str | None] = (None, None)) -> str:
    status = r["status"] + (f" {r['sent_at'][:16].replace('T', ' ')} UTC" if r.get("sent_at")
                            else "")
    out = [f"Alert #{r['id']} ({r['kind']}, {status}, channel {r['channel']})"]
    if r["kind"] in ("feed_down", "feed_up"):
        out.append(_line("Feed", f"{r['feed']}: {r.get('reason') or 'recovered'}"))
        out += _delivery(r)
        return "\n".join([*out, "", "Slack message:", *_quoted(r.get("message"))])
    if r.get("headline"):
        out.append(f"  {r['headline']}")
    out.append("")
    main = {"figure_id": r.get("figure_id"), "metric": r["metric"], "basis": r["basis"],
            "accounting": r.get("accounting"), "period": r["period"], "value": r["value"],
            "value_text": _value_text(r), "source_kind": r.get("source_kind"),
            "evidence": r.get("evidence"), "inputs": []}
    if r.get("source"):
        main.update(title=r["source"].get("title"), link=r["source"].get("link"),
                    feed=r["source"].get("feed"), published=r["source"].get("published"))
    out += _figure_lines(main, "Figure")
    if r.get("formula") and r.get("source"):
        out.append(_line("  computed on", _source(main)))
    if r.get("formula"):
        out.append(_line("Derived", f"= {r['formula']}"))
        for i in r.get("inputs") or []:
            out += _figure_lines(i, "  input", 2)
    if r.get("previous"):
        out += _figure_lines(r["previous"], "Compared with")
    if r.get("change"):
        out.append(_line("Change", r["change"]["text"]))
    if r["kind"] == "correction":
        out.append(_line("Corrects", f"alert #{r.get('parent_id')}, which said "
                                     f"{r.get('was_text')} ({r.get('was_source_kind')})"))
        if r.get("verdict"):
            out.append(_line("Verdict", r["verdict"]))
    else:
        out.append(_line("Rule", f"{r.get('rule')}: {'; '.join(r.get('crossed') or []) or '-'}"))
        definition, path = rule
        if definition is not None:
            out.append(_line("  definition", f"{_definition(definition)} (in {path})"))
        elif path:
            out.append(_line("  definition", f"no rule {r.get('rule')!r} in {path} any more"))
    if r.get("held_reason") or r["status"] == "held":
        out.append(_line("Held", r.get("held_reason")))
    out.append(_line("Checks", "; ".join(r.get("checks") or []) or "none recorded"))
    out += _delivery(r)
    return "\n".join([*out, "", "Slack message:", *_quoted(r.get("message"))])


def _value_text(r: dict) -> str:
    from bot.explain import value_words

    if r.get("unit") is None or r.get("value") is None:
        return r.get("value_text") or "?"
    return value_words(r["value"], r["unit"], approx=r.get("approx"), low=r.get("low"),
                       high=r.get("high"))


def _definition(rule: RuleConfig) -> str:
    data = rule.model_dump(exclude_none=True, exclude_defaults=True)
    data.pop("name", None)
    data.setdefault("metric", rule.metric)
    return ", ".join(f"{k} {v}" for k, v in data.items())


def _delivery(r: dict) -> list[str]:
    parts = [r["status"], f"{r.get('attempts') or 0} attempt(s)"]
    if r.get("slack_ts"):
        parts.append(f"Slack ts {r['slack_ts']}")
    if r.get("last_error"):
        parts.append(f"last error: {r['last_error']}")
    return [_line("Delivery", ", ".join(parts))]


def _quoted(message: str | None) -> list[str]:
    return [f"  | {line}" for line in (message or "").splitlines()]


def item_text(r: dict) -> str:
    out = [f"Item #{r['id']} (feed {r['feed']}, {r['source_kind']}, {r['company']})",
           _line("  title", r.get("title")), _line("  link", r.get("link"))]
    if r.get("article_url") and r["article_url"] != r.get("link"):
        out.append(_line("  article", r["article_url"]))
    if r.get("article_error"):
        out.append(_line("  article error", r["article_error"]))
    out.append(_line("  published", r.get("published") or "no date"))
    out.append(f"\nFigures ({len(r['figures'])})")
    for f in r["figures"]:
        flags = ", ".join(k for k in ("comparative",) if f.get(k))
        out.append(f"  #{f['figure_id']} {f['metric']} {f['basis']} {f.get('period') or '-'} "
                   f"{f['value_text']}{' (' + flags + ')' if flags else ''}: "
                   f"“{' '.join((f.get('evidence') or '').split())[:100]}”")
    out.append(f"\nAlerts ({len(r['alerts'])})")
    out += [f"  #{a['id']} {a['status']} {a['headline']}" for a in r["alerts"]]
    return "\n".join(out)
