"""Network value for the console: the value outstanding by issuing shop and what expires
in the coming days (mall management and its finance and reports roles)."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.api.common import sessions
from hub.services.value import report
from mallnet.authz import guard_fields, requires
from mallnet.db import utcnow
from mallnet.gql import Points, Rial
from mallnet.scopes import Scope

READERS = (Scope.MALL_ADMIN, Scope.MALL_REPORTS)


@strawberry.type(description="Network value not yet spent nor expired, by kind.")
class ValueOutstanding:
    pooled_points: Points
    pooled_points_rial: Rial = strawberry.field(description="At each lot's own point value.")
    general_credit_rial: Rial
    targeted_credit_rial: Rial
    total_rial: Rial

    @classmethod
    def of(cls, found: report.Outstanding) -> ValueOutstanding:
        return cls(
            pooled_points=Points(found.pooled_points),
            pooled_points_rial=Rial(found.pooled_points_rial),
            general_credit_rial=Rial(found.general_credit_rial),
            targeted_credit_rial=Rial(found.targeted_credit_rial),
            total_rial=Rial(found.total_rial),
        )


@strawberry.type(description="What one shop issued that is still outstanding.")
class IssuerValue:
    shop: str
    outstanding: ValueOutstanding


@strawberry.type(description="What expires on one Tehran day unless spent first.")
class ExpiringDay:
    day: dt.date
    outstanding: ValueOutstanding


@strawberry.type(description="The network's outstanding value: by issuer, and expiries ahead.")
class NetworkValueReport:
    by_issuer: list[IssuerValue] = strawberry.field(description="At most 200, largest first.")
    expiring: list[ExpiringDay] = strawberry.field(description="Days with expiries, in order.")


for _type in (ValueOutstanding, IssuerValue, ExpiringDay, NetworkValueReport):
    guard_fields(_type, *READERS)


@strawberry.type
class ValueReportQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="Outstanding network value by issuing shop, and what expires on each of "
        "the next 1-90 Tehran days (today included).",
    )
    async def network_value_report(
        self, info: strawberry.Info, days: int = 30
    ) -> NetworkValueReport:
        days = max(1, min(days, report.MAX_DAYS))
        now = utcnow()
        async with sessions(info)() as session:
            issuers = await report.by_issuer(session, now)
            ahead = await report.expiring(session, now, days)
        return NetworkValueReport(
            by_issuer=[
                IssuerValue(shop=i.shop, outstanding=ValueOutstanding.of(i.outstanding))
                for i in issuers
            ],
            expiring=[
                ExpiringDay(day=e.day, outstanding=ValueOutstanding.of(e.outstanding))
                for e in ahead
            ],
        )
