"""Secrets never reach a log line, not even inside a traceback."""

from __future__ import annotations

import io
import logging

from bot.logs import RedactingFormatter

SECRET = "https://hooks.slack.com/services/T000/B000/sekrit"


def test_secrets_are_redacted_in_messages_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter([SECRET, "xoxb-123"], "%(message)s", "%H"))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("posting to %s with xoxb-123", SECRET)
        try:
            raise ValueError(f"could not reach {SECRET}")
        except ValueError:
            log.exception("delivery failed")
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "sekrit" not in text and "xoxb-123" not in text
    assert text.count("<secret>") == 3 and "ValueError: could not reach <secret>" in text
