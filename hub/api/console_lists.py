"""The mall console's paged tables over GraphQL: shops and mall users (``mall:admin``),
partnership offers with their opt-ins and the map of who refers to whom (``mall:admin``
or ``mall:reports``). Pages are numbered (``first`` rows after ``offset``, with the
total); a bad page is an ``InvalidInput``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.common import read
from hub.api.partnerships import PartnerOffer
from hub.api.problems import InvalidInput
from hub.api.registry import Shop
from hub.api.staff import StaffAccount
from hub.services import console_lists
from mallnet.authz import guard_fields, requires
from mallnet.scopes import Scope

READERS = (Scope.MALL_ADMIN, Scope.MALL_REPORTS)
FIRST = strawberry.argument(description=f"Rows of the page: 1-{console_lists.MAX_PAGE}.")


@strawberry.type(description="A page of the shops registry.")
class ShopPage:
    items: list[Shop]
    total: int


@strawberry.type(description="An origin shop's agreement to refer its customers to an offer.")
class PartnerOptIn:
    origin_shop: str
    opted_in_at: dt.datetime
    withdrawn_at: dt.datetime | None


@strawberry.type(description="An offer, its opt-ins and the shoppers it introduced.")
class PartnerOfferRow:
    offer: PartnerOffer
    opt_ins: list[PartnerOptIn]
    referrals: int


@strawberry.type(description="A page of partnership offers, newest first.")
class PartnerOfferPage:
    items: list[PartnerOfferRow]
    total: int


@strawberry.type(description="Origin shop refers its customers to host shop.")
class ReferralLink:
    origin_shop: str
    host_shop: str
    active: bool = strawberry.field(description="An opt-in between them stands now.")
    referrals: int = strawberry.field(description="Shoppers introduced this way, ever.")


@strawberry.type(description="A page of the mall's users, by username.")
class MallUserPage:
    items: list[StaffAccount]
    total: int


guard_fields(ShopPage, Scope.MALL_ADMIN)
guard_fields(MallUserPage, Scope.MALL_ADMIN)
for _type in (PartnerOptIn, PartnerOfferRow, PartnerOfferPage, ReferralLink):
    guard_fields(_type, *READERS)

ShopPageResult = Annotated[ShopPage | InvalidInput, strawberry.union("ShopPageResult")]
OfferPageResult = Annotated[
    PartnerOfferPage | InvalidInput, strawberry.union("PartnerOfferPageResult")
]
MallUserPageResult = Annotated[MallUserPage | InvalidInput, strawberry.union("MallUserPageResult")]


@strawberry.type
class ConsoleListQuery:
    @strawberry.field(
        extensions=requires(Scope.MALL_ADMIN),
        description="The shops registry a page at a time, by slug; search in slug and names.",
    )
    async def shop_page(
        self,
        info: strawberry.Info,
        first: Annotated[int, FIRST] = 20,
        offset: int = 0,
        search: str | None = None,
    ) -> ShopPageResult:
        async def work(session: AsyncSession) -> ShopPage:
            page = await console_lists.shops(session, first, offset, search)
            return ShopPage(items=[Shop.of(row) for row in page.items], total=page.total)

        return await read(info, work)

    @strawberry.field(
        extensions=requires(*READERS),
        description="Partnership offers a page at a time, newest first, with their opt-ins.",
    )
    async def partner_offer_page(
        self,
        info: strawberry.Info,
        first: Annotated[int, FIRST] = 20,
        offset: int = 0,
        status: str | None = None,
    ) -> OfferPageResult:
        async def work(session: AsyncSession) -> PartnerOfferPage:
            page = await console_lists.offers(session, first, offset, status)
            return PartnerOfferPage(
                items=[
                    PartnerOfferRow(
                        offer=PartnerOffer.of(row.offer),
                        opt_ins=[PartnerOptIn(**vars(o)) for o in row.opt_ins],
                        referrals=row.referrals,
                    )
                    for row in page.items
                ],
                total=page.total,
            )

        return await read(info, work)

    @strawberry.field(
        extensions=requires(*READERS),
        description=f"Who refers to whom: each origin → host pair of an opt-in (at most "
        f"{console_lists.MAX_LINKS}, the busiest), with the shoppers introduced.",
    )
    async def referral_map(self, info: strawberry.Info) -> list[ReferralLink]:
        async def work(session: AsyncSession) -> list[ReferralLink]:
            return [
                ReferralLink(**vars(link)) for link in await console_lists.referral_map(session)
            ]

        result: list[ReferralLink] = await read(info, work)
        return result

    @strawberry.field(
        extensions=requires(Scope.MALL_ADMIN),
        description="The mall's users (accounts of no shop) a page at a time, by username.",
    )
    async def mall_user_page(
        self, info: strawberry.Info, first: Annotated[int, FIRST] = 20, offset: int = 0
    ) -> MallUserPageResult:
        async def work(session: AsyncSession) -> MallUserPage:
            page = await console_lists.mall_users(session, first, offset)
            return MallUserPage(items=[StaffAccount.of(a) for a in page.items], total=page.total)

        return await read(info, work)
