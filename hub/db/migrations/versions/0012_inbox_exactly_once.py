"""inbox exactly once: a per-node delivery number as the cursor, not the serial id

Revision ID: hub_0012_inbox_exactly_once
Revises: hub_0011
Create Date: 2026-12-08

Commands already acknowledged (id <= the node's old cursor) are numbered 1..n per node in
id order and stay acknowledged; the rest are numbered by the node's next pull.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0012_inbox_exactly_once"
down_revision = "hub_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inbox_commands", sa.Column("delivery_seq", sa.BigInteger(), nullable=True))
    # Batch mode: SQLite renames a column of an existing table only by copying it.
    with op.batch_alter_table("node_cursors") as batch:
        batch.alter_column("acked_id", new_column_name="acked_seq")
        batch.add_column(sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        """
        UPDATE inbox_commands SET delivery_seq = numbered.seq
        FROM (
            SELECT c.id, row_number() OVER (PARTITION BY c.node ORDER BY c.id) AS seq
            FROM inbox_commands AS c JOIN node_cursors AS k ON k.node = c.node
            WHERE c.id <= k.acked_seq
        ) AS numbered
        WHERE inbox_commands.id = numbered.id
        """
    )
    op.create_index(
        "uq_inbox_commands_node_delivery_seq",
        "inbox_commands",
        ["node", "delivery_seq"],
        unique=True,
    )
    op.execute(
        """
        UPDATE node_cursors SET
            last_seq = (SELECT count(*) FROM inbox_commands AS c
                        WHERE c.node = node_cursors.node AND c.delivery_seq IS NOT NULL),
            acked_seq = (SELECT count(*) FROM inbox_commands AS c
                         WHERE c.node = node_cursors.node AND c.delivery_seq IS NOT NULL)
        """
    )
    op.create_index(
        "ix_inbox_commands_unnumbered",
        "inbox_commands",
        ["node", "id"],
        unique=False,
        postgresql_where=sa.text("delivery_seq IS NULL"),
        sqlite_where=sa.text("delivery_seq IS NULL"),
    )
    op.drop_index("ix_inbox_commands_node_id", table_name="inbox_commands")


def downgrade() -> None:
    op.create_index("ix_inbox_commands_node_id", "inbox_commands", ["node", "id"], unique=False)
    # The old cursor stops before the first command not acknowledged: some acknowledged
    # commands may come again (applied once at the node), none is passed.
    op.execute(
        """
        UPDATE node_cursors SET acked_seq = coalesce(
            (SELECT min(c.id) - 1 FROM inbox_commands AS c
             WHERE c.node = node_cursors.node
               AND (c.delivery_seq IS NULL OR c.delivery_seq > node_cursors.acked_seq)),
            (SELECT max(c.id) FROM inbox_commands AS c WHERE c.node = node_cursors.node),
            0)
        """
    )
    op.drop_index("ix_inbox_commands_unnumbered", table_name="inbox_commands")
    op.drop_index("uq_inbox_commands_node_delivery_seq", table_name="inbox_commands")
    with op.batch_alter_table("node_cursors") as batch:
        batch.drop_column("last_seq")
        batch.alter_column("acked_seq", new_column_name="acked_id")
    with op.batch_alter_table("inbox_commands") as batch:
        batch.drop_column("delivery_seq")
