"""telegram_chats.promotional: the member's answer in the chat about offers (promotional
messages go to her Telegram chat only with her yes there); members.birthday_set_at: when
her birthday was last given or changed (a fresh one brings no gift yet)

Revision ID: node_0012
Revises: node_0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0012"
down_revision = "node_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "telegram_chats",
        sa.Column("promotional", sa.Boolean(), server_default="0", nullable=False),
    )
    op.add_column("members", sa.Column("birthday_set_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("members", "birthday_set_at")
    op.drop_column("telegram_chats", "promotional")
