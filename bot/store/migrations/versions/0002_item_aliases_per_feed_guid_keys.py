"""Item aliases, and guids that are not URLs keyed per feed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- `item_alias`: a key under which a stored story came again (same content, another guid
  or feed), so that it is dropped and logged once.
- `item.dedupe_key`: a guid that is not a URL, URN or tag URI names a story only within
  its feed (bot.items.Item.dedupe_key): `guid:1` becomes `guid:<feed>:1`, so that the
  next poll of that feed still knows its stories and another feed's item "1" is new.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# guid:<id> where <id> is a URL (scheme://), a URN or a tag URI stays as it is. The test
# is on the 5 characters after "guid:"; both engines have substr() and ||.
_GLOBAL = ("substr(dedupe_key, 6) LIKE '%://%' OR lower(substr(dedupe_key, 6, 4)) = 'urn:' "
           "OR lower(substr(dedupe_key, 6, 4)) = 'tag:'")


def upgrade() -> None:
    op.create_table(
        "item_alias",
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("dedupe_key"),
    )
    with op.batch_alter_table("item_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_alias_item_id"), ["item_id"], unique=False)
    op.execute("UPDATE item SET dedupe_key = 'guid:' || feed || ':' || substr(dedupe_key, 6) "
               f"WHERE dedupe_key LIKE 'guid:%' AND NOT ({_GLOBAL})")


def downgrade() -> None:
    op.execute("UPDATE item SET dedupe_key = 'guid:' || substr(dedupe_key, 7 + length(feed)) "
               "WHERE dedupe_key LIKE 'guid:' || feed || ':%'")
    with op.batch_alter_table("item_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_alias_item_id"))
    op.drop_table("item_alias")
