"""refresh families remember their code; sign-in failures

Revision ID: hub_0004
Revises: hub_0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0004"
down_revision = "hub_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_ip_at", "sign_in_failures", ["ip", "at"], unique=False)
    op.create_index(
        "ix_sign_in_failures_username_at", "sign_in_failures", ["username", "at"], unique=False
    )
    op.add_column(
        "refresh_tokens", sa.Column("origin_code_hash", sa.String(length=100), nullable=True)
    )
    op.create_index(
        op.f("ix_refresh_tokens_origin_code_hash"),
        "refresh_tokens",
        ["origin_code_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_refresh_tokens_origin_code_hash"), table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "origin_code_hash")
    op.drop_index("ix_sign_in_failures_username_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_ip_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
