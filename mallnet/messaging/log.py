"""The delivery log: one row per message a hub or node sends, from queued to its fate.

The hub and every node keep their own ``messages`` table (each holds its own people's
addresses), with the same columns, declared once here. A row is written in the same
database transaction as the event it tells of, under the event's idempotency key, so a
retried request or a replayed command adds no second message; Celery sends it after the
commit (``mallnet.messaging.dispatch``) and writes back what the provider said.

Statuses:
  queued    waiting for its turn (``not_before``: now, or a retry's backoff)
  held      a promotional message inside the quiet hours: goes out when they end
  sending   a worker took it (``lease_until``); a worker that dies leaves it to be retaken
  sent      the provider accepted it
  delivered the provider reported it delivered (a Telegram or file message: at once)
  failed    the provider refused it, or gave up after retries (``reason`` says why)
  unknown   a worker died mid-send on a channel that cannot drop a repeat: sending it
            again could reach the person twice, so it is not sent again
  skipped   not sent: the person withdrew the consent it needed before its turn
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from mallnet.db import UTCDateTime

STATUSES: Final = (
    "queued",
    "held",
    "sending",
    "sent",
    "delivered",
    "failed",
    "unknown",
    "skipped",
)
# A message in one of these will change no more.
FINAL: Final = frozenset({"delivered", "failed", "unknown", "skipped"})
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class MessageColumns:
    """The columns of a ``messages`` table; a model is ``class Message(MessageColumns, Base)``."""

    __tablename__ = "messages"

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[object, ...]:
        return (
            sa.CheckConstraint(
                "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"
            ),
            sa.CheckConstraint("line IN ('service', 'promotional')", name="line"),
            sa.CheckConstraint("attempts >= 0 AND parts >= 0", name="counts"),
            # The sender's scan: what is due, oldest first.
            sa.Index("ix_messages_status_not_before", "status", "not_before"),
        )

    id: Mapped[int] = mapped_column(BIG, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    medium: Mapped[str] = mapped_column(sa.String(16))
    line: Mapped[str] = mapped_column(sa.String(16))
    # E.164 phone or Telegram chat id; who it is about: a member id at a node, a
    # pseudonym at the hub (for the member's and the shopper's pages).
    recipient: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    lang: Mapped[str] = mapped_column(sa.String(2))
    # What was sent (a one-time code is masked here outside development).
    text: Mapped[str] = mapped_column(sa.Text)
    parts: Mapped[int] = mapped_column(sa.Integer)
    # The estimate when queued; the provider's price when it says.
    cost_rial: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    provider: Mapped[str | None] = mapped_column(sa.String(16))
    provider_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The send to a list it belongs to, if any.
    batch_id: Mapped[str | None] = mapped_column(sa.String(26), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def create_table(op: Any) -> None:
    """Create the table as the migration that adds it does (hub 0028, node 0010). Frozen:
    a later change to the model is a new migration, never an edit of this function."""
    when = sa.DateTime(timezone=True)
    op.create_table(
        "messages",
        sa.Column("id", BIG, primary_key=True),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("medium", sa.String(16), nullable=False),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("cost_rial", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", when, nullable=False),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("provider", sa.String(16), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("batch_id", sa.String(26), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("sent_at", when, nullable=True),
        sa.Column("settled_at", when, nullable=True),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_messages_idempotency_key")),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name=op.f("ck_messages_status"),
        ),
        sa.CheckConstraint("line IN ('service', 'promotional')", name=op.f("ck_messages_line")),
        sa.CheckConstraint("attempts >= 0 AND parts >= 0", name=op.f("ck_messages_counts")),
    )
    op.create_index(op.f("ix_messages_status_not_before"), "messages", ["status", "not_before"])
    op.create_index(op.f("ix_messages_subject"), "messages", ["subject"])
    op.create_index(op.f("ix_messages_batch_id"), "messages", ["batch_id"])
