"""Mall management's overview over GraphQL (``mall:admin`` or ``mall:reports``): the
network's figures now and per Tehran day (``hub.services.overview``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.console_lists import read
from hub.api.problems import InvalidInput
from hub.services import overview
from mallnet.authz import guard_fields, requires
from mallnet.gql import Points, Rial
from mallnet.scopes import Scope

READERS = (Scope.MALL_ADMIN, Scope.MALL_REPORTS)


@strawberry.type(description="One Tehran day of the network.")
class OverviewDay:
    day: dt.date
    new_shoppers: int
    new_memberships: int
    cross_shop_enrolments: int = strawberry.field(
        description="Shoppers a partnership introduced to a partner shop that day."
    )
    redemptions: int = strawberry.field(description="Captures of network value that day.")
    redeemed_rial: Rial = strawberry.field(description="Their value, less that day's refunds.")


@strawberry.type(description="A shop and its node's health, as the hub last heard it.")
class ShopHealth:
    slug: str
    name_fa: str
    name_en: str
    status: str
    last_contact_at: dt.datetime | None = strawberry.field(
        description="When its node last delivered events; null if it never has."
    )
    pending_events: int = strawberry.field(description="The node's outbox depth, as reported.")
    oldest_pending_s: int = strawberry.field(description="Its lag: the oldest undelivered event.")
    inbox_depth: int = strawberry.field(description="Commands waiting for the node to pull.")


@strawberry.type(description="Network value not yet spent and not expired: the liability.")
class NetworkLiability:
    total_rial: Rial
    pooled_points: Points
    pooled_points_rial: Rial
    general_credit_rial: Rial
    targeted_credit_rial: Rial


@strawberry.type(description="The network now, and its last days.")
class MallOverview:
    days: int
    first_day: dt.date
    last_day: dt.date
    shops_active: int
    shops_suspended: int
    shoppers: int
    memberships: int
    cross_shop_enrolments: int
    liability: NetworkLiability
    series: list[OverviewDay] = strawberry.field(description="One entry per day, oldest first.")
    health: list[ShopHealth] = strawberry.field(
        description=f"At most {overview.MAX_HEALTH} shops, the most lagging first."
    )

    @classmethod
    def of(cls, found: overview.Overview) -> MallOverview:
        owed = found.liability
        return cls(
            days=found.days,
            first_day=found.first_day,
            last_day=found.last_day,
            shops_active=found.shops_active,
            shops_suspended=found.shops_suspended,
            shoppers=found.shoppers,
            memberships=found.memberships,
            cross_shop_enrolments=found.cross_shop_enrolments,
            liability=NetworkLiability(
                total_rial=Rial(owed.total_rial),
                pooled_points=Points(owed.pooled_points),
                pooled_points_rial=Rial(owed.pooled_points_rial),
                general_credit_rial=Rial(owed.general_credit_rial),
                targeted_credit_rial=Rial(owed.targeted_credit_rial),
            ),
            series=[
                OverviewDay(
                    day=d.day,
                    new_shoppers=d.new_shoppers,
                    new_memberships=d.new_memberships,
                    cross_shop_enrolments=d.cross_shop_enrolments,
                    redemptions=d.redemptions,
                    redeemed_rial=Rial(d.redeemed_rial),
                )
                for d in found.series
            ],
            health=[ShopHealth(**vars(h)) for h in found.health],
        )


for _type in (OverviewDay, ShopHealth, NetworkLiability, MallOverview):
    guard_fields(_type, *READERS)

MallOverviewResult = Annotated[MallOverview | InvalidInput, strawberry.union("MallOverviewResult")]


@strawberry.type
class OverviewQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description=f"The network's figures now and per day over the last 1-{overview.MAX_DAYS}"
        " Tehran days (today included): shops and their nodes' health, shoppers, "
        "memberships, the value outstanding, cross-shop enrolments, redemptions.",
    )
    async def mall_overview(self, info: strawberry.Info, days: int = 30) -> MallOverviewResult:
        async def work(session: AsyncSession) -> MallOverview:
            return MallOverview.of(await overview.overview(session, days))

        return await read(info, work)
