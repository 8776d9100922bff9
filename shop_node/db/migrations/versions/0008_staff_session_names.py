"""staff sessions keep the person's username (from the hub token) for the dashboard

Revision ID: node_0008
Revises: node_0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0008"
down_revision = "node_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_sessions", sa.Column("name", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("staff_sessions", "name")
