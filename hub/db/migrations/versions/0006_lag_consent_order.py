"""node lag, consent order, one conflict row per content

Revision ID: hub_0006
Revises: hub_0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0006"
down_revision = "hub_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a constraint to an existing table in place.
    with op.batch_alter_table("federation_conflicts") as batch:
        batch.create_unique_constraint(
            op.f("uq_federation_conflicts_event_id"), ["event_id", "digest"]
        )
    op.add_column(
        "memberships", sa.Column("consent_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "node_streams",
        sa.Column("pending_events", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "node_streams",
        sa.Column("oldest_pending_s", sa.BigInteger(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("node_streams", "oldest_pending_s")
    op.drop_column("node_streams", "pending_events")
    op.drop_column("memberships", "consent_seq")
    with op.batch_alter_table("federation_conflicts") as batch:
        batch.drop_constraint(op.f("uq_federation_conflicts_event_id"), type_="unique")
