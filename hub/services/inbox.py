"""Commands from the hub to a node, queued per node: the node pulls them (it may sit
behind NAT) and acknowledges by cursor; applying one is idempotent on the node, so a
command delivered twice (a lost acknowledgement) has one effect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import SCHEMA_VERSION, EnrolMember, EventType, NotifyMember
from federation.ids import new_event_id
from hub.db.models import InboxCommand, NodeCursor
from mallnet.db import utcnow

MAX_PULL = 200


async def enqueue(
    session: AsyncSession, node: str, command: EnrolMember | NotifyMember
) -> InboxCommand:
    kind = EventType.ENROL_MEMBER if isinstance(command, EnrolMember) else EventType.NOTIFY_MEMBER
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
    cursor = await session.get(NodeCursor, node, with_for_update=True)
    if cursor is None:
        cursor = NodeCursor(node=node, acked_id=0, acked_at=utcnow())
        session.add(cursor)
        await session.flush()
    return cursor


async def pull(session: AsyncSession, node: str, limit: int) -> list[dict[str, Any]]:
    """The node's commands after its acknowledged cursor, oldest first, as envelopes."""
    acked = await session.scalar(select(NodeCursor.acked_id).where(NodeCursor.node == node)) or 0
    rows = await session.scalars(
        select(InboxCommand)
        .where(InboxCommand.node == node, InboxCommand.id > acked)
        .order_by(InboxCommand.id)
        .limit(max(1, min(limit, MAX_PULL)))
    )
    return [
        {
            "event_id": row.command_id,
            "type": row.type,
            "schema_version": SCHEMA_VERSION,
            "node": node,
            "seq": row.id,
            "occurred_at": row.created_at.isoformat(),
            "payload": row.payload,
        }
        for row in rows
    ]


async def ack(session: AsyncSession, node: str, up_to: int) -> int:
    """Move the node's cursor forward (never back); returns where it now stands."""
    cursor = await _cursor(session, node)
    if up_to > cursor.acked_id:
        cursor.acked_id = up_to
        cursor.acked_at = utcnow()
    return cursor.acked_id


DEPTHS = (
    select(InboxCommand.node, func.count())
    .outerjoin(NodeCursor, NodeCursor.node == InboxCommand.node)
    .where(
        InboxCommand.node.in_(bindparam("nodes", expanding=True)),
        InboxCommand.id > func.coalesce(NodeCursor.acked_id, 0),
    )
    .group_by(InboxCommand.node)
)


async def depths(session: AsyncSession, nodes: Sequence[str]) -> dict[str, int]:
    """Commands waiting in each node's inbox, for many nodes in one statement (0 for a node
    with none): ``depth`` for the federation status of the whole network."""
    rows = await session.execute(DEPTHS, {"nodes": list(nodes)})
    found: dict[str, int] = {node: int(count) for node, count in rows}
    return {node: found.get(node, 0) for node in nodes}


async def depth(session: AsyncSession, node: str) -> int:
    acked = await session.scalar(select(NodeCursor.acked_id).where(NodeCursor.node == node)) or 0
    return int(
        await session.scalar(
            select(func.count()).where(InboxCommand.node == node, InboxCommand.id > acked)
        )
        or 0
    )
