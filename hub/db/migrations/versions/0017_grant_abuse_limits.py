"""grant abuse limits: each shop's wrong redemption codes and hasNetworkValue questions

Revision ID: hub_0017_grant_abuse_limits
Revises: hub_0016_capture_reconciliation
Create Date: 2026-12-09

One row per shop, made at its first count: wrong codes in the current window, the lock
they led to, the all-time totals mall management reads, and the window of its
hasNetworkValue questions. Nothing to fill in: no shop has guessed yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0017_grant_abuse_limits"
down_revision = "hub_0016_capture_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "redemption_shop_guards",
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("failures_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures_total", sa.BigInteger(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lookups_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lookups", sa.Integer(), nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_redemption_shop_guards_failures")),
        sa.CheckConstraint(
            "failures_total >= 0", name=op.f("ck_redemption_shop_guards_failures_total")
        ),
        sa.CheckConstraint("lockouts >= 0", name=op.f("ck_redemption_shop_guards_lockouts")),
        sa.CheckConstraint("lookups >= 0", name=op.f("ck_redemption_shop_guards_lookups")),
        sa.PrimaryKeyConstraint("shop", name=op.f("pk_redemption_shop_guards")),
    )


def downgrade() -> None:
    op.drop_table("redemption_shop_guards")
