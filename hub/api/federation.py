"""The node↔hub protocol over GraphQL: a node delivers its events (``ingestEvents``) with
``node:federate`` and pulls and acknowledges its commands (``inbox``, ``ackInbox``) with
``node:federate`` or ``node:inbox`` (all a suspended shop's node may have); mall
management follows every node's stream (``federationStatus``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import EventType, InvalidEnvelope, parse_batch
from hub.api.access import node_of
from hub.api.common import run, sessions, write
from hub.api.loaders import loaders
from hub.api.problems import InvalidBatch, NotANode
from hub.services import inbox as hub_inbox
from hub.services import intake, registry
from mallnet.auth import Principal
from mallnet.authz import guard_fields, request_scopes, requires
from mallnet.gql import JSONDocument
from mallnet.gql_limits import page_size
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key


@strawberry.type(description="What the hub did with a node's batch.")
class IngestResult:
    accepted: int
    duplicates: int
    conflicts: list[str] = strawberry.field(description="Event ids that came with new content.")
    acknowledged: list[str] = strawberry.field(
        description="Event ids the node may mark delivered (accepted or duplicate)."
    )
    contiguous_seq: int
    highest_seq: int
    gaps: list[int]


@strawberry.type(description="How far a node's event stream has arrived at the hub.")
class NodeStreamStatus:
    node: str
    contiguous_seq: int
    highest_seq: int
    events: int
    last_contact_at: dt.datetime
    pending_events: int = strawberry.field(description="The node's outbox depth, as last reported.")
    oldest_pending_s: int = strawberry.field(
        description="Age of the node's oldest undelivered event, as last reported: its lag."
    )

    @strawberry.field(description="Commands waiting for the node to pull.")
    async def inbox_depth(self, info: strawberry.Info) -> int:
        return await loaders(info).inbox_depth.load(self.node)


@strawberry.input(description="The sender's outbox after this batch: its lag, for monitoring.")
class BacklogInput:
    pending_events: int
    oldest_pending_s: int


@strawberry.type(description="A command waiting in a node's inbox.")
class InboxItem:
    cursor: int = strawberry.field(
        description="Its place in the node's delivery order (1, 2, 3, ...): acknowledge up to "
        "this to remove it and everything before it."
    )
    envelope: JSONDocument


INBOX_READERS = (Scope.NODE_FEDERATE, Scope.NODE_INBOX)
guard_fields(InboxItem, *INBOX_READERS)
guard_fields(IngestResult, Scope.NODE_FEDERATE)
guard_fields(NodeStreamStatus, Scope.MALL_ADMIN, Scope.MALL_REPORTS)

# Only the batch itself is refused as a problem (unreadable, or an event whose claim the
# hub does not believe: intake's RefusedEvent). A use case failing inside intake is not
# an answer about the batch: it stays an error, and the node delivers the batch again.
IngestEventsResult = Annotated[
    IngestResult | NotANode | InvalidBatch, strawberry.union("IngestEventsResult")
]


def _while_suspended(
    items: list[dict[str, object]], since: dt.datetime | None
) -> list[dict[str, object]]:
    """What a suspended shop's node (``node:inbox``) receives: its commands in order, up
    to the first introduction of a shopper (her phone) queued since the suspension. That
    one, and all after it, wait for the shop's reactivation (numbered already, they come
    first then): a suspended shop learns no new shopper's phone."""
    if since is None:
        return items
    for at, item in enumerate(items):
        queued = dt.datetime.fromisoformat(str(item["occurred_at"]))
        if item["type"] == EventType.ENROL_MEMBER.value and queued >= since:
            return items[:at]
    return items


@strawberry.type
class FederationQuery:
    @strawberry.field(
        extensions=requires(*INBOX_READERS),
        description="The calling node's commands after its acknowledged cursor, in the order "
        "they committed: a command committed after others were acknowledged comes after "
        "them, never skipped.",
    )
    async def inbox(self, info: strawberry.Info, limit: int = 100) -> list[InboxItem]:
        node, size = node_of(info), page_size(limit, hub_inbox.MAX_PULL, argument="limit")
        federating = Scope.NODE_FEDERATE in request_scopes(info)

        async def work(session: AsyncSession) -> list[dict[str, object]]:
            # A write: a pull numbers the commands it sees committed for the first time.
            items = await hub_inbox.pull(session, node, size)
            if federating:
                return items
            return _while_suspended(items, await registry.suspended_since(session, node))

        items = await write(info, work)
        return [InboxItem(cursor=int(str(e["seq"])), envelope=JSONDocument(e)) for e in items]

    @strawberry.field(
        extensions=requires(Scope.MALL_ADMIN, Scope.MALL_REPORTS),
        description="Each node's event stream: how far it has arrived, gaps, last contact.",
    )
    async def federation_status(self, info: strawberry.Info) -> list[NodeStreamStatus]:
        async with sessions(info)() as session:
            rows = await intake.streams(session)
        return [
            NodeStreamStatus(
                node=r.node,
                contiguous_seq=r.contiguous_seq,
                highest_seq=r.highest_seq,
                events=r.events,
                last_contact_at=r.last_contact_at,
                pending_events=r.pending_events,
                oldest_pending_s=r.oldest_pending_s,
            )
            for r in rows
        ]


@strawberry.type
class FederationMutation:
    @strawberry.mutation(
        extensions=requires(*INBOX_READERS),
        description="The calling node has applied its commands up to this cursor.",
    )
    async def ack_inbox(self, info: strawberry.Info, up_to: int) -> int:
        node = node_of(info)
        return await write(info, lambda session: hub_inbox.ack(session, node, up_to))

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="A node delivers a batch of events (at most 500): idempotent per event.",
    )
    async def ingest_events(
        self, info: strawberry.Info, events: JSONDocument, backlog: BacklogInput | None = None
    ) -> IngestEventsResult:
        user = info.context["request"].user
        if not isinstance(user, Principal) or user.shop is None:
            return NotANode.of("only a node's client delivers events")
        node = user.shop
        try:
            batch = parse_batch(json.dumps(events), node)
        except InvalidEnvelope as exc:
            return InvalidBatch.of(str(exc), "events")
        reported = (
            None
            if backlog is None
            else intake.Backlog(max(0, backlog.pending_events), max(0, backlog.oldest_pending_s))
        )
        key = network_key(info.context["state"].settings)

        async def work(session: AsyncSession) -> IngestResult:
            report = await intake.ingest(session, node, batch, reported, key=key)
            return IngestResult(
                accepted=len(report.accepted),
                duplicates=len(report.duplicates),
                conflicts=report.conflicts,
                acknowledged=[*report.accepted, *report.duplicates],
                contiguous_seq=report.contiguous_seq,
                highest_seq=report.highest_seq,
                gaps=report.gaps,
            )

        # Two deliveries of one batch at once collide on the event ids; the retry sees the
        # winner's rows and answers with duplicates. Deadlocks with holds are retried too.
        # An event the hub does not believe refuses the batch (InvalidBatch), nothing kept.
        return await run(info, work, attempts=3)
