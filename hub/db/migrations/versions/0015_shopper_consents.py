"""shopper consents: the hub's view of promotional SMS per membership, and the shopper's
change waiting for the node's confirmation

Revision ID: hub_0015_shopper_consents
Revises: hub_0014_lottery_entrant_ids
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0015_shopper_consents"
down_revision = "hub_0014_lottery_entrant_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "memberships",
        sa.Column("promotional", sa.Boolean(), server_default="0", nullable=False),
    )
    op.add_column("memberships", sa.Column("consent_command", sa.String(length=26), nullable=True))


def downgrade() -> None:
    op.drop_column("memberships", "consent_command")
    op.drop_column("memberships", "promotional")
