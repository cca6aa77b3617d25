"""The exception tree. Foreign exceptions (httpx, feedparser, slack-sdk, YAML,
pydantic) are translated into these once, at the boundary where they occur,
with `raise X(...) from exc`; everything above the boundary sees only these.

    MarketbotError
    ├── ConfigError      a config file or setting is invalid (exit code 2)
    ├── DatabaseError    DATABASE_URL unusable (exit code 2) or the database unreachable
    ├── SourceError      a feed could not be fetched or parsed
    │   ├── FetchError   transport, HTTP status, size cap
    │   └── ParseError   malformed XML, entity declarations, no entries
    └── DeliveryError    Slack refused or could not be reached

    Interrupted          not an error: the runner is stopping (BaseException, like
                         KeyboardInterrupt, so that no "one item never stops a poll"
                         handler records it as the item's or the feed's failure)

SourceError and DeliveryError carry `retryable` (and `retry_after`, seconds,
when the server said so) so that callers decide to retry without re-reading
the cause.
"""

from __future__ import annotations


class MarketbotError(Exception):
    """Base of every error marketbot raises on purpose."""


class ConfigError(MarketbotError):
    """Invalid configuration. `problems` are one-line messages `file:line: key: reason`."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class DatabaseError(MarketbotError):
    """The database cannot be used: no driver or a malformed URL (exit code 2: fix the
    setting), or the server cannot be reached (exit code 1: start it, retry)."""

    def __init__(self, message: str, *, exit_code: int = 1):
        self.exit_code = exit_code
        super().__init__(message)


class SourceError(MarketbotError):
    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None):
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(reason)


class FetchError(SourceError):
    """The source could not be fetched (DNS, timeout, HTTP 4xx/5xx, oversize).
    `status` is the HTTP status when the server answered with an error."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(reason, retryable=retryable, retry_after=retry_after)
        self.status = status


class ParseError(SourceError):
    """The bytes arrived but are not a usable feed."""


class DeliveryError(MarketbotError):
    """Slack did not accept a message. Permanent errors (`invalid_auth`,
    `channel_not_found`, …) have retryable=False."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(reason)


class Interrupted(BaseException):
    """The runner is stopping: the request or poll in progress was abandoned. It is
    not recorded as a failure; the work is done again on the next start."""
