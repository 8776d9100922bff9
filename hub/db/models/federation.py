"""The node↔hub exchange: events delivered to the intake (once each, conflicts, how far
each node's stream has arrived) and the commands waiting in each node's inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class FederationEvent(Base):
    """Every event a node delivered, once: the idempotency record of the intake."""

    __tablename__ = "federation_events"
    __table_args__ = (UniqueConstraint("node", "seq"),)

    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FederationConflict(Base):
    """An event id (or sequence number) that came again with different content."""

    __tablename__ = "federation_conflicts"
    __table_args__ = (UniqueConstraint("event_id", "digest"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), index=True)
    node: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NodeStream(Base):
    """How far each node's event stream has arrived: contiguous up to, highest seen."""

    __tablename__ = "node_streams"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    contiguous_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    highest_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    last_contact_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # As the node reported with its last batch: its outbox depth and how old its oldest
    # undelivered event was (the node's lag).
    pending_events: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    oldest_pending_s: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class InboxCommand(Base):
    """A command for one node, waiting until the node pulls it and acknowledges it by
    cursor (nodes may sit behind NAT: the hub never calls them).

    The cursor is ``delivery_seq``, not ``id``: the serial id is taken at insert, and
    concurrent enqueues commit in another order, so a cursor over ids passed a command
    that committed after a higher id was acknowledged. The delivery number is given at
    the first pull that sees the command committed, by pulls serialised on the node's
    cursor row: per node the numbers run 1, 2, 3, ... in the order the commands became
    visible, and a command that commits late is numbered after everything already
    delivered. An enqueue takes no lock, so intake and the draw lock nothing new."""

    __tablename__ = "inbox_commands"
    __table_args__ = (
        # One number per command per node, never two: the cursor's invariant, also in
        # the database. It serves the pull (numbered after the acknowledged cursor) too.
        Index("uq_inbox_commands_node_delivery_seq", "node", "delivery_seq", unique=True),
        # Commands not yet numbered, in enqueue order: few at any time, so a small index.
        Index(
            "ix_inbox_commands_unnumbered",
            "node",
            "id",
            postgresql_where=text("delivery_seq IS NULL"),
            sqlite_where=text("delivery_seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    command_id: Mapped[str] = mapped_column(String(26), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivery_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class NodeCursor(Base):
    """Each node's inbox: how far its commands are numbered for delivery (``last_seq``)
    and how far the node has acknowledged them (``acked_seq``, never beyond ``last_seq``).
    Pulls that number commands lock this row first."""

    __tablename__ = "node_cursors"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
