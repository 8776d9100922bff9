"""relayed_messages: what the hub sent for shops' nodes on the mall's SMS lines and
Telegram bot — a node no longer holds the mall's keys; one row per (shop, key), with the
day's SMS parts each shop's budget counts

Revision ID: hub_0030_relayed_messages
Revises: hub_0029_telegram
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0030_relayed_messages"
down_revision = "hub_0029_telegram"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "relayed_messages",
        sa.Column("id", BIG, nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("tehran_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("cost_rial", sa.BigInteger(), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("sent_at", when, nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed', 'unknown')",
            name=op.f("ck_relayed_messages_status"),
        ),
        sa.CheckConstraint(
            "medium IN ('sms', 'telegram')", name=op.f("ck_relayed_messages_medium")
        ),
        sa.CheckConstraint(
            "line IN ('service', 'promotional')", name=op.f("ck_relayed_messages_line")
        ),
        sa.CheckConstraint("parts >= 0 AND attempts >= 1", name=op.f("ck_relayed_messages_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relayed_messages")),
        sa.UniqueConstraint("shop", "key", name=op.f("uq_relayed_messages_shop")),
    )
    op.create_index("ix_relayed_messages_shop_day", "relayed_messages", ["shop", "tehran_day"])
    op.create_index(
        "ix_relayed_messages_pseudonym_day",
        "relayed_messages",
        ["shop", "pseudonym", "tehran_day"],
    )
    op.create_index(op.f("ix_relayed_messages_provider_id"), "relayed_messages", ["provider_id"])


def downgrade() -> None:
    op.drop_table("relayed_messages")
