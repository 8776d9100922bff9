"""messages: the hub's delivery log (issue 19) — every sign-in code, redemption code and
lottery win it sends, from queued to its fate

Revision ID: hub_0028_messages
Revises: hub_0027_shop_offers
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from mallnet.messaging.log import create_table

revision = "hub_0028_messages"
down_revision = "hub_0027_shop_offers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(op)


def downgrade() -> None:
    op.drop_table("messages")
