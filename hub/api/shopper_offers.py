"""The signed-in shopper's offers over GraphQL (``me.offers``, issue 18): the one-time
offers her shops granted her and the live permanent offers of her shops' clubs, newest
first, a page at a time (``first`` after the ``endCursor`` of the page before)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.common import read
from hub.api.problems import InvalidInput
from hub.api.wallet import ShopRef
from hub.services import shopper_offers
from mallnet.authz import guard_fields
from mallnet.scopes import Scope


@strawberry.enum(description="How an offer reaches the shopper.")
class ShopperOfferKind(Enum):
    PERMANENT = "permanent"
    ONE_TIME = "one_time"


@strawberry.type(
    description="An offer for the signed-in shopper: a shop's permanent offer to all its "
    "members, or a one-time offer the shop granted her, usable once before it expires."
)
class ShopperOffer:
    id: strawberry.ID = strawberry.field(description="Stable within the list.")
    kind: ShopperOfferKind
    shop: ShopRef
    offer_id: str = strawberry.field(description="The shop's own id of the offer.")
    grant_id: str | None = strawberry.field(description="Her grant (one-time offers only).")
    name_fa: str
    name_en: str
    summary_fa: str = strawberry.field(description="What it gives, as one sentence.")
    summary_en: str
    expires_at: dt.datetime | None = strawberry.field(
        description="Her grant's deadline, or the permanent offer's end (null: none set)."
    )
    at: dt.datetime = strawberry.field(
        description="When it was granted to her, or first published: the list's order."
    )


@strawberry.type(description="A page of the shopper's offers, newest first.")
class ShopperOfferPage:
    items: list[ShopperOffer]
    has_more: bool = strawberry.field(description="More follow: ask with after = endCursor.")
    end_cursor: str | None = strawberry.field(description="The last item's place (opaque).")


ShopperOffersResult = Annotated[
    ShopperOfferPage | InvalidInput, strawberry.union("ShopperOffersResult")
]

for _type in (ShopperOffer, ShopperOfferPage):
    guard_fields(_type, Scope.SHOPPER_READ)


def _item(offer: shopper_offers.ShopperOffer) -> ShopperOffer:
    key = offer.grant_id if offer.grant_id is not None else offer.offer_id
    return ShopperOffer(
        id=strawberry.ID(f"{offer.kind}:{offer.shop}:{key}"),
        kind=ShopperOfferKind(offer.kind),
        shop=ShopRef(slug=offer.shop, name_fa=offer.shop_name_fa, name_en=offer.shop_name_en),
        offer_id=offer.offer_id,
        grant_id=offer.grant_id,
        name_fa=offer.name_fa,
        name_en=offer.name_en,
        summary_fa=offer.summary_fa,
        summary_en=offer.summary_en,
        expires_at=offer.until,
        at=offer.key.at,
    )


async def offers_page(
    info: strawberry.Info, pseudonym: str, first: int, after: str | None
) -> ShopperOffersResult:
    """A page of ``pseudonym``'s offers (the caller checked she is the one signed in)."""

    async def work(session: AsyncSession) -> ShopperOfferPage:
        page = await shopper_offers.offers_for(session, pseudonym, first, after)
        return ShopperOfferPage(
            items=[_item(o) for o in page.items], has_more=page.has_more, end_cursor=page.end_cursor
        )

    answer: ShopperOffersResult = await read(info, work)
    return answer
