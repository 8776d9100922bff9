"""offers: a shop's offers (draft, active, stopped), one-time grants with their control
group, what each offer gave at a purchase, and each purchase's offer totals

Revision ID: node_0009
Revises: node_0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0009"
down_revision = "node_0008"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


OFFER_COLUMNS = ("offer_discount_rial", "offer_points", "offer_credit_rial")


def upgrade() -> None:
    for column in OFFER_COLUMNS:
        op.add_column(
            "purchases", sa.Column(column, sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "offers",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("control_salt", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.String(120), nullable=True),
        sa.Column("override_reason", sa.String(500), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_by", sa.String(120), nullable=True),
    )
    op.create_index(op.f("ix_offers_status"), "offers", ["status"])
    op.create_table(
        "offer_grants",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("offer_id", sa.String(26), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("member_id", BIG, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_purchase_id", BIG, sa.ForeignKey("purchases.id"), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(16), nullable=True),
        sa.UniqueConstraint("offer_id", "member_id"),
    )
    op.create_index(op.f("ix_offer_grants_offer_id"), "offer_grants", ["offer_id"])
    op.create_index(op.f("ix_offer_grants_member_id"), "offer_grants", ["member_id"])
    op.create_table(
        "offer_rewards",
        sa.Column("id", BIG, primary_key=True),
        sa.Column("offer_id", sa.String(26), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("grant_id", sa.String(26), sa.ForeignKey("offer_grants.id"), nullable=True),
        sa.Column("purchase_id", BIG, sa.ForeignKey("purchases.id"), nullable=False),
        sa.Column("member_id", BIG, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("discount_rial", sa.BigInteger(), nullable=False),
        sa.Column("credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(op.f("ix_offer_rewards_offer_id"), "offer_rewards", ["offer_id"])
    op.create_index(op.f("ix_offer_rewards_purchase_id"), "offer_rewards", ["purchase_id"])


def downgrade() -> None:
    op.drop_table("offer_rewards")
    op.drop_table("offer_grants")
    op.drop_table("offers")
    # Not a batch: SQLite (3.35+) drops a column in place; a batch would copy the table,
    # which the rows pointing at purchases refuse.
    for column in OFFER_COLUMNS:
        op.drop_column("purchases", column)
