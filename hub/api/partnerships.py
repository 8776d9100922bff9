"""Partnerships over GraphQL: shop B's node offers to welcome customers of other shops,
the origin shops' nodes opt in to refer theirs (``node:federate``); mall management reads
every offer."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import node_of
from hub.api.common import run, sessions
from hub.api.problems import InvalidInput, NotEligible, NotFound
from hub.db import models
from hub.services import partnerships
from mallnet.authz import guard_fields, requires
from mallnet.gql import Points, Rial
from mallnet.scopes import Scope


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

PublishOfferResult = Annotated[
    PartnerOffer | InvalidInput, strawberry.union("PublishPartnerOfferResult")
]
OptInResult = Annotated[
    PartnerOffer | NotFound | NotEligible, strawberry.union("OptInToPartnerOfferResult")
]


@strawberry.type
class PartnershipQuery:
    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE, Scope.MALL_ADMIN, Scope.MALL_REPORTS),
        description="Every partnership offer of the network (mall management sees all).",
    )
    async def partner_offers(self, info: strawberry.Info) -> list[PartnerOffer]:
        async with sessions(info)() as session:
            return [PartnerOffer.of(row) for row in await partnerships.offers(session)]


@strawberry.type
class PartnershipMutation:
    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop offers to welcome customers of other shops.",
    )
    async def publish_partner_offer(
        self, info: strawberry.Info, input: PartnerOfferInput
    ) -> PublishOfferResult:
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

        async def work(session: AsyncSession) -> PartnerOffer:
            return PartnerOffer.of(await partnerships.publish_offer(session, host, data))

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop agrees to refer its customers to an offer.",
    )
    async def opt_in_to_partner_offer(self, info: strawberry.Info, offer_id: str) -> OptInResult:
        origin = node_of(info)

        async def work(session: AsyncSession) -> PartnerOffer:
            await partnerships.opt_in(session, origin, offer_id)
            offer = await session.get(models.PartnerOffer, offer_id)
            assert offer is not None
            return PartnerOffer.of(offer)

        return await run(info, work)
