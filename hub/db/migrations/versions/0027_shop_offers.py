"""shops' offers as the shopper's app shows them (issue 18): what each node published of
its offers (texts, end; withdrawn or not) and the one-time grants it made to its members
(open until they expire or the node closes them); keyed by shop and the node's own id

Revision ID: hub_0027_shop_offers
Revises: hub_0026_campaign_sponsors
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0027_shop_offers"
down_revision = "hub_0026_campaign_sponsors"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shop_offers",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name_fa", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("summary_fa", sa.String(length=300), nullable=False),
        sa.Column("summary_en", sa.String(length=300), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('permanent', 'one_time')", name=op.f("ck_shop_offers_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_offers")),
        sa.UniqueConstraint("shop", "offer_id", name=op.f("uq_shop_offers_shop")),
    )
    op.create_index(
        "ix_shop_offers_shop_kind_published_at",
        "shop_offers",
        ["shop", "kind", "published_at"],
        unique=False,
    )
    op.create_table(
        "shop_offer_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("offer_id", sa.String(length=26), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=12), nullable=True),
        sa.CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('used', 'expired', 'withdrawn')",
            name=op.f("ck_shop_offer_grants_close_reason"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_offer_grants")),
        sa.UniqueConstraint("shop", "grant_id", name=op.f("uq_shop_offer_grants_shop")),
    )
    op.create_index(
        "ix_shop_offer_grants_pseudonym_granted_at",
        "shop_offer_grants",
        ["pseudonym", "granted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_shop_offer_grants_pseudonym_granted_at", table_name="shop_offer_grants")
    op.drop_table("shop_offer_grants")
    op.drop_index("ix_shop_offers_shop_kind_published_at", table_name="shop_offers")
    op.drop_table("shop_offers")
