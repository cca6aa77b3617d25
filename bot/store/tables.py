"""SQLModel tables. All SQL lives in bot.store; other stages see dataclasses.

Written to be portable between SQLite (default, WAL mode) and PostgreSQL
(DATABASE_URL): plain types, unique constraints for every "at most once"
promise (items by dedupe key, alerts by dedupe key), timestamps stored as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, **kw):
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, **kw)


class FeedState(SQLModel, table=True):
    __tablename__ = "feed_state"

    name: str = Field(primary_key=True)
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_error_at: datetime | None = _ts()
    last_error: str | None = None
    consecutive_failures: int = 0
    total_failures: int = 0
    failing_since: datetime | None = _ts()
    down_notified: bool = False
    next_poll_at: datetime | None = _ts()
    items_total: int = 0
    # The replica polling the feed (or that polled it last), and until when its lease runs
    # on the database's clock (NULL: released). bot.store.feeds.claim.
    lease_holder: str | None = None
    lease_until: datetime | None = _ts()


class PaceRow(SQLModel, table=True):
    """A shared rate limit: the earliest time (database clock, seconds since 1970) at which
    the next request of `key` may start: `slack:#channel` for Slack's one message per
    second per channel, `edgar` for SEC's ten requests per second. bot.store.pace."""

    __tablename__ = "pace"

    key: str = Field(primary_key=True)
    next_at: float = 0.0


class ReplicaRow(SQLModel, table=True):
    """A running `marketbot run` sharing the database: seen until its heartbeat (each
    feed claim) runs out, on the database's clock. The live ones divide the feeds."""

    __tablename__ = "replica"

    id: str = Field(primary_key=True)  # host:pid:tag (bot.app.replica_id)
    seen_until: datetime = Field(sa_type=UTCDateTime)


class ItemRow(SQLModel, table=True):
    __tablename__ = "item"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    content_hash: str = Field(index=True)
    feed: str = Field(index=True)
    company: str
    source_kind: str
    guid: str | None = None
    link: str | None = None
    title: str = ""
    text: str = Field(default="", sa_type=Text)  # what the extractor read; spans index into it
    article_url: str | None = None  # the publisher's page a feed link led to
    article_error: str | None = None  # why the article could not be read
    published_at: datetime | None = _ts()
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ItemAliasRow(SQLModel, table=True):
    """Another key under which a stored story came again (the same content under a new
    guid, or from another feed): dropped once, logged once, then known."""

    __tablename__ = "item_alias"

    dedupe_key: str = Field(primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    feed: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FigureRow(SQLModel, table=True):
    __tablename__ = "figure"
    __table_args__ = (Index("ix_figure_lookup", "company", "metric", "basis", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    company: str
    metric: str
    basis: str
    period: str | None = None
    value: float
    unit: str
    approx: bool = False
    low: float | None = None
    high: float | None = None
    accounting: str | None = None
    comparative: bool = False
    from_table: bool = False
    confidence: float = 1.0
    evidence: str = Field(default="", sa_type=Text)
    span_start: int | None = None
    span_end: int | None = None
    source_kind: str = "news"
    published_at: datetime | None = _ts()
    observed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Derived values: JSON list of the input figures ({id, metric, basis, period, value,
    # source_kind}) the value was computed from.
    inputs: str | None = Field(default=None, sa_type=Text)


class AlertRow(SQLModel, table=True):
    """The outbox. pending → sent | failed. Written in the same transaction as
    the figure that caused it; marked sent only after Slack confirms."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_alert_dedupe"),
                      Index("ix_alert_status", "status", "next_attempt_at"),
                      Index("ix_alert_key", "company", "metric", "period"))

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str
    kind: str = "rule"  # rule | correction | feed_down | feed_up
    group_key: str  # alerts sharing it go out as one message
    rule_id: str | None = None
    company: str | None = None
    metric: str | None = None
    basis: str | None = None
    accounting_family: str | None = None  # gaap | non_gaap
    period: str | None = None
    value: float | None = None
    source_kind: str | None = None  # of the figure the alert was built on
    parent_id: int | None = Field(default=None, foreign_key="alert.id")  # corrections
    channel: str
    severity: str = "warning"
    mention: str | None = None
    item_id: int | None = Field(default=None, foreign_key="item.id")
    figure_id: int | None = Field(default=None, foreign_key="figure.id")
    payload: str = Field(default="{}", sa_type=Text)  # JSON: everything the message shows
    status: str = Field(default="pending")
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = _ts()
    claimed_until: datetime | None = _ts()
    claimed_by: str | None = None
    shown_at: datetime | None = _ts()  # printed to stdout (no Slack credentials)
    slack_channel: str | None = None
    slack_ts: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = _ts()


class ArticleRow(SQLModel, table=True):
    """An article page fetched for a news item (fetch_article: true), or why it
    could not be read. Keyed by canonical URL: downloaded once, whichever feed
    and whichever link spelling led to it."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    canonical_url: str = Field(unique=True)  # normalised; the page's rel=canonical if usable
    final_url: str  # where the link led after redirects (or where it failed)
    status: str = "ok"  # ok | error
    error: str | None = None  # why it could not be read ("HTTP 403 Forbidden", "paywall"…)
    title: str = ""
    text: str = Field(default="", sa_type=Text)  # main text (empty on error)
    published_at: datetime | None = _ts()  # the page's own date
    content_type: str | None = None
    truncated: bool = False  # cut at articles.max_bytes and read from what arrived
    failures: int = 0  # failed fetches in a row
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retry_at: datetime | None = _ts()  # a failed article is not fetched again before this


class ArticleUrlRow(SQLModel, table=True):
    """Every URL known to lead to an article: the feed links (original URLs),
    each redirect hop, the final and the canonical URL, all normalised. A second
    feed's identical link finds the article here before any request is made."""

    __tablename__ = "article_url"

    url: str = Field(primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
