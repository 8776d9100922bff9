"""The hub GraphQL schema (exported to ``graphql/hub.graphql``).

Resolvers parse, authorise (each field names its scopes), call one service and map the
result; expected failures come back as typed problems.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types.nodes import SelectedField

import mallnet
from federation.envelope import Envelope, InvalidEnvelope, parse_batch
from hub.api.campaigns import (
    CampaignMutation,
    CampaignQuery,
    ShopperLottery,
    shopper_lotteries,
)
from hub.api.common import (
    ANY_CLIENT,
    SHOP_READERS,
    HubProblem,
    node_of,
    problem,
    sessions,
)
from hub.api.loaders import loaders
from hub.api.settlement import SettlementMutation, SettlementQuery
from hub.api.value import (
    NetworkValueEntry,
    NetworkWallet,
    ValueMutation,
    ValueQuery,
    value_history,
    wallet,
)
from hub.db import models
from hub.services import inbox as hub_inbox
from hub.services import intake, partnerships, people, registry
from mallnet.auth import Principal
from mallnet.authz import guard_fields, public, requires
from mallnet.db import transaction
from mallnet.gql import JSONDocument, Points, Rial, ServerInfo, build_schema
from mallnet.phone import mask
from mallnet.scopes import Scope


@strawberry.type(description="A shop of the network.")
class Shop:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str | None
    unit: str | None
    node_url: str | None
    status: str = strawberry.field(description="active or suspended.")
    created_at: dt.datetime

    @classmethod
    def of(cls, row: models.Shop) -> Shop:
        return cls(
            slug=row.slug,
            name_fa=row.name_fa,
            name_en=row.name_en,
            category=row.category,
            floor=row.floor,
            unit=row.unit,
            node_url=row.node_url,
            status=row.status,
            created_at=row.created_at,
        )


@strawberry.type(description="A registered shop and its node's credentials, shown once.")
class ShopRegistered:
    shop: Shop
    client_id: str
    client_secret: str = strawberry.field(
        description="Store it in the node's configuration now: the hub keeps only a hash."
    )


@strawberry.type(description="Who the token speaks for.")
class Viewer:
    subject: str
    client_id: str
    scopes: list[str]
    shop: str | None


@strawberry.type(description="A shopper as the network knows them: a pseudonym.")
class NetworkShopper:
    pseudonym: str
    phone_masked: str | None = strawberry.field(
        description="Only for shoppers who signed in to the app; masked even then."
    )
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    # What ``me`` already read in its own session (one round of the database, not three).
    prefetched_wallet: strawberry.Private[NetworkWallet | None] = None
    prefetched_history: strawberry.Private[
        tuple[int, int | None, list[NetworkValueEntry]] | None
    ] = None

    @strawberry.field(description="Pooled points, network credit and club balances.")
    async def wallet(self, info: strawberry.Info) -> NetworkWallet:
        if self.prefetched_wallet is not None:
            return self.prefetched_wallet
        async with sessions(info)() as session:
            return await wallet(session, self.pseudonym)

    @strawberry.field(description="Every change of network value, newest first, with shops.")
    async def value_history(
        self, info: strawberry.Info, first: int = 50, before: int | None = None
    ) -> list[NetworkValueEntry]:
        if self.prefetched_history is not None and self.prefetched_history[:2] == (first, before):
            return self.prefetched_history[2]
        async with sessions(info)() as session:
            return await value_history(session, self.pseudonym, first, before)

    @strawberry.field(description="The lotteries this shopper has tickets in, and results.")
    async def lotteries(self, info: strawberry.Info) -> list[ShopperLottery]:
        async with sessions(info)() as session:
            return await shopper_lotteries(session, self.pseudonym)

    @strawberry.field(description="The shops whose clubs this shopper belongs to.")
    async def memberships(self, info: strawberry.Info) -> list[str]:
        return await loaders(info).memberships.load(self.pseudonym)

    @classmethod
    def of(cls, row: models.Shopper) -> NetworkShopper:
        return cls(
            pseudonym=row.pseudonym,
            phone_masked=None if row.phone is None else mask(row.phone),
            created_at=row.created_at,
            last_sign_in_at=row.last_sign_in_at,
        )


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
    cursor: int = strawberry.field(description="Acknowledge up to this to remove it.")
    envelope: JSONDocument


@strawberry.type(description="Shop B's offer to welcome customers of other shops.")
class PartnerOffer:
    id: str
    host_shop: str
    origin_shops: list[str]
    origin_category: str | None
    min_purchase_rial: Rial
    origin_groups: list[str]
    first_purchase_only: bool
    monthly_cap: int | None
    welcome_points: Points
    welcome_credit_rial: Rial
    status: str

    @classmethod
    def of(cls, row: models.PartnerOffer) -> PartnerOffer:
        return cls(
            id=row.id,
            host_shop=row.host_shop,
            origin_shops=list(row.origin_shops),
            origin_category=row.origin_category,
            min_purchase_rial=Rial(row.min_purchase_rial),
            origin_groups=list(row.origin_groups),
            first_purchase_only=row.first_purchase_only,
            monthly_cap=row.monthly_cap,
            welcome_points=Points(row.welcome_points),
            welcome_credit_rial=Rial(row.welcome_credit_rial),
            status=row.status,
        )


@strawberry.input
class PartnerOfferInput:
    origin_shops: list[str] = strawberry.field(default_factory=list)
    origin_category: str | None = None
    min_purchase_rial: Rial = Rial(0)
    origin_groups: list[str] = strawberry.field(default_factory=list)
    first_purchase_only: bool = False
    monthly_cap: int | None = None
    welcome_points: Points = Points(0)
    welcome_credit_rial: Rial = Rial(0)


guard_fields(PartnerOffer, Scope.NODE_FEDERATE, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
guard_fields(InboxItem, Scope.NODE_FEDERATE)
guard_fields(IngestResult, Scope.NODE_FEDERATE)
guard_fields(NodeStreamStatus, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
guard_fields(Shop, *SHOP_READERS)
guard_fields(NetworkShopper, Scope.SHOPPER_READ, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
guard_fields(ShopRegistered, Scope.MALL_ADMIN)
guard_fields(Viewer, *ANY_CLIENT)

IngestEventsResult = Annotated[IngestResult | HubProblem, strawberry.union("IngestEventsResult")]
PartnerOfferResult = Annotated[PartnerOffer | HubProblem, strawberry.union("PartnerOfferResult")]
RegisterShopResult = Annotated[ShopRegistered | HubProblem, strawberry.union("RegisterShopResult")]
ShopResult = Annotated[Shop | HubProblem, strawberry.union("ShopResult")]


@strawberry.input
class RegisterShopInput:
    slug: str
    name_fa: str
    name_en: str
    category: str = strawberry.field(description=", ".join(registry.CATEGORIES))
    floor: str | None = None
    unit: str | None = None
    node_url: str | None = None


@strawberry.type
class Query(ValueQuery, SettlementQuery, CampaignQuery):
    @strawberry.field(extensions=public(), description="Which server this is.")
    def server_info(self) -> ServerInfo:
        return ServerInfo(role="hub", version=mallnet.__version__, shop=None)

    @strawberry.field(extensions=requires(*ANY_CLIENT), description="The caller's identity.")
    def viewer(self, info: strawberry.Info) -> Viewer:
        user = info.context["request"].user
        assert isinstance(user, Principal)
        return Viewer(
            subject=user.subject,
            client_id=user.client_id,
            scopes=sorted(user.scopes),
            shop=user.shop,
        )

    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ),
        description="The signed-in shopper's own network identity, wallet and history.",
    )
    async def me(self, info: strawberry.Info) -> NetworkShopper | None:
        user = info.context["request"].user
        if not isinstance(user, Principal) or not user.subject.startswith("shopper:"):
            return None
        identity = user.subject.removeprefix("shopper:")
        wanted = {
            f.name: f for f in info.selected_fields[0].selections if isinstance(f, SelectedField)
        }
        async with sessions(info)() as session:
            row = await people.get_shopper(session, identity)
            if row is None:
                return None
            shopper = NetworkShopper.of(row)
            # The app asks for its wallet and history together: read them in this session
            # (the field resolvers would each open their own, concurrently).
            if "wallet" in wanted:
                shopper.prefetched_wallet = await wallet(session, identity)
            if "valueHistory" in wanted:
                args = wanted["valueHistory"].arguments
                first, before = int(args.get("first", 50)), args.get("before")
                history = await value_history(session, identity, first, before)
                shopper.prefetched_history = (first, before, history)
        return shopper

    @strawberry.field(
        extensions=requires(Scope.MALL_ADMIN, Scope.MALL_REPORTS),
        description="Shoppers of the network, pseudonymous, newest first.",
    )
    async def shoppers(self, info: strawberry.Info, first: int = 50) -> list[NetworkShopper]:
        async with sessions(info)() as session:
            rows = await people.list_shoppers(session, max(1, min(first, 200)))
        return [NetworkShopper.of(row) for row in rows]

    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE, Scope.MALL_ADMIN, Scope.MALL_REPORTS),
        description="Every partnership offer of the network (mall management sees all).",
    )
    async def partner_offers(self, info: strawberry.Info) -> list[PartnerOffer]:
        async with sessions(info)() as session:
            return [PartnerOffer.of(row) for row in await partnerships.offers(session)]

    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling node's commands after its acknowledged cursor, oldest first.",
    )
    async def inbox(self, info: strawberry.Info, limit: int = 100) -> list[InboxItem]:
        node = node_of(info)
        async with sessions(info)() as session:
            items = await hub_inbox.pull(session, node, limit)
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

    @strawberry.field(extensions=requires(*SHOP_READERS), description="The shops registry.")
    async def shops(self, info: strawberry.Info) -> list[Shop]:
        async with sessions(info)() as session:
            return [Shop.of(row) for row in await registry.list_shops(session)]


@strawberry.type
class Mutation(ValueMutation, SettlementMutation, CampaignMutation):
    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop offers to welcome customers of other shops.",
    )
    async def publish_partner_offer(
        self, info: strawberry.Info, input: PartnerOfferInput
    ) -> PartnerOfferResult:
        host = node_of(info)
        data = partnerships.OfferInput(
            origin_shops=input.origin_shops,
            origin_category=input.origin_category,
            min_purchase_rial=input.min_purchase_rial,
            origin_groups=input.origin_groups,
            first_purchase_only=input.first_purchase_only,
            monthly_cap=input.monthly_cap,
            welcome_points=input.welcome_points,
            welcome_credit_rial=input.welcome_credit_rial,
        )
        try:
            async with sessions(info)() as session, session.begin():
                return PartnerOffer.of(await partnerships.publish_offer(session, host, data))
        except partnerships.PartnershipError as exc:
            return problem(exc)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop agrees to refer its customers to an offer.",
    )
    async def opt_in_to_partner_offer(
        self, info: strawberry.Info, offer_id: str
    ) -> PartnerOfferResult:
        origin = node_of(info)
        try:
            async with sessions(info)() as session, session.begin():
                await partnerships.opt_in(session, origin, offer_id)
                offer = await session.get(models.PartnerOffer, offer_id)
                assert offer is not None
                return PartnerOffer.of(offer)
        except partnerships.PartnershipError as exc:
            return problem(exc)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling node has applied its commands up to this cursor.",
    )
    async def ack_inbox(self, info: strawberry.Info, up_to: int) -> int:
        node = node_of(info)
        async with sessions(info)() as session, session.begin():
            return await hub_inbox.ack(session, node, up_to)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="A node delivers a batch of events (at most 500): idempotent per event.",
    )
    async def ingest_events(
        self, info: strawberry.Info, events: JSONDocument, backlog: BacklogInput | None = None
    ) -> IngestEventsResult:
        user = info.context["request"].user
        if not isinstance(user, Principal) or user.shop is None:
            return HubProblem(
                code="NOT_A_NODE", message="only a node's client delivers events", field=None
            )
        try:
            batch = parse_batch(json.dumps(events), user.shop)
        except InvalidEnvelope as exc:
            return HubProblem(code="INVALID_BATCH", message=str(exc), field="events")
        reported = (
            None
            if backlog is None
            else intake.Backlog(max(0, backlog.pending_events), max(0, backlog.oldest_pending_s))
        )
        report = await _ingest(sessions(info), user.shop, batch, reported)
        return IngestResult(
            accepted=len(report.accepted),
            duplicates=len(report.duplicates),
            conflicts=report.conflicts,
            acknowledged=[*report.accepted, *report.duplicates],
            contiguous_seq=report.contiguous_seq,
            highest_seq=report.highest_seq,
            gaps=report.gaps,
        )

    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Register a shop; returns its node's client credentials once.",
    )
    async def register_shop(
        self, info: strawberry.Info, input: RegisterShopInput
    ) -> RegisterShopResult:
        data = registry.ShopInput(
            slug=input.slug,
            name_fa=input.name_fa,
            name_en=input.name_en,
            category=input.category,
            floor=input.floor,
            unit=input.unit,
            node_url=input.node_url,
        )
        try:
            async with sessions(info)() as session, session.begin():
                shop, credentials = await registry.register_shop(session, data)
        except registry.RegistryError as exc:
            return problem(exc)
        return ShopRegistered(
            shop=Shop.of(shop),
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
        )

    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Suspend a shop: its node gets no tokens and its tokens stop working.",
    )
    async def suspend_shop(self, info: strawberry.Info, slug: str) -> ShopResult:
        return await _set_status(info, slug, "suspended")

    @strawberry.mutation(extensions=requires(Scope.MALL_ADMIN), description="Undo a suspension.")
    async def reactivate_shop(self, info: strawberry.Info, slug: str) -> ShopResult:
        return await _set_status(info, slug, "active")


async def _ingest(
    sessions: async_sessionmaker[AsyncSession],
    node: str,
    batch: list[Envelope],
    backlog: intake.Backlog | None,
) -> intake.IngestReport:
    # Two deliveries of one batch at once collide on the event ids; the retry sees the
    # winner's rows and answers with duplicates. Deadlocks with holds are retried too.
    return await transaction(
        sessions, lambda session: intake.ingest(session, node, batch, backlog), attempts=3
    )


async def _set_status(info: strawberry.Info, slug: str, status: str) -> Shop | HubProblem:
    try:
        async with sessions(info)() as session, session.begin():
            return Shop.of(await registry.set_shop_status(session, slug, status))
    except registry.RegistryError as exc:
        return problem(exc)


schema = build_schema(Query, Mutation)
