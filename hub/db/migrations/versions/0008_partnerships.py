"""partnerships

Revision ID: hub_0008
Revises: hub_0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0008"
down_revision = "hub_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_offers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("host_shop", sa.String(length=40), nullable=False),
        sa.Column("origin_shops", sa.JSON(), nullable=False),
        sa.Column("origin_category", sa.String(length=40), nullable=True),
        sa.Column("min_purchase_rial", sa.BigInteger(), nullable=False),
        sa.Column("origin_groups", sa.JSON(), nullable=False),
        sa.Column("first_purchase_only", sa.Boolean(), nullable=False),
        sa.Column("monthly_cap", sa.Integer(), nullable=True),
        sa.Column("welcome_points", sa.BigInteger(), nullable=False),
        sa.Column("welcome_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'withdrawn')", name=op.f("ck_partner_offers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_offers")),
    )
    op.create_index(
        op.f("ix_partner_offers_host_shop"), "partner_offers", ["host_shop"], unique=False
    )
    op.create_table(
        "partner_opt_ins",
        sa.Column("offer_id", sa.String(length=26), nullable=False),
        sa.Column("origin_shop", sa.String(length=40), nullable=False),
        sa.Column("opted_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["partner_offers.id"],
            name=op.f("fk_partner_opt_ins_offer_id_partner_offers"),
        ),
        sa.PrimaryKeyConstraint("offer_id", "origin_shop", name=op.f("pk_partner_opt_ins")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offer_id", sa.String(length=26), nullable=False),
        sa.Column("origin_shop", sa.String(length=40), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=26), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["partner_offers.id"], name=op.f("fk_referrals_offer_id_partner_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("offer_id", "pseudonym", name=op.f("uq_referrals_offer_id")),
    )
    op.create_index("ix_referrals_offer_id_month", "referrals", ["offer_id", "month"], unique=False)
    op.add_column(
        "memberships",
        sa.Column("partner_sharing", sa.Boolean(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("memberships", "partner_sharing")
    op.drop_index("ix_referrals_offer_id_month", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("partner_opt_ins")
    op.drop_index(op.f("ix_partner_offers_host_shop"), table_name="partner_offers")
    op.drop_table("partner_offers")
