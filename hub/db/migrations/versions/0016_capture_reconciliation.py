"""capture reconciliation: every capture has its purchase event, or is reversed

Revision ID: hub_0016_capture_reconciliation
Revises: hub_0015_shopper_consents
Create Date: 2026-12-08

A capture is settled only once the node's purchase event names it (``matched``); one that
no event named in time is reversed to the shopper's lots (``reversed``) and never settled.
Captures made before this revision already sit in the settlement outbox (or were settled):
they count as matched, so the sweep never reverses value that was, or will be, paid.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "hub_0016_capture_reconciliation"
down_revision = "hub_0015_shopper_consents"
branch_labels = None
depends_on = None

_FLAG_KINDS = (
    "reversed",
    "late_purchase",
    "unknown_hold",
    "not_captured",
    "already_matched",
    "shopper_mismatch",
    "receipt_mismatch",
    "amount_mismatch",
)
_holds = sa.table(
    "value_holds",
    sa.column("status", sa.String),
    sa.column("reconciliation", sa.String),
    sa.column("reconciled_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("value_holds", sa.Column("reconciliation", sa.String(length=10), nullable=True))
    op.add_column(
        "value_holds", sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "value_holds", sa.Column("purchase_event_id", sa.String(length=26), nullable=True)
    )
    op.get_bind().execute(
        sa.update(_holds)
        .where(_holds.c.status == "captured")
        .values(reconciliation="matched", reconciled_at=dt.datetime.now(dt.UTC))
    )
    # Batch mode: SQLite cannot add a constraint to an existing table in place.
    with op.batch_alter_table("value_holds") as batch:
        batch.create_check_constraint(
            op.f("ck_value_holds_reconciliation"),
            "reconciliation IS NULL OR (status = 'captured' AND reconciled_at IS NOT NULL"
            " AND reconciliation IN ('matched', 'reversed'))",
        )
        batch.create_check_constraint(
            op.f("ck_value_holds_reversed_whole"),
            "reconciliation IS NULL OR reconciliation <> 'reversed'"
            " OR refunded_rial = captured_rial",
        )
    op.create_index(
        "ix_value_holds_unmatched_resolved_at",
        "value_holds",
        ["resolved_at"],
        unique=False,
        postgresql_where=sa.text("status = 'captured' AND reconciliation IS NULL"),
        sqlite_where=sa.text("status = 'captured' AND reconciliation IS NULL"),
    )
    op.create_table(
        "value_capture_flags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("shop", sa.String(length=40), nullable=False),
        sa.Column("hold_id", sa.String(length=26), nullable=True),
        sa.Column("event_id", sa.String(length=26), nullable=True),
        sa.Column("receipt_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("reported_rial", sa.BigInteger(), nullable=True),
        sa.Column("captured_rial", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in _FLAG_KINDS) + ")",
            name=op.f("ck_value_capture_flags_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_capture_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_value_capture_flags_key")),
    )
    op.create_index(
        op.f("ix_value_capture_flags_hold_id"), "value_capture_flags", ["hold_id"], unique=False
    )
    op.create_index(
        "ix_value_capture_flags_shop_id", "value_capture_flags", ["shop", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_value_capture_flags_shop_id", table_name="value_capture_flags")
    op.drop_index(op.f("ix_value_capture_flags_hold_id"), table_name="value_capture_flags")
    op.drop_table("value_capture_flags")
    op.drop_index("ix_value_holds_unmatched_resolved_at", table_name="value_holds")
    with op.batch_alter_table("value_holds") as batch:
        batch.drop_constraint(op.f("ck_value_holds_reversed_whole"), type_="check")
        batch.drop_constraint(op.f("ck_value_holds_reconciliation"), type_="check")
        batch.drop_column("purchase_event_id")
        batch.drop_column("reconciled_at")
        batch.drop_column("reconciliation")
