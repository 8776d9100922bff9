"""broadcasts: a promotional message to the members of a filtered list, with its progress

Revision ID: node_0011
Revises: node_0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0011"
down_revision = "node_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("skipped_no_consent", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("max_member_id", sa.BigInteger(), nullable=False),
        sa.Column("cursor_member_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("finished_at", when, nullable=True),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_broadcasts_idempotency_key")),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'done', 'failed')", name=op.f("ck_broadcasts_status")
        ),
        sa.CheckConstraint(
            "total >= 0 AND queued >= 0 AND skipped_no_consent >= 0 AND held >= 0",
            name=op.f("ck_broadcasts_counts"),
        ),
    )


def downgrade() -> None:
    op.drop_table("broadcasts")
