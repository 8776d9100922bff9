"""the faces' server-side sessions (face_sessions) and sign-ins under way (face_logins)

Revision ID: hub_0023_face_sessions
Revises: hub_0022_node_inbox_scope
Create Date: 2026-12-05

New tables only: nothing to fill in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0023_face_sessions"
down_revision = "hub_0022_node_inbox_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("face", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("kek_id", sa.String(length=16), nullable=False),
        sa.Column("sealed_tokens", sa.Text(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_face_sessions")),
    )
    op.create_index(op.f("ix_face_sessions_subject"), "face_sessions", ["subject"], unique=False)
    op.create_index(
        op.f("ix_face_sessions_expires_at"), "face_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "face_logins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("face", sa.String(length=20), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_face_logins")),
    )
    op.create_index(op.f("ix_face_logins_expires_at"), "face_logins", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_face_logins_expires_at"), table_name="face_logins")
    op.drop_table("face_logins")
    op.drop_index(op.f("ix_face_sessions_expires_at"), table_name="face_sessions")
    op.drop_index(op.f("ix_face_sessions_subject"), table_name="face_sessions")
    op.drop_table("face_sessions")
