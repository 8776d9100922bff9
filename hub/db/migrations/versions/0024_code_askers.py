"""sign-in codes remember which browser asked for them (asker), and count the tries of
everyone else apart (stranger_attempts): a stranger's wrong codes no longer burn the
shopper's own

Revision ID: hub_0024_code_askers
Revises: hub_0023_face_sessions
Create Date: 2026-12-05

Codes outstanding at the upgrade (they live five minutes) have no asker: every try at
them counts as a stranger's, within the same five.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0024_code_askers"
down_revision = "hub_0023_face_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("one_time_codes") as batch:
        batch.add_column(sa.Column("asker", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("stranger_attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("one_time_codes") as batch:
        batch.drop_column("stranger_attempts")
        batch.drop_column("asker")
