"""Baseline: the schema that SQLModel's create_all made before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

A database made by create_all (no alembic_version table) upgrades through this
revision too: each table is created only when it is missing, so its rows stay and the
tables a later version of create_all would have added (article, article_url) appear.
Never edit this file: add a revision (docs/migrations.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _s(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def _t(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _i(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _b(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _f(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=nullable)


TABLES = {
    "article": lambda: [
        _i("id"), _s("canonical_url"), _s("final_url"), _s("status"), _s("error", True),
        _s("title"), _text("text"), _t("published_at"), _s("content_type", True),
        _b("truncated"), _i("failures"), _t("fetched_at", False), _t("retry_at"),
        sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("canonical_url")],
    "feed_state": lambda: [
        _s("name"), _s("url", True), _s("etag", True), _s("last_modified", True),
        _t("last_polled_at"), _t("last_success_at"), _t("last_error_at"),
        _s("last_error", True), _i("consecutive_failures"), _i("total_failures"),
        _t("failing_since"), _b("down_notified"), _t("next_poll_at"), _i("items_total"),
        sa.PrimaryKeyConstraint("name")],
    "item": lambda: [
        _i("id"), _s("dedupe_key"), _s("content_hash"), _s("feed"), _s("company"),
        _s("source_kind"), _s("guid", True), _s("link", True), _s("title"), _text("text"),
        _s("article_url", True), _s("article_error", True), _t("published_at"),
        _t("fetched_at", False), sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key")],
    "article_url": lambda: [
        _s("url"), _i("article_id"), sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("url")],
    "figure": lambda: [
        _i("id"), _i("item_id", True), _s("company"), _s("metric"), _s("basis"),
        _s("period", True), _f("value"), _s("unit"), _b("approx"), _f("low", True),
        _f("high", True), _s("accounting", True), _b("comparative"), _b("from_table"),
        _f("confidence"), _text("evidence"), _i("span_start", True), _i("span_end", True),
        _s("source_kind"), _t("published_at"), _t("observed_at", False),
        _text("inputs", True), sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("id")],
    "alert": lambda: [
        _i("id"), _s("dedupe_key"), _s("kind"), _s("group_key"), _s("rule_id", True),
        _s("company", True), _s("metric", True), _s("basis", True),
        _s("accounting_family", True), _s("period", True), _f("value", True),
        _s("source_kind", True), _i("parent_id", True), _s("channel"), _s("severity"),
        _s("mention", True), _i("item_id", True), _i("figure_id", True), _text("payload"),
        _s("status"), _i("attempts"), _s("last_error", True), _t("next_attempt_at"),
        _t("claimed_until"), _s("claimed_by", True), _t("shown_at"),
        _s("slack_channel", True), _s("slack_ts", True), _t("created_at", False),
        _t("sent_at"), sa.ForeignKeyConstraint(["figure_id"], ["figure.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["alert.id"]), sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_alert_dedupe")],
}

INDEXES = {  # table: [(name, columns)]
    "item": [("ix_item_content_hash", ["content_hash"]), ("ix_item_feed", ["feed"])],
    "article_url": [("ix_article_url_article_id", ["article_id"])],
    "figure": [("ix_figure_item_id", ["item_id"]),
               ("ix_figure_lookup", ["company", "metric", "basis", "period"])],
    "alert": [("ix_alert_key", ["company", "metric", "period"]),
              ("ix_alert_status", ["status", "next_attempt_at"])],
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table, columns in TABLES.items():
        if table in existing:
            continue  # made by create_all before migrations: kept as it is, rows and all
        op.create_table(table, *columns())
        for name, cols in INDEXES.get(table, []):
            op.create_index(name, table, cols)


def downgrade() -> None:
    for table in reversed(list(TABLES)):
        op.drop_table(table)
