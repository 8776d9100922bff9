"""shopper chosen consents: the values she asked for herself in the app, per membership

Revision ID: hub_0019_shopper_chosen_consents
Revises: hub_0018_refund_purchase_totals
Create Date: 2026-12-05

A node's report may withdraw a consent but never switch on one the shopper turned off in
the app. Nothing to fill in: the changes she made before this revision were not kept, so
those consents follow the node's reports as before (``NULL``: never set in the app).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0019_shopper_chosen_consents"
down_revision = "hub_0018_refund_purchase_totals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("memberships", sa.Column("chosen_partner_sharing", sa.Boolean(), nullable=True))
    op.add_column("memberships", sa.Column("chosen_promotional", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("memberships", "chosen_promotional")
    op.drop_column("memberships", "chosen_partner_sharing")
