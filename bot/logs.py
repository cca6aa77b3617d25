"""Logging set-up: one line per event on stderr, human or JSON, secrets never printed.

Both formats stamp each line with an ISO-8601 UTC time with its offset
(`2026-06-06T14:03:07.512+00:00`), so lines from replicas in several zones and the
CLI's tables read the same. `--log-format json` writes one JSON object per line
(`ts`, `level`, `logger`, `message`, and `exc` for a traceback) for log shippers.

A redacting step runs last on every line, tracebacks included: whatever a library
puts in an exception, a token, webhook URL or database password leaves as `<secret>`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

FORMATS = ("human", "json")
LEVELS = ("debug", "info", "warning", "error")
# Third-party chatter (and slack-sdk's request dumps at DEBUG) stays quiet.
NOISY = ("httpx", "httpcore", "slack_sdk", "apscheduler", "urllib3", "trafilatura")


def iso_utc(when: float | datetime) -> str:
    """A timestamp as ISO-8601 in UTC with its offset, to the millisecond."""
    dt = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return text


class RedactingFormatter(logging.Formatter):
    """Last line of defence: no log line — message, traceback or stack — ever carries a
    secret, whatever a library puts in an exception."""

    def __init__(self, secrets: list[str], fmt: str = "%(asctime)s %(levelname)s %(message)s",
                 datefmt: str | None = None):
        super().__init__(fmt, datefmt)
        self.secrets = [s for s in secrets if s]

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        return iso_utc(record.created)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(RedactingFormatter):
    """One JSON object per line. The whole line is redacted after encoding, so a secret
    is caught even when it was split by escaping (it cannot be: JSON escapes only
    quotes, backslashes and control characters, none of which a token contains)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": iso_utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, ensure_ascii=False), self.secrets)


def setup_logging(level: str = "info", fmt: str = "human", secrets: list[str] | None = None,
                  stream: TextIO | None = None) -> None:
    """Route every log record to one stderr handler (replacing any earlier one)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = [s for s in (secrets or []) if s]
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json"
                         else RedactingFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("marketbot").setLevel(level.upper())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
