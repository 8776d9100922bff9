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
    cursor (nodes may sit behind NAT: the hub never calls them)."""

    __tablename__ = "inbox_commands"
    __table_args__ = (Index("ix_inbox_commands_node_id", "node", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    command_id: Mapped[str] = mapped_column(String(26), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NodeCursor(Base):
    """How far each node has acknowledged its inbox."""

    __tablename__ = "node_cursors"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    acked_id: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
