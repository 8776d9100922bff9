"""inbox

Revision ID: hub_0007
Revises: hub_0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0007"
down_revision = "hub_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_commands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("command_id", sa.String(length=26), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_commands")),
        sa.UniqueConstraint("command_id", name=op.f("uq_inbox_commands_command_id")),
    )
    op.create_index("ix_inbox_commands_node_id", "inbox_commands", ["node", "id"], unique=False)
    op.create_table(
        "node_cursors",
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("acked_id", sa.BigInteger(), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_node_cursors")),
    )


def downgrade() -> None:
    op.drop_table("node_cursors")
    op.drop_index("ix_inbox_commands_node_id", table_name="inbox_commands")
    op.drop_table("inbox_commands")
