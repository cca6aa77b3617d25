"""Slack: render alerts as Block Kit (pure) and post them (slack-sdk).

Feed text is untrusted. Slack's mrkdwn turns `<!channel>`, `<!here>`, `<@U123>`
and `<url|text>` into mentions and links, so every untrusted string goes through
`escape()` (`&`, `<`, `>` → entities, per api.slack.com/reference/surfaces/formatting
#escaping) and a bare `@here`/`@channel`/`@everyone` gets a word joiner so it can't
be read as one either. Mentions come only from config (`rule.mention`).

Posting: `WebApiSink` (bot token, chat.postMessage; base URL from SLACK_API_URL)
or `WebhookSink` (incoming webhook). Both translate slack-sdk's errors once, here,
into DeliveryError with `retryable` and `retry_after`. HTTP 200 with
{"ok": false} is permanent unless Slack's error code says otherwise.
"""

from __future__ import annotations

import re
import urllib.error
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from bot.errors import DeliveryError
from bot.fetcher import parse_retry_after

SECTION_LIMIT = 3000  # characters in a section's text (Block Kit)
HEADER_LIMIT = 150
BLOCK_LIMIT = 50
TEXT_LIMIT = 3000  # our cap for the notification fallback text

ARROWS = {"up": "▲", "down": "▼", "flat": "▶", None: "•"}
SEVERITY_ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}

_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{1,60}$")
_BROADCAST = re.compile(r"@(?=(here|channel|everyone)\b)", re.IGNORECASE)


def escape(text: str | None) -> str:
    """Make untrusted text inert in Slack mrkdwn and plain text."""
    if not text:
        return ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", text)


def link(url: str | None, title: str) -> str:
    """`<url|title>` for http(s) URLs; just the escaped title otherwise."""
    label = escape(title) or "source"
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return label
    safe = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")  # encodes <, >, |, spaces
    return f"<{safe}|{label.replace('|', '¦')}>"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- rendering


def render(payloads: list[dict], *, mention: str | None = None) -> tuple[str, list[dict]]:
    """Alerts that share a source → (fallback text, blocks)."""
    kind = payloads[0].get("kind", "rule")
    if kind in ("feed_down", "feed_up"):
        text, blocks = _render_notices(payloads)
    elif kind == "correction":
        text, blocks = _render_correction(payloads[0])
    else:
        text, blocks = _render_rules(payloads, room=BLOCK_LIMIT - (1 if mention else 0))
    if mention:
        tag = f"<!{mention}>"  # from config only (rule.mention), never from feed text
        text = f"{tag} {text}"
        blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": tag}})
    return _cut(text, TEXT_LIMIT), blocks[:BLOCK_LIMIT]


def headline(p: dict) -> str:
    """'▼ DELL Gross margin 17.8% (FY2027-Q1), −270 bps q/q' — plain, unescaped."""
    approx = "~" if p.get("approx") else ""
    acc = " (non-GAAP)" if p.get("accounting") == "non_gaap" else ""
    basis = " guidance" if p.get("basis") == "guidance" else ""
    line = (f"{ARROWS.get(p.get('direction'), '•')} {p['company']} {p['metric_label']}{basis}"
            f"{acc} {approx}{p['value_text']} ({p['period']})")
    if p.get("change_text"):
        line += f", {p['change_text']}"
    return line


def _render_rules(payloads: list[dict], room: int = BLOCK_LIMIT) -> tuple[str, list[dict]]:
    first = payloads[0]
    src = first["source"]
    title = (headline(first) if len(payloads) == 1
             else f"{first['company']}: {len(payloads)} metrics moved")
    blocks: list[dict] = [{"type": "header",
                           "text": {"type": "plain_text", "text": _cut(title, HEADER_LIMIT)}}]
    room -= 3  # header, context, and a possible "more" line
    for p in payloads[:room]:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": _cut(_section(p), SECTION_LIMIT)}})
    if len(payloads) > room:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                       "text": f"…and {len(payloads) - room} more alerts from this source"}})
    published = (src.get("published") or "")[:10]
    ctx = f"Source: {link(src.get('link'), src.get('title') or src.get('feed'))}"
    ctx += f" · {escape(src.get('kind'))} · feed {escape(src.get('feed'))}"
    if published:
        ctx += f" · published {published}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": _cut(ctx, SECTION_LIMIT)}]})
    text = "; ".join(headline(p) for p in payloads)
    text = escape(text) + f" — {escape(src.get('title'))}"
    return text, blocks


def _section(p: dict) -> str:
    icon = SEVERITY_ICON.get(p.get("severity"), "")
    lines = [f"{icon} *{escape(headline(p))}*".strip()]
    prev = p.get("previous")
    if prev:
        lines.append(f"Previous: {escape(prev['value_text'])} ({escape(prev['period'])})")
    moves = []
    for kind, amount in sorted((p.get("moves") or {}).items()):
        label = "q/q" if kind == "qoq" else "y/y"
        if f"{amount} {label}" != p.get("change_text"):  # not already in the headline
            moves.append(f"{label} {amount}")
    if moves:
        lines.append("Moves: " + escape(" · ".join(moves)))
    if p.get("crossed"):
        lines.append("Threshold: " + escape("; ".join(p["crossed"])) +
                     f" (rule `{escape(p.get('rule'))}`)")
    if p.get("formula"):
        lines.append(f"= {escape(p['formula'])}")
    inputs = p.get("inputs")
    if inputs:
        lines.append("Inputs: " + escape(", ".join(inputs)))
    evidence = " ".join((p.get("evidence") or "").split())
    if evidence:
        lines.append("> " + escape(_cut(evidence, 600)))
    return "\n".join(lines)


def _render_correction(p: dict) -> tuple[str, list[dict]]:
    acc = " (non-GAAP)" if p.get("accounting") == "non_gaap" else ""
    basis = " guidance" if p.get("basis") == "guidance" else ""
    line = (f"✏️ Correction: {p['company']} {p['metric_label']}{basis}{acc} for {p['period']} "
            f"is {p['value_text']} per {p.get('source_kind')} (this alert said "
            f"{p.get('was_text')} from {p.get('was_source_kind')}).")
    lines = [escape(line)]
    if p.get("verdict"):
        lines.append(escape(p["verdict"].capitalize() + "."))
    if p.get("inputs"):
        lines.append("Inputs: " + escape(", ".join(p["inputs"])))
    evidence = " ".join((p.get("evidence") or "").split())
    if evidence:
        lines.append("> " + escape(_cut(evidence, 600)))
    src = p.get("source") or {}
    lines.append(f"Source: {link(src.get('link'), src.get('title') or src.get('feed'))}")
    text = _cut("\n".join(lines), SECTION_LIMIT)
    return escape(line), [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def _notice_line(p: dict) -> str:
    if p["kind"] == "feed_down":
        return (f"⚠️ Feed {p['feed']} has failed {p['failures']} times in a row "
                f"(since {p['since'][:16].replace('T', ' ')} UTC): {p.get('reason')}. "
                "It is still being retried.")
    return f"✅ Feed {p['feed']} has recovered after {p['failures']} failed polls."


def _render_notices(payloads: list[dict]) -> tuple[str, list[dict]]:
    """Feed-health notices of one poll cycle: one message, a line per feed."""
    lines = [escape(_notice_line(p)) for p in payloads]
    if len(lines) == 1:
        text = lines[0]
    else:
        down = sum(p["kind"] == "feed_down" for p in payloads)
        counts = [f"{n} feed{'s' if n > 1 else ''} {what}" for n, what in
                  ((down, "down"), (len(payloads) - down, "recovered")) if n]
        text = f"Feed health: {', '.join(counts)}\n" + "\n".join(lines)
    return _cut(text, TEXT_LIMIT), [{"type": "section",
                                     "text": {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}}]


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class Posted:
    channel: str | None  # Slack's channel id (Web API only)
    ts: str | None  # message timestamp (Web API only): lets corrections thread under it


class Sink(Protocol):
    def post(self, channel: str, text: str, blocks: list[dict],
             thread_ts: str | None = None) -> Posted: ...


# Slack Web API error codes that mean "try again later"; any other ok:false is permanent.
_TRANSIENT = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error",
                        "service_unavailable", "request_timeout", "timeout"})


class WebApiSink:
    """chat.postMessage with a bot token (scope chat:write)."""

    def __init__(self, token: str, *, base_url: str, timeout: float = 15.0):
        if not base_url.endswith("/"):
            base_url += "/"
        # Our delivery stage owns retries (it records every attempt), so no
        # hidden retry handlers here.
        self.client = WebClient(token=token, base_url=base_url, timeout=int(timeout),
                                retry_handlers=[])

    def post(self, channel: str, text: str, blocks: list[dict],
             thread_ts: str | None = None) -> Posted:
        try:
            r = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                             thread_ts=thread_ts, unfurl_links=False,
                                             unfurl_media=False)
        except SlackApiError as exc:
            raise _api_error(exc.response.status_code, exc.response.data,
                             exc.response.headers) from None
        except (SlackRequestError, urllib.error.URLError, OSError, ValueError) as exc:
            raise DeliveryError(f"network error: {type(exc).__name__}", retryable=True) from None
        return Posted(r.get("channel"), r.get("ts"))


class WebhookSink:
    """An incoming webhook: posts to the channel the webhook was made for."""

    def __init__(self, url: str, *, timeout: float = 15.0):
        self.client = WebhookClient(url=url, timeout=int(timeout))

    def post(self, channel: str, text: str, blocks: list[dict],
             thread_ts: str | None = None) -> Posted:
        try:
            r = self.client.send(text=text, blocks=blocks, unfurl_links=False,
                                 unfurl_media=False)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DeliveryError(f"network error: {type(exc).__name__}", retryable=True) from None
        if r.status_code == 200:
            return Posted(None, None)
        return_body = (r.body or "").strip()
        raise _api_error(r.status_code, {"ok": False, "error": return_body[:100] or "error"},
                         r.headers)


def _api_error(status: int, data, headers) -> DeliveryError:
    headers = {str(k).lower(): v for k, v in (headers or {}).items()}
    retry_after = headers.get("retry-after")
    if isinstance(retry_after, list):
        retry_after = retry_after[0] if retry_after else None
    code = data.get("error") if isinstance(data, dict) else None
    if not (isinstance(code, str) and _ERROR_CODE.match(code)):
        code = None  # not one of Slack's error codes (e.g. an HTML error page)
    if status == 429 or code in ("ratelimited", "rate_limited"):
        wait = parse_retry_after(str(retry_after)) if retry_after else None
        return DeliveryError(f"rate limited (HTTP {status})", retryable=True,
                             retry_after=wait if wait is not None else 1.0)
    if status >= 500:
        return DeliveryError(f"Slack HTTP {status}" + (f": {code}" if code else ""),
                             retryable=True)
    if code in _TRANSIENT:
        return DeliveryError(code, retryable=True)
    return DeliveryError(code or f"HTTP {status}", retryable=False)
