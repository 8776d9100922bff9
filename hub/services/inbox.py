"""Commands from the hub to a node, queued per node: the node pulls them (it may sit
behind NAT) and acknowledges by cursor; applying one is idempotent on the node, so a
command delivered twice (a lost acknowledgement) has one effect.

The cursor is a per-node delivery number given at pull time to commands already committed
(see ``InboxCommand``), so a command whose transaction commits late is delivered after the
others, never passed: every command is delivered, in the order the commands committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, func, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import (
    PAYLOADS,
    SCHEMA_VERSION,
    EnrolMember,
    LinkTelegram,
    NotifyMember,
    RevokeStaffSessions,
    SetConsent,
)
from federation.ids import new_event_id
from hub.db.models import InboxCommand, NodeCursor
from mallnet.db import utcnow

MAX_PULL = 200
_TYPES = {model: kind for kind, model in PAYLOADS.items()}


async def enqueue(
    session: AsyncSession,
    node: str,
    command: EnrolMember | NotifyMember | SetConsent | RevokeStaffSessions | LinkTelegram,
) -> InboxCommand:
    kind = _TYPES[type(command)]
    row = InboxCommand(
        node=node,
        command_id=new_event_id(),
        type=kind.value,
        payload=command.model_dump(mode="json"),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def _cursor(session: AsyncSession, node: str) -> NodeCursor:
    """The node's cursor row, locked; created first if the node never pulled (two first
    pulls at once make one row: the loser's insert does nothing and it waits on the lock)."""
    cursor = await session.get(NodeCursor, node, with_for_update=True, populate_existing=True)
    if cursor is not None:
        return cursor
    conn = await session.connection()
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        dialect_insert(NodeCursor)
        .values(node=node, acked_seq=0, last_seq=0, acked_at=utcnow())
        .on_conflict_do_nothing(index_elements=["node"])
    )
    cursor = await session.get(NodeCursor, node, with_for_update=True, populate_existing=True)
    assert cursor is not None  # inserted just above, or by the pull that won the race
    return cursor


ACKED = (
    select(func.coalesce(func.max(NodeCursor.acked_seq), 0))
    .where(NodeCursor.node == bindparam("node"))
    .scalar_subquery()
)
NUMBERED = (
    select(InboxCommand)
    .where(InboxCommand.node == bindparam("node"), InboxCommand.delivery_seq > ACKED)
    .order_by(InboxCommand.delivery_seq)
    .limit(bindparam("size"))
)
UNNUMBERED = (
    select(InboxCommand)
    .where(InboxCommand.node == bindparam("node"), InboxCommand.delivery_seq.is_(None))
    .order_by(InboxCommand.id)
    .limit(bindparam("size"))
)
ANY_UNNUMBERED = select(
    exists().where(InboxCommand.node == bindparam("node"), InboxCommand.delivery_seq.is_(None))
)


async def pull(session: AsyncSession, node: str, limit: int) -> list[dict[str, Any]]:
    """The node's commands after its acknowledged cursor, in delivery order, as envelopes
    (``seq`` is the cursor to acknowledge). Run it in a write transaction: a command seen
    committed for the first time is numbered here.

    A page is always the run ``acked + 1 .. acked + n`` of delivery numbers, so that
    acknowledging its last cursor acknowledges exactly what the page held. Numbers are
    only given under the cursor's lock, after every number given before it: a command
    whose transaction commits later than one already delivered is numbered later, never
    skipped. When nothing new is committed (the usual poll) the pull only reads."""
    size = max(1, min(limit, MAX_PULL))
    params = {"node": node, "size": size}
    rows = list(await session.scalars(NUMBERED, params))
    if len(rows) < size and await session.scalar(ANY_UNNUMBERED, {"node": node}):
        cursor = await _cursor(session, node)
        # Again under the lock: another pull of this node may have numbered some since.
        rows = list(await session.scalars(NUMBERED, params))
        fresh = await session.scalars(UNNUMBERED, {"node": node, "size": size - len(rows)})
        for row in fresh:
            cursor.last_seq += 1
            row.delivery_seq = cursor.last_seq
            rows.append(row)
        await session.flush()
    return [
        {
            "event_id": row.command_id,
            "type": row.type,
            "schema_version": SCHEMA_VERSION,
            "node": node,
            "seq": row.delivery_seq,
            "occurred_at": row.created_at.isoformat(),
            "payload": row.payload,
        }
        for row in rows
    ]


async def ack(session: AsyncSession, node: str, up_to: int) -> int:
    """Move the node's cursor forward (never back, never past what was delivered); returns
    where it now stands."""
    cursor = await _cursor(session, node)
    target = min(up_to, cursor.last_seq)
    if target > cursor.acked_seq:
        cursor.acked_seq = target
        cursor.acked_at = utcnow()
    return cursor.acked_seq


# Numbers run 1..last_seq per node without a gap (given one by one under the cursor's lock,
# unique per node), so the numbered commands waiting are last_seq - acked_seq: no scan of
# the node's history. The unnumbered ones are counted on their small partial index.
_WAITING = union_all(
    select(NodeCursor.node, (NodeCursor.last_seq - NodeCursor.acked_seq).label("waiting")).where(
        NodeCursor.node.in_(bindparam("nodes", expanding=True))
    ),
    select(InboxCommand.node, func.count().label("waiting"))
    .where(
        InboxCommand.node.in_(bindparam("nodes", expanding=True)),
        InboxCommand.delivery_seq.is_(None),
    )
    .group_by(InboxCommand.node),
).subquery()
DEPTHS = select(_WAITING.c.node, func.sum(_WAITING.c.waiting)).group_by(_WAITING.c.node)


async def depths(session: AsyncSession, nodes: Sequence[str]) -> dict[str, int]:
    """Commands waiting in each node's inbox (not yet acknowledged, numbered or not), for
    many nodes in one statement (0 for a node with none): ``depth`` for the federation
    status of the whole network."""
    rows = await session.execute(DEPTHS, {"nodes": list(nodes)})
    found: dict[str, int] = {node: int(count) for node, count in rows}
    return {node: found.get(node, 0) for node in nodes}


async def depth(session: AsyncSession, node: str) -> int:
    return (await depths(session, [node]))[node]
