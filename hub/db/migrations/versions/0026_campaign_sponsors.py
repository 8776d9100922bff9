"""a campaign may name sponsors, the shops that pay its cost instead of the shops that
accepted it (campaigns.sponsors, a JSON list of slugs; existing campaigns have none); and
the console overview's day series reads new shoppers, memberships and referrals by an
index on their time each

Revision ID: hub_0026_campaign_sponsors
Revises: hub_0025_local_balance_tiers
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0026_campaign_sponsors"
down_revision = "hub_0025_local_balance_tiers"
branch_labels = None
depends_on = None

# (table, column): the index is named ix_<table>_<column>, as the models' convention names it.
TIMES = (("shoppers", "created_at"), ("memberships", "joined_at"), ("referrals", "created_at"))


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        # A constant default: SQLite adds the column in place, PostgreSQL casts '[]' to json.
        batch.add_column(sa.Column("sponsors", sa.JSON(), server_default="[]", nullable=False))
    for table, column in TIMES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(TIMES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    # Not a batch: on SQLite a batch copies the table and drops the old one, which rows
    # pointing at campaigns (rewards, visits) refuse; SQLite drops a plain column in place
    # (ALTER TABLE ... DROP COLUMN, since 3.35).
    op.drop_column("campaigns", "sponsors")
