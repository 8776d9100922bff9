"""telegram: the mall's bot at the hub — each shopper's linked chat (and her answer about
offers there), the one-time codes of the app's t.me links (their SHA-256 only), and the
webhook updates already handled (Telegram delivers one again when its answer is lost)

Revision ID: hub_0029_telegram
Revises: hub_0028_messages
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0029_telegram"
down_revision = "hub_0028_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_links",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promotional", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["shoppers.pseudonym"],
            name=op.f("fk_telegram_links_pseudonym_shoppers"),
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_telegram_links")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_telegram_links_chat_id")),
    )
    op.create_table(
        "telegram_link_codes",
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["shoppers.pseudonym"],
            name=op.f("fk_telegram_link_codes_pseudonym_shoppers"),
        ),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_telegram_link_codes")),
    )
    op.create_index(
        op.f("ix_telegram_link_codes_pseudonym"),
        "telegram_link_codes",
        ["pseudonym"],
        unique=False,
    )
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_index(
        op.f("ix_telegram_updates_handled_at"), "telegram_updates", ["handled_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_telegram_updates_handled_at"), table_name="telegram_updates")
    op.drop_table("telegram_updates")
    op.drop_index(op.f("ix_telegram_link_codes_pseudonym"), table_name="telegram_link_codes")
    op.drop_table("telegram_link_codes")
    op.drop_table("telegram_links")
