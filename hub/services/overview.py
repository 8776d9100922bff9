"""Mall management's overview of the network, computed from the hub's own tables: the
shops and their nodes' health, shoppers, memberships, the network value outstanding (the
network's liability), cross-shop enrolments and redemptions, per Tehran day.

Every read is bounded: totals are aggregates, the day series covers at most ``MAX_DAYS``
days (one grouped statement per table, at most that many rows each), and the health list
at most ``MAX_HEALTH`` shops (the worst first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Membership, NodeStream, Referral, Shop, Shopper, ValueLot, ValueRedemption
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox
from mallnet.db import utcnow
from mallnet.jalali import tehran_date
from mallnet.sql_days import as_date, start_of_tehran_day, tehran_day_of

MAX_DAYS = 90
MAX_HEALTH = 200


class OverviewError(HubError):
    """An overview asked for with bad input (too many days)."""


@dataclass(frozen=True)
class Day:
    day: dt.date
    new_shoppers: int = 0
    new_memberships: int = 0
    cross_shop_enrolments: int = 0
    redemptions: int = 0
    redeemed_rial: int = 0


@dataclass(frozen=True)
class ShopHealth:
    slug: str
    name_fa: str
    name_en: str
    status: str
    last_contact_at: dt.datetime | None
    pending_events: int
    oldest_pending_s: int
    inbox_depth: int


@dataclass(frozen=True)
class Liability:
    """What the network owes its shoppers now, in Rial: unexpired value not yet spent
    (held value included: a hold may still be voided), and the pooled points behind it."""

    pooled_points: int
    pooled_points_rial: int
    general_credit_rial: int
    targeted_credit_rial: int

    @property
    def total_rial(self) -> int:
        return self.pooled_points_rial + self.general_credit_rial + self.targeted_credit_rial


@dataclass(frozen=True)
class Overview:
    days: int
    first_day: dt.date
    last_day: dt.date
    shops_active: int
    shops_suspended: int
    shoppers: int
    memberships: int
    cross_shop_enrolments: int
    liability: Liability
    series: list[Day]
    health: list[ShopHealth]


async def _count(session: AsyncSession, *columns: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(*columns)) or 0)


async def _liability(session: AsyncSession, now: dt.datetime) -> Liability:
    rows = await session.execute(
        select(
            ValueLot.kind,
            func.sum(ValueLot.remaining),
            func.sum(ValueLot.remaining * ValueLot.rial_per_point),
        )
        .where(ValueLot.remaining > 0, ValueLot.expires_at > now)
        .group_by(ValueLot.kind)
    )
    units: dict[str, int] = {}
    rial: dict[str, int] = {}
    for kind, remaining, worth in rows:
        units[kind], rial[kind] = int(remaining or 0), int(worth or 0)
    return Liability(
        pooled_points=units.get("pooled_points", 0),
        pooled_points_rial=rial.get("pooled_points", 0),
        general_credit_rial=rial.get("general_credit", 0),
        targeted_credit_rial=rial.get("targeted_credit", 0),
    )


async def _series(
    session: AsyncSession, first: dt.date, last: dt.date
) -> dict[dt.date, dict[str, int]]:
    start, end = start_of_tehran_day(first), start_of_tehran_day(last + dt.timedelta(days=1))
    dialect = (await session.connection()).dialect.name
    per_day: dict[dt.date, dict[str, int]] = {}

    async def add(column: Any, *figures: Any) -> None:
        day = tehran_day_of(dialect, column).label("day")
        statement = (
            select(day, *figures).where(column >= start, column < end).group_by(day).limit(400)
        )
        for row in await session.execute(statement):
            mapping = dict(row._mapping)
            per_day.setdefault(as_date(mapping.pop("day")), {}).update(
                {k: int(v or 0) for k, v in mapping.items()}
            )

    await add(Shopper.created_at, func.count().label("new_shoppers"))
    await add(Membership.joined_at, func.count().label("new_memberships"))
    await add(Referral.created_at, func.count().label("cross_shop_enrolments"))
    # A capture writes one line per lot it consumed (positive); a refund negative lines.
    await add(
        ValueRedemption.created_at,
        func.count(
            func.distinct(case((ValueRedemption.amount_rial > 0, ValueRedemption.hold_id)))
        ).label("redemptions"),
        func.sum(ValueRedemption.amount_rial).label("redeemed_rial"),
    )
    return per_day


async def _health(session: AsyncSession) -> list[ShopHealth]:
    # The shops whose nodes lag most first, then those never heard from, then by slug.
    lag = func.coalesce(NodeStream.oldest_pending_s, -1)
    rows = (
        await session.execute(
            select(Shop, NodeStream)
            .outerjoin(NodeStream, and_(NodeStream.node == Shop.slug))
            .order_by(lag.desc(), Shop.slug)
            .limit(MAX_HEALTH)
        )
    ).all()
    depths = await inbox.depths(session, [shop.slug for shop, _ in rows])
    return [
        ShopHealth(
            slug=shop.slug,
            name_fa=shop.name_fa,
            name_en=shop.name_en,
            status=shop.status,
            last_contact_at=None if stream is None else stream.last_contact_at,
            pending_events=0 if stream is None else stream.pending_events,
            oldest_pending_s=0 if stream is None else stream.oldest_pending_s,
            inbox_depth=depths[shop.slug],
        )
        for shop, stream in rows
    ]


def _days(found: dict[dt.date, dict[str, int]], first: dt.date, count: int) -> list[Day]:
    days = [first + dt.timedelta(days=n) for n in range(count)]
    return [Day(day, **found.get(day, {})) for day in days]


async def overview(session: AsyncSession, days: int, now: dt.datetime | None = None) -> Overview:
    """The network now, and its last ``days`` Tehran days (today included)."""
    if not 1 <= days <= MAX_DAYS:
        raise OverviewError(ProblemCode.INVALID_INPUT, f"between 1 and {MAX_DAYS} days", "days")
    now = now or utcnow()
    last = tehran_date(now)
    first = last - dt.timedelta(days=days - 1)
    statuses: Sequence[Any] = (
        await session.execute(select(Shop.status, func.count()).group_by(Shop.status))
    ).all()
    by_status = {status: int(count) for status, count in statuses}
    return Overview(
        days=days,
        first_day=first,
        last_day=last,
        shops_active=by_status.get("active", 0),
        shops_suspended=by_status.get("suspended", 0),
        shoppers=await _count(session, Shopper),
        memberships=await _count(session, Membership),
        cross_shop_enrolments=await _count(session, Referral),
        liability=await _liability(session, now),
        series=_days(await _series(session, first, last), first, days),
        health=await _health(session),
    )
