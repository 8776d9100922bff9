"""The dashboard's "Today": the shop's figures over the last 7, 30 or 90 Tehran days and
the period before, from the node's own purchases, members and refunds."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from mallnet.authz import guard_fields, requires
from mallnet.gql import Rial
from shop_node.api.access import STAFF, runtime
from shop_node.services import activity


@strawberry.enum(description="How many Tehran days the figures cover (today included).")
class ActivityRange(Enum):
    DAYS_7 = 7
    DAYS_30 = 30
    DAYS_90 = 90


@strawberry.type(description="The shop's figures over a day or a period.")
class ActivityFigures:
    sales_rial: Rial = strawberry.field(description="Purchase totals, before refunds.")
    purchases: int
    new_members: int = strawberry.field(description="Members who joined.")
    returning_members: int = strawberry.field(
        description="Distinct members whose purchase was not their first visit."
    )
    credit_issued_rial: Rial = strawberry.field(description="Credit members earned.")
    credit_spent_rial: Rial = strawberry.field(description="Credit paying for purchases.")
    network_value_rial: Rial = strawberry.field(
        description="Pooled points and network credit paying at this shop."
    )
    refunded_rial: Rial = strawberry.field(description="Refunds, on the day refunded.")

    @classmethod
    def of(cls, figures: activity.Figures) -> ActivityFigures:
        return cls(
            sales_rial=Rial(figures.sales_rial),
            purchases=figures.purchases,
            new_members=figures.new_members,
            returning_members=figures.returning_members,
            credit_issued_rial=Rial(figures.credit_issued_rial),
            credit_spent_rial=Rial(figures.credit_spent_rial),
            network_value_rial=Rial(figures.network_value_rial),
            refunded_rial=Rial(figures.refunded_rial),
        )


@strawberry.type(description="One Tehran day's figures.")
class ActivityDay:
    day: dt.date
    figures: ActivityFigures


@strawberry.type(description="A run of Tehran days: the totals and each day.")
class ActivityPeriod:
    first_day: dt.date
    last_day: dt.date
    totals: ActivityFigures
    days: list[ActivityDay]

    @classmethod
    def of(cls, period: activity.Period) -> ActivityPeriod:
        return cls(
            first_day=period.first_day,
            last_day=period.last_day,
            totals=ActivityFigures.of(period.totals),
            days=[
                ActivityDay(day=d.day, figures=ActivityFigures.of(d.figures)) for d in period.days
            ],
        )


@strawberry.type(description="The shop's figures now and in the period before, as long.")
class ShopActivity:
    current: ActivityPeriod
    previous: ActivityPeriod


for _type in (ActivityFigures, ActivityDay, ActivityPeriod, ShopActivity):
    guard_fields(_type, *STAFF)


@strawberry.type
class ActivityQuery:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="Sales, purchases, members, credit and network value over the last 7, 30 "
        "or 90 Tehran days (today included), each day and in total, with the period before.",
    )
    async def shop_activity(
        self, info: strawberry.Info, range: ActivityRange = ActivityRange.DAYS_7
    ) -> ShopActivity:
        node = runtime(info)
        found = await node.read(lambda s: activity.activity(s, range.value, node.clock()))
        return ShopActivity(
            current=ActivityPeriod.of(found.current), previous=ActivityPeriod.of(found.previous)
        )
