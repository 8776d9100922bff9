"""messages: the delivery log of every message to a member, members' Telegram chats, the
birthday gifts given (one a year), and the calendar a birthday was given in

Revision ID: node_0010
Revises: node_0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mallnet.messaging.log import create_table

revision = "node_0010"
down_revision = "node_0009"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


REASONS = "'welcome', 'purchase', 'frequency', 'spend', 'refund', 'expiry', 'adjustment'"


def _reasons(allowed: str) -> None:
    # SQLite cannot alter a constraint: the batch copies the table (it is recreated with
    # the new rule); PostgreSQL drops and adds it in place.
    with op.batch_alter_table("ledger_transactions") as table:
        table.drop_constraint(op.f("ck_ledger_transactions_reason"), type_="check")
        table.create_check_constraint(
            op.f("ck_ledger_transactions_reason"), f"reason IN ({allowed})"
        )


def upgrade() -> None:
    create_table(op)
    _reasons(REASONS + ", 'birthday'")
    op.add_column("members", sa.Column("birthday_calendar", sa.String(9), nullable=True))
    op.create_table(
        "telegram_chats",
        sa.Column("member_id", BIG, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("chat_id", sa.String(32), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "birthday_gifts",
        sa.Column("member_id", BIG, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    _reasons(REASONS)
    op.drop_table("birthday_gifts")
    op.drop_table("telegram_chats")
    op.drop_column("members", "birthday_calendar")
    op.drop_table("messages")
