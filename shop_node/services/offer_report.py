"""How shoppers answered an offer, from the node's own purchases.

A one-time offer against its control group: the members granted it and the members held
back were chosen alike (a keyed hash, before anyone bought anything), so what the granted
did beyond the held back over the same window is what the offer caused. For each group:
members, purchases and sales per member; the difference with a 95% confidence interval
(Welch: the groups' variances apart, normal approximation); the redemption rate; and the
cost of each incremental toman. A permanent offer: its uses and cost per Tehran day.

Figures are integers or Decimals; no float touches them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.sql_days import as_date, tehran_day_of
from shop_node.db.models import Offer, OfferGrant, OfferReward, Purchase
from shop_node.domain.errors import OfferNotChangeable
from shop_node.services.runtime import NodeRuntime

Z_95 = Decimal("1.96")
PLACES = Decimal("0.01")


@dataclass(frozen=True)
class GroupFigures:
    members: int
    buyers: int  # members who bought in the window
    purchases: int
    sales_rial: int
    # per member, to two places
    sales_per_member_rial: Decimal
    purchases_per_member: Decimal
    sales_variance: Decimal
    purchases_variance: Decimal


@dataclass(frozen=True)
class Difference:
    """Granted minus control, per member, and its 95% confidence interval."""

    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class OneTimeReport:
    window_start: dt.datetime
    window_end: dt.datetime
    granted: GroupFigures
    control: GroupFigures
    redeemed: int
    redemption_rate: Decimal | None
    sales_lift: Difference | None
    visits_lift: Difference | None
    cost_rial: int
    cost_per_incremental_rial: Decimal | None


@dataclass(frozen=True)
class DayUse:
    day: dt.date
    uses: int
    given_rial: int
    bonus_points: int


def _mean(values: Sequence[int]) -> Decimal:
    return Decimal(sum(values)) / len(values) if values else Decimal(0)


def _variance(values: Sequence[int]) -> Decimal:
    """The sample variance (n − 1); zero for fewer than two."""
    if len(values) < 2:
        return Decimal(0)
    mean = _mean(values)
    return sum(((Decimal(v) - mean) ** 2 for v in values), Decimal(0)) / (len(values) - 1)


def _figures(per_member: dict[int, tuple[int, int]], members: Sequence[int]) -> GroupFigures:
    sales = [per_member.get(m, (0, 0))[1] for m in members]
    visits = [per_member.get(m, (0, 0))[0] for m in members]
    return GroupFigures(
        members=len(members),
        buyers=sum(1 for v in visits if v),
        purchases=sum(visits),
        sales_rial=sum(sales),
        sales_per_member_rial=_mean(sales).quantize(PLACES),
        purchases_per_member=_mean(visits).quantize(PLACES),
        sales_variance=_variance(sales),
        purchases_variance=_variance(visits),
    )


def _lift(
    a_mean: Decimal, a_var: Decimal, a_n: int, b_mean: Decimal, b_var: Decimal, b_n: int
) -> Difference | None:
    if a_n < 2 or b_n < 2:
        return None
    spread = Z_95 * (a_var / a_n + b_var / b_n).sqrt()
    value = a_mean - b_mean
    return Difference(
        value.quantize(PLACES), (value - spread).quantize(PLACES), (value + spread).quantize(PLACES)
    )


async def one_time_report(runtime: NodeRuntime, offer_id: str) -> OneTimeReport:
    """The one-time offer's granted members against its control group, over the window from
    its launch to its deadline (or now, if sooner)."""

    async def work(session: AsyncSession) -> OneTimeReport:
        offer = await session.get(Offer, offer_id)
        if offer is None or offer.kind != "one_time" or offer.activated_at is None:
            raise OfferNotChangeable(f"offer {offer_id} is no launched one-time offer")
        grants = list(
            await session.execute(
                select(
                    OfferGrant.member_id,
                    OfferGrant.control,
                    OfferGrant.used_purchase_id,
                    OfferGrant.expires_at,
                ).where(OfferGrant.offer_id == offer_id)
            )
        )
        start = offer.activated_at
        deadline = max((g.expires_at for g in grants), default=start)
        end = min(deadline, runtime.clock())
        members = [g.member_id for g in grants]
        per_member: dict[int, tuple[int, int]] = {}
        for first in range(0, len(members), 500):
            batch = members[first : first + 500]
            for member_id, count, sales in await session.execute(
                select(
                    Purchase.member_id,
                    func.count(Purchase.id),
                    func.coalesce(func.sum(Purchase.total_rial), 0),
                )
                .where(
                    Purchase.member_id.in_(batch),
                    Purchase.occurred_at >= start,
                    Purchase.occurred_at < end,
                )
                .group_by(Purchase.member_id)
            ):
                per_member[member_id] = (int(count), int(sales))
        granted = _figures(per_member, [g.member_id for g in grants if not g.control])
        control = _figures(per_member, [g.member_id for g in grants if g.control])
        redeemed = sum(1 for g in grants if not g.control and g.used_purchase_id is not None)
        cost = int(
            await session.scalar(
                select(
                    func.coalesce(func.sum(OfferReward.discount_rial + OfferReward.credit_rial), 0)
                ).where(OfferReward.offer_id == offer_id)
            )
            or 0
        )
        sales_lift = _lift(
            granted.sales_per_member_rial,
            granted.sales_variance,
            granted.members,
            control.sales_per_member_rial,
            control.sales_variance,
            control.members,
        )
        visits_lift = _lift(
            granted.purchases_per_member,
            granted.purchases_variance,
            granted.members,
            control.purchases_per_member,
            control.purchases_variance,
            control.members,
        )
        incremental = None if sales_lift is None else sales_lift.value * granted.members
        per_incremental = (
            (Decimal(cost) / incremental).quantize(Decimal("0.0001"))
            if incremental is not None and incremental > 0
            else None
        )
        rate = (
            (Decimal(redeemed) / granted.members).quantize(Decimal("0.0001"))
            if granted.members
            else None
        )
        return OneTimeReport(
            start,
            end,
            granted,
            control,
            redeemed,
            rate,
            sales_lift,
            visits_lift,
            cost,
            per_incremental,
        )

    return await runtime.read(work)


async def daily_uses(runtime: NodeRuntime, offer_id: str, days: int = 30) -> list[DayUse]:
    """A permanent (or any) offer's uses, what it gave in Rial, and its bonus points, per
    Tehran day over the last ``days`` days (days without a use left out)."""

    async def work(session: AsyncSession) -> list[DayUse]:
        since = runtime.clock() - dt.timedelta(days=days)
        dialect = (await session.connection()).dialect.name
        day = tehran_day_of(dialect, OfferReward.created_at).label("day")
        rows = await session.execute(
            select(
                day,
                func.count(OfferReward.id),
                func.coalesce(func.sum(OfferReward.discount_rial + OfferReward.credit_rial), 0),
                func.coalesce(func.sum(OfferReward.bonus_points), 0),
            )
            .where(OfferReward.offer_id == offer_id, OfferReward.created_at >= since)
            .group_by(day)
            .order_by(day)
        )
        found: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
        for when, uses, given, points in rows:
            found[as_date(when)] = [int(uses), int(given), int(points)]
        return [DayUse(d, *v) for d, v in sorted(found.items())]

    return await runtime.read(work)
