"""Node identity: the shop this database belongs to.

Revision ID: node_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_slug", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_node_identity_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_node_identity"),
    )


def downgrade() -> None:
    op.drop_table("node_identity")
