"""staff lifecycle: who changed which account (staff_changes), when an account's sessions
were last revoked, and the subject indexes that revocation reads

Revision ID: hub_0020_staff_lifecycle
Revises: hub_0019_shopper_chosen_consents
Create Date: 2026-12-05

Nothing to fill in: no account was disabled through the hub before (``disabled_at`` set by
hand keeps its meaning), and no session was ever revoked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0020_staff_lifecycle"
down_revision = "hub_0019_shopper_chosen_consents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("sessions_revoked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "staff_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'disabled', 'enabled', 'password_reset', 'role_changed')",
            name=op.f("ck_staff_changes_action"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_changes")),
    )
    op.create_index(op.f("ix_staff_changes_user_id"), "staff_changes", ["user_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_subject"), "refresh_tokens", ["subject"], unique=False)
    op.create_index(
        op.f("ix_authorization_codes_subject"), "authorization_codes", ["subject"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_authorization_codes_subject"), table_name="authorization_codes")
    op.drop_index(op.f("ix_refresh_tokens_subject"), table_name="refresh_tokens")
    op.drop_index(op.f("ix_staff_changes_user_id"), table_name="staff_changes")
    op.drop_table("staff_changes")
    op.drop_column("users", "sessions_revoked_at")
