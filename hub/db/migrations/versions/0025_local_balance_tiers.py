"""each shop's club balance remembers the shopper's tier there, as the shop's latest
balance event gave it (nodes send it from now on; older events, and rows from before,
have none)

Revision ID: hub_0025_local_balance_tiers
Revises: hub_0024_code_askers
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0025_local_balance_tiers"
down_revision = "hub_0024_code_askers"
branch_labels = None
depends_on = None

NAMES = ("tier_name_fa", "tier_name_en", "next_tier_name_fa", "next_tier_name_en")


def upgrade() -> None:
    with op.batch_alter_table("local_balances") as batch:
        batch.add_column(sa.Column("tier_code", sa.String(length=40), nullable=True))
        for name in NAMES:
            batch.add_column(sa.Column(name, sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("tier_basis", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("tier_metric", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("next_tier_threshold", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_balances") as batch:
        for name in ("next_tier_threshold", "tier_metric", "tier_basis", *NAMES, "tier_code"):
            batch.drop_column(name)
