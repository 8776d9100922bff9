"""Network value for mall management: who owes what is outstanding (by issuing shop and
kind), and what expires day by day in the coming Tehran days. Only live lots count
(something remaining, not yet expired); held value is still outstanding. Every figure is
summed by the database, bounded (at most MAX_ISSUERS shops, at most MAX_DAYS days)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import ValueLot
from hub.domain.value_rules import GENERAL, POOLED, TARGETED
from mallnet.jalali import tehran_date
from mallnet.sql_days import as_date, start_of_tehran_day, tehran_day_of

MAX_ISSUERS = 200
MAX_DAYS = 90


@dataclass(frozen=True)
class Outstanding:
    pooled_points: int = 0
    pooled_points_rial: int = 0
    general_credit_rial: int = 0
    targeted_credit_rial: int = 0

    @property
    def total_rial(self) -> int:
        return self.pooled_points_rial + self.general_credit_rial + self.targeted_credit_rial


@dataclass(frozen=True)
class IssuerOutstanding:
    shop: str
    outstanding: Outstanding


@dataclass(frozen=True)
class ExpiryDay:
    day: dt.date
    outstanding: Outstanding


def _outstanding(kinds: dict[str, tuple[int, int]]) -> Outstanding:
    """``kinds``: kind -> (units remaining, their worth in Rial)."""
    return Outstanding(
        pooled_points=kinds.get(POOLED, (0, 0))[0],
        pooled_points_rial=kinds.get(POOLED, (0, 0))[1],
        general_credit_rial=kinds.get(GENERAL, (0, 0))[1],
        targeted_credit_rial=kinds.get(TARGETED, (0, 0))[1],
    )


_UNITS = func.sum(ValueLot.remaining)
_WORTH = func.sum(ValueLot.remaining * ValueLot.rial_per_point)


async def by_issuer(session: AsyncSession, now: dt.datetime) -> list[IssuerOutstanding]:
    """What each issuing shop's value still outstanding is worth, the largest first."""
    rows = await session.execute(
        select(ValueLot.issuer_shop, ValueLot.kind, _UNITS, _WORTH)
        .where(ValueLot.remaining > 0, ValueLot.expires_at > now)
        .group_by(ValueLot.issuer_shop, ValueLot.kind)
        .limit(MAX_ISSUERS * 3)
    )
    shops: dict[str, dict[str, tuple[int, int]]] = {}
    for shop, kind, units, worth in rows:
        shops.setdefault(shop, {})[kind] = (int(units or 0), int(worth or 0))
    found = [IssuerOutstanding(shop, _outstanding(kinds)) for shop, kinds in shops.items()]
    found.sort(key=lambda i: (-i.outstanding.total_rial, i.shop))
    return found[:MAX_ISSUERS]


async def expiring(session: AsyncSession, now: dt.datetime, days: int) -> list[ExpiryDay]:
    """What expires on each of the next ``days`` Tehran days (today included), unless spent
    first; days with nothing expiring are left out."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}")
    last = tehran_date(now) + dt.timedelta(days=days - 1)
    dialect = (await session.connection()).dialect.name
    day = tehran_day_of(dialect, ValueLot.expires_at).label("day")
    rows = await session.execute(
        select(day, ValueLot.kind, _UNITS, _WORTH)
        .where(
            ValueLot.remaining > 0,
            ValueLot.expires_at > now,
            ValueLot.expires_at < start_of_tehran_day(last + dt.timedelta(days=1)),
        )
        .group_by(day, ValueLot.kind)
    )
    per_day: dict[dt.date, dict[str, tuple[int, int]]] = {}
    for when, kind, units, worth in rows:
        per_day.setdefault(as_date(when), {})[kind] = (int(units or 0), int(worth or 0))
    return [ExpiryDay(d, _outstanding(per_day[d])) for d in sorted(per_day)]
