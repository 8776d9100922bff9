"""refund purchase totals: a refund takes back by the hub's own record of its purchase

Revision ID: hub_0018_refund_purchase_totals
Revises: hub_0017_grant_abuse_limits
Create Date: 2026-12-09

The hub records each purchase's total per (shop, receipt) as its event arrives, and the
running sum of the refunds it has taken in (one row per refund id), so a refund's share of
the value its purchase issued no longer comes from the node's figures. Nothing to fill in:
the purchase events before this revision were not kept, so a refund of one of them finds
no total and takes back all its purchase issued (what is still available, the rest owed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0018_refund_purchase_totals"
down_revision = "hub_0017_grant_abuse_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_totals",
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("total_rial", sa.BigInteger(), nullable=False),
        sa.Column("refunded_rial", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_rial >= 0", name=op.f("ck_purchase_totals_total_rial")),
        sa.CheckConstraint("refunded_rial >= 0", name=op.f("ck_purchase_totals_refunded_rial")),
        sa.PrimaryKeyConstraint("shop", "receipt", name=op.f("pk_purchase_totals")),
    )
    op.create_table(
        "purchase_refunds",
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("amount_rial", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_rial > 0", name=op.f("ck_purchase_refunds_amount_rial")),
        sa.PrimaryKeyConstraint("shop", "refund_id", name=op.f("pk_purchase_refunds")),
    )


def downgrade() -> None:
    op.drop_table("purchase_refunds")
    op.drop_table("purchase_totals")
