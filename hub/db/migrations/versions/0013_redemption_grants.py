"""redemption grants: the shopper's PIN and one-time grants before a hold

Revision ID: hub_0013_redemption_grants
Revises: hub_0012_inbox_exactly_once
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0013_redemption_grants"
down_revision = "hub_0012_inbox_exactly_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "redemption_pins",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_redemption_pins_failures")),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_redemption_pins")),
    )
    op.create_table(
        "redemption_grants",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=4), nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("max_rial", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_id", sa.String(length=26), nullable=True),
        sa.CheckConstraint("channel IN ('app', 'sms')", name=op.f("ck_redemption_grants_channel")),
        sa.CheckConstraint(
            "max_rial IS NULL OR max_rial > 0", name=op.f("ck_redemption_grants_max_rial")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_redemption_grants_attempts")),
        sa.CheckConstraint(
            "(used_at IS NULL) = (hold_id IS NULL)", name=op.f("ck_redemption_grants_used")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_grants")),
    )
    op.create_index(
        "ix_redemption_grants_pseudonym_created_at",
        "redemption_grants",
        ["pseudonym", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_redemption_grants_shop_created_at",
        "redemption_grants",
        ["shop", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_redemption_grants_shop_created_at", table_name="redemption_grants")
    op.drop_index("ix_redemption_grants_pseudonym_created_at", table_name="redemption_grants")
    op.drop_table("redemption_grants")
    op.drop_table("redemption_pins")
