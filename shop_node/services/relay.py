"""The outbox relay: numbers undelivered events, sends them to the hub in batches, and
marks what the hub acknowledged. A crash between sending and marking only means the
batch is sent again — the hub answers duplicates, and nothing happens twice."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection, HubRefused, HubUnavailable
from federation.envelope import MAX_BATCH_BYTES, SCHEMA_VERSION
from federation.problems import HubProblemCode
from mallnet.db import utcnow
from shop_node.db.models import HubCredentials, OutboxEvent
from shop_node.services.runtime import NodeRuntime

BATCH = 200


@dataclass(frozen=True)
class RelayReport:
    sent: int
    acknowledged: int
    rejected: int
    pending: int
    error: str | None = None


async def relay_once(runtime: NodeRuntime, hub: HubConnection, batch: int = BATCH) -> RelayReport:
    envelopes = await runtime.transaction(lambda s: _next_batch(s, runtime.shop, batch))
    if not envelopes:
        return RelayReport(0, 0, 0, 0)
    acknowledged: list[str] = []
    rejected: dict[str, str] = {}
    try:
        await _send(runtime, hub, envelopes, acknowledged, rejected)
    except HubUnavailable as exc:
        message = str(exc)[:500]
        ids = [str(e["event_id"]) for e in envelopes]

        async def failed(session: AsyncSession) -> None:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.event_id.in_(ids))
                .values(attempts=OutboxEvent.attempts + 1, last_error=message)
            )

        await runtime.transaction(failed)
        return RelayReport(len(ids), 0, 0, await _pending(runtime), message)
    finally:
        if acknowledged or rejected:
            await runtime.transaction(lambda s: _settle(s, acknowledged, rejected))
    return RelayReport(len(envelopes), len(acknowledged), len(rejected), await _pending(runtime))


async def _send(
    runtime: NodeRuntime,
    hub: HubConnection,
    envelopes: list[dict[str, object]],
    acknowledged: list[str],
    rejected: dict[str, str],
) -> None:
    """Send; if the hub refuses the batch as such, halve it until the refused event is
    alone, and set that one aside. Conflicts are final answers too. A refusal of the node
    itself (its client is not a node's) says nothing about the events: none is set aside,
    and the relay tries again later."""
    ids = [str(e["event_id"]) for e in envelopes]
    try:
        result = await hub.ingest(envelopes, await _backlog(runtime, ids))
    except HubRefused as exc:
        if exc.code is not HubProblemCode.INVALID_BATCH:
            raise HubUnavailable(f"the hub refused this node: {exc}") from exc
        if len(envelopes) == 1:
            rejected[ids[0]] = f"refused by the hub: {exc}"[:500]
            return
        middle = len(envelopes) // 2
        await _send(runtime, hub, envelopes[:middle], acknowledged, rejected)
        await _send(runtime, hub, envelopes[middle:], acknowledged, rejected)
        return
    acknowledged.extend(result["acknowledged"])
    for event_id in result["conflicts"]:
        rejected[event_id] = "conflict: the hub already holds this event id with other content"


async def _settle(session: AsyncSession, acknowledged: list[str], rejected: dict[str, str]) -> None:
    now = utcnow()
    if acknowledged:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.event_id.in_(acknowledged), OutboxEvent.delivered_at.is_(None))
            .values(delivered_at=now, last_error=None)
        )
    for event_id, reason in rejected.items():
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.event_id == event_id)
            .values(rejected_at=now, last_error=reason)
        )


async def relay_all(runtime: NodeRuntime, hub: HubConnection, max_batches: int = 50) -> int:
    """Send until the outbox is empty or the hub fails; returns events acknowledged."""
    total = 0
    for _ in range(max_batches):
        report = await relay_once(runtime, hub)
        total += report.acknowledged
        if report.error or report.sent == 0:
            break
    return total


async def _next_batch(session: AsyncSession, shop: str, batch: int) -> list[dict[str, object]]:
    rows = list(
        (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.rejected_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(batch)
                .with_for_update()
            )
        ).all()
    )
    # Sequence numbers are given in id order, once, by the relay: an event keeps its
    # number across retries, so the hub can tell a re-send from a new event.
    next_seq = (await session.scalar(select(func.max(OutboxEvent.seq)))) or 0
    for row in rows:
        if row.seq is None:
            next_seq += 1
            row.seq = next_seq
    await session.flush()
    envelopes: list[dict[str, object]] = []
    size = 2
    for row in sorted(rows, key=lambda r: r.seq or 0):
        envelope: dict[str, object] = {
            "event_id": row.event_id,
            "type": row.type,
            "schema_version": SCHEMA_VERSION,
            "node": shop,
            "seq": row.seq,
            "occurred_at": row.occurred_at.isoformat(),
            "payload": row.payload,
        }
        size += len(json.dumps(envelope)) + 1
        # Stay well under the hub's limit (the rest goes in the next batch); a single
        # event too large on its own is sent alone and set aside if refused.
        if envelopes and size > MAX_BATCH_BYTES // 2:
            break
        envelopes.append(envelope)
    return envelopes


async def _backlog(runtime: NodeRuntime, sending: list[str]) -> dict[str, int]:
    """What stays undelivered besides the batch being sent, and the age of its oldest
    event: the node's lag, as the hub shows it to mall management."""

    async def read(session: AsyncSession) -> dict[str, int]:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.occurred_at)).where(
                    OutboxEvent.delivered_at.is_(None),
                    OutboxEvent.rejected_at.is_(None),
                    OutboxEvent.event_id.not_in(sending),
                )
            )
        ).one()
        age = 0 if oldest is None else int((utcnow() - oldest).total_seconds())
        return {"pendingEvents": int(count), "oldestPendingS": max(0, age)}

    return await runtime.read(read)


async def _pending(runtime: NodeRuntime) -> int:
    async def count(session: AsyncSession) -> int:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.delivered_at.is_(None))
            )
            or 0
        )

    return await runtime.read(count)


async def hub_connection(runtime: NodeRuntime, hub_url: str) -> HubConnection | None:
    """The node's credentials at the hub, if it has been connected (``mallnet node-connect``)."""

    async def load(session: AsyncSession) -> HubCredentials | None:
        return await session.get(HubCredentials, 1)

    row = await runtime.read(load)
    if row is None:
        return None
    # Kept per process: its access token lives ten minutes, and the relay runs every few
    # seconds — asking the hub for a new token each time would double the traffic.
    key = (hub_url.rstrip("/"), row.client_id, row.client_secret)
    if key not in _connections:
        _connections[key] = HubConnection(*key)
    return _connections[key]


_connections: dict[tuple[str, str, str], HubConnection] = {}


async def connect(runtime: NodeRuntime, client_id: str, client_secret: str) -> None:
    async def save(session: AsyncSession) -> None:
        row = await session.get(HubCredentials, 1)
        if row is None:
            session.add(
                HubCredentials(
                    id=1, client_id=client_id, client_secret=client_secret, updated_at=utcnow()
                )
            )
        else:
            row.client_id, row.client_secret, row.updated_at = client_id, client_secret, utcnow()

    await runtime.transaction(save)
