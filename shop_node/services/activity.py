"""What happened at the shop, day by day in Tehran: the dashboard's "Today" figures.

A window is the last N Tehran days ending today; the period before it has the same length,
so each figure compares with the one before. Every figure is summed by the database, one
statement per table, grouped by the Tehran day (bounded work: at most 2 × 90 rows back).

- sales: purchase totals (before refunds, which are their own figure, on the day refunded);
- purchases; new members (joined that day); returning members (distinct members whose
  purchase was not their first visit);
- credit issued (earned plus frequency credit) and spent (credit paying for purchases);
- network value received (pooled points and network credit paying at this till).

Days are Tehran days as mallnet.sql_days counts them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.db import utcnow
from mallnet.jalali import tehran_date
from mallnet.sql_days import as_date, start_of_tehran_day, tehran_day_of
from shop_node.db.models import Member, Purchase, Refund

RANGES = (7, 30, 90)


@dataclass(frozen=True)
class Figures:
    sales_rial: int = 0
    purchases: int = 0
    new_members: int = 0
    returning_members: int = 0
    credit_issued_rial: int = 0
    credit_spent_rial: int = 0
    network_value_rial: int = 0
    refunded_rial: int = 0


@dataclass(frozen=True)
class Day:
    day: dt.date
    figures: Figures


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date
    totals: Figures
    days: list[Day]


@dataclass(frozen=True)
class Activity:
    days: int
    current: Period
    previous: Period


async def activity(session: AsyncSession, days: int, now: dt.datetime | None = None) -> Activity:
    """The last ``days`` Tehran days (today included) and the ``days`` before them."""
    if days not in RANGES:
        raise ValueError(f"days must be one of {RANGES}")
    today = tehran_date(now or utcnow())
    first = today - dt.timedelta(days=2 * days - 1)
    start, end = start_of_tehran_day(first), start_of_tehran_day(today + dt.timedelta(days=1))
    per_day: dict[dt.date, dict[str, int]] = {}

    dialect = (await session.connection()).dialect.name

    async def add(moment: Any, *sums: Any) -> None:
        """``sums`` of the rows whose ``moment`` falls in the window, per Tehran day."""
        day = tehran_day_of(dialect, moment).label("day")
        statement = select(day, *sums).where(moment >= start, moment < end).group_by(day)
        for row in (await session.execute(statement)).all():
            mapping = dict(row._mapping)
            per_day.setdefault(as_date(mapping.pop("day")), {}).update(
                {k: int(v or 0) for k, v in mapping.items()}
            )

    await add(
        Purchase.occurred_at,
        func.sum(Purchase.total_rial).label("sales_rial"),
        func.count().label("purchases"),
        func.count(func.distinct(case((Purchase.visit_number > 1, Purchase.member_id)))).label(
            "returning_members"
        ),
        func.sum(Purchase.earned_credit_rial + Purchase.frequency_credit_rial).label(
            "credit_issued_rial"
        ),
        func.sum(Purchase.credit_spent_rial).label("credit_spent_rial"),
        func.sum(Purchase.network_paid_rial).label("network_value_rial"),
    )
    await add(Member.joined_at, func.count().label("new_members"))
    await add(Refund.created_at, func.sum(Refund.amount_rial).label("refunded_rial"))

    async def period(first_day: dt.date) -> Period:
        last_day = first_day + dt.timedelta(days=days - 1)
        series = [
            Day(day, Figures(**per_day.get(day, {})))
            for day in (first_day + dt.timedelta(days=n) for n in range(days))
        ]
        totals = {f.name: sum(getattr(d.figures, f.name) for d in series) for f in fields(Figures)}
        # A member returning on two days is one returning member of the period.
        totals["returning_members"] = int(
            await session.scalar(
                select(cast(func.count(func.distinct(Purchase.member_id)), Integer)).where(
                    Purchase.visit_number > 1,
                    Purchase.occurred_at >= start_of_tehran_day(first_day),
                    Purchase.occurred_at < start_of_tehran_day(last_day + dt.timedelta(days=1)),
                )
            )
            or 0
        )
        return Period(first_day, last_day, Figures(**totals), series)

    previous = await period(first)
    current = await period(first + dt.timedelta(days=days))
    return Activity(days=days, current=current, previous=previous)
