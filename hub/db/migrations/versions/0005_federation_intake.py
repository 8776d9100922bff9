"""federation intake: events, conflicts, streams, memberships, local balances

Revision ID: hub_0005
Revises: hub_0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0005"
down_revision = "hub_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_conflicts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=26), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_conflicts")),
    )
    op.create_index(
        op.f("ix_federation_conflicts_event_id"), "federation_conflicts", ["event_id"], unique=False
    )
    op.create_table(
        "federation_events",
        sa.Column("event_id", sa.String(length=26), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_federation_events")),
        sa.UniqueConstraint("node", "seq", name=op.f("uq_federation_events_node")),
    )
    op.create_table(
        "local_balances",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("as_of_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", "shop", name=op.f("pk_local_balances")),
    )
    op.create_table(
        "memberships",
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", "shop", name=op.f("pk_memberships")),
    )
    op.create_table(
        "node_streams",
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("contiguous_seq", sa.BigInteger(), nullable=False),
        sa.Column("highest_seq", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_node_streams")),
    )


def downgrade() -> None:
    op.drop_table("node_streams")
    op.drop_table("memberships")
    op.drop_table("local_balances")
    op.drop_table("federation_events")
    op.drop_index(op.f("ix_federation_conflicts_event_id"), table_name="federation_conflicts")
    op.drop_table("federation_conflicts")
