"""lottery entrant ids: published lists name per-lottery entrant ids, not pseudonyms

Revision ID: hub_0014_lottery_entrant_ids
Revises: hub_0013_redemption_grants
Create Date: 2026-12-08

Every shopper who entered a lottery still open gets a random entrant id. A lottery already
frozen (drawing or drawn) published its list under pseudonyms, and its digest and draw are
computed from them: its entrants keep their pseudonym as their id, so the published draw
still re-runs (what was published cannot be taken back); its record's winners are renamed
to ``entrant_id``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "hub_0014_lottery_entrant_ids"
down_revision = "hub_0013_redemption_grants"
branch_labels = None
depends_on = None

_lotteries = sa.table(
    "lotteries",
    sa.column("id", sa.String),
    sa.column("status", sa.String),
    sa.column("record", sa.JSON),
)
_entries = sa.table(
    "lottery_entries", sa.column("lottery_id", sa.String), sa.column("pseudonym", sa.String)
)


def upgrade() -> None:
    entrants = op.create_table(
        "lottery_entrants",
        sa.Column("lottery_id", sa.String(length=26), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("entrant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lottery_id"], ["lotteries.id"], name=op.f("fk_lottery_entrants_lottery_id_lotteries")
        ),
        sa.PrimaryKeyConstraint("lottery_id", "pseudonym", name=op.f("pk_lottery_entrants")),
        sa.UniqueConstraint(
            "lottery_id", "entrant_id", name=op.f("uq_lottery_entrants_lottery_id")
        ),
    )
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    entered = conn.execute(
        sa.select(_entries.c.lottery_id, _entries.c.pseudonym, _lotteries.c.status)
        .join(_lotteries, _lotteries.c.id == _entries.c.lottery_id)
        .distinct()
    ).all()
    rows = [
        {
            "lottery_id": lottery_id,
            "pseudonym": pseudonym,
            "entrant_id": secrets.token_hex(32) if status == "open" else pseudonym,
            "created_at": now,
        }
        for lottery_id, pseudonym, status in entered
    ]
    if rows:
        op.bulk_insert(entrants, rows)
    for lottery_id, record in conn.execute(
        sa.select(_lotteries.c.id, _lotteries.c.record).where(_lotteries.c.record.is_not(None))
    ).all():
        _rename_winners(conn, lottery_id, record, "pseudonym", "entrant_id")
    # Batch mode: SQLite cannot add a constraint to an existing table in place.
    with op.batch_alter_table("lottery_entries") as batch:
        batch.create_foreign_key(
            op.f("fk_lottery_entries_lottery_id_lottery_entrants"),
            "lottery_entrants",
            ["lottery_id", "pseudonym"],
            ["lottery_id", "pseudonym"],
        )


def downgrade() -> None:
    # The ids of lotteries frozen since stay in their lists and records: what was published
    # cannot be taken back.
    with op.batch_alter_table("lottery_entries") as batch:
        batch.drop_constraint(
            op.f("fk_lottery_entries_lottery_id_lottery_entrants"), type_="foreignkey"
        )
    conn = op.get_bind()
    for lottery_id, record in conn.execute(
        sa.select(_lotteries.c.id, _lotteries.c.record).where(_lotteries.c.record.is_not(None))
    ).all():
        _rename_winners(conn, lottery_id, record, "entrant_id", "pseudonym")
    op.drop_table("lottery_entrants")


def _rename_winners(
    conn: sa.Connection, lottery_id: str, record: dict[str, Any] | None, old: str, new: str
) -> None:
    if not isinstance(record, dict):  # a JSON null: not drawn
        return
    winners = [
        {(new if key == old else key): value for key, value in winner.items()}
        for winner in record.get("winners", [])
    ]
    conn.execute(
        sa.update(_lotteries)
        .where(_lotteries.c.id == lottery_id)
        .values(record={**record, "winners": winners})
    )
