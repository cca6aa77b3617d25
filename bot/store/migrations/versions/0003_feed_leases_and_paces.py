"""Feed leases (one replica polls a feed at a time), live replicas, and shared paces
(Slack per channel, the EDGAR request budget), for replicas sharing one database:
docs/scaling.md.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("replica",
                    sa.Column("id", sa.String(), nullable=False),
                    sa.Column("seen_until", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_table("pace",
                    sa.Column("key", sa.String(), nullable=False),
                    sa.Column("next_at", sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint("key"))
    with op.batch_alter_table("feed_state") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_state") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_holder")
    op.drop_table("pace")
    op.drop_table("replica")
