"""What a joint campaign did: participants, rewards and cost, and sales at the shops that
accepted it against the same weekdays of the ``BASELINE_WEEKS`` weeks before — as totals
over its days, and per Tehran day for its days so far (at most ``MAX_SERIES_DAYS``, the
latest).

Sales come from ``shop_sales_days`` (already one row per shop and Tehran day); rewards and
their cost are grouped in SQL by the Tehran day of the purchase that earned them (the
reward's lot is issued at the purchase's time, so a purchase relayed late still lands on
the day it was made, as its sales do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Campaign, CampaignReward, ShopSalesDay, ValueLot
from hub.services.campaigns import accepted, get
from mallnet.db import utcnow
from mallnet.jalali import tehran_date
from mallnet.sql_days import as_date, start_of_tehran_day, tehran_day_of

BASELINE_WEEKS = 4
MAX_SERIES_DAYS = 92


@dataclass(frozen=True)
class ReportDay:
    day: dt.date  # a Tehran day
    sales_rial: int  # at the shops that accepted
    baseline_rial: int  # the same weekday of the weeks before, averaged (cut down)
    rewards: int
    cost_rial: int


@dataclass(frozen=True)
class Report:
    participants: int
    rewards: int
    cost_rial: int
    sales_rial: int
    baseline_rial: int  # the same weekdays in the weeks before, averaged
    days: Sequence[ReportDay] = ()  # its days so far, oldest first

    @property
    def incremental_rial(self) -> int:
        return self.sales_rial - self.baseline_rial

    @property
    def cost_per_incremental_rial(self) -> Decimal | None:
        if self.incremental_rial <= 0:
            return None
        return (Decimal(self.cost_rial) / Decimal(self.incremental_rial)).quantize(
            Decimal("0.0001")
        )


def _days(campaign: Campaign) -> list[dt.date]:
    first = tehran_date(campaign.starts_at)
    last = tehran_date(campaign.ends_at - dt.timedelta(microseconds=1))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _baseline_shift(days: Sequence[dt.date]) -> dt.timedelta:
    """How far back the first baseline week lies: the whole window moved back by whole
    weeks, at least its own length, so a long campaign is never its own baseline (the
    k-th baseline week is k times this)."""
    return dt.timedelta(weeks=-(-len(days) // 7))  # weeks, rounded up


async def report(session: AsyncSession, campaign_id: str, now: dt.datetime | None = None) -> Report:
    """Participants, cost, and sales at the participating shops during the campaign against
    the same weekdays of the ``BASELINE_WEEKS`` weeks before; and the same per day."""
    campaign = await get(session, campaign_id)
    shops = await accepted(session, campaign.id)
    days = _days(campaign)
    shift = _baseline_shift(days)

    async def sales_on(on: Sequence[dt.date]) -> int:
        total = await session.scalar(
            select(func.coalesce(func.sum(ShopSalesDay.sales_rial), 0)).where(
                ShopSalesDay.shop.in_(shops), ShopSalesDay.day.in_(list(on))
            )
        )
        return int(total or 0)

    baseline = 0
    for k in range(1, BASELINE_WEEKS + 1):
        baseline += await sales_on([d - shift * k for d in days])
    counts = await session.execute(
        select(
            func.count(func.distinct(CampaignReward.pseudonym)), func.count(CampaignReward.id)
        ).where(CampaignReward.campaign_id == campaign.id)
    )
    participants, rewards = counts.one()
    return Report(
        participants=int(participants or 0),
        rewards=int(rewards or 0),
        cost_rial=campaign.spent_rial,
        sales_rial=await sales_on(days),
        baseline_rial=baseline // BASELINE_WEEKS,
        days=await _series(session, campaign, shops, days, now or utcnow()),
    )


async def _series(
    session: AsyncSession,
    campaign: Campaign,
    shops: Sequence[str],
    days: Sequence[dt.date],
    now: dt.datetime,
) -> list[ReportDay]:
    """The campaign's days up to today (Tehran), the latest ``MAX_SERIES_DAYS``: one
    grouped statement for sales (the days and their baseline weeks), one for rewards."""
    if now < campaign.starts_at:
        return []
    today = tehran_date(now)
    shown = [d for d in days if d <= today][-MAX_SERIES_DAYS:]
    first, last = shown[0], shown[-1]
    shift = _baseline_shift(days)
    sales = await _sales_by_day(
        session, shops, [(first - shift * k, last - shift * k) for k in range(BASELINE_WEEKS + 1)]
    )
    given = await _rewards_by_day(session, campaign.id, first, last)
    return [
        ReportDay(
            day=d,
            sales_rial=sales.get(d, 0),
            baseline_rial=sum(sales.get(d - shift * k, 0) for k in range(1, BASELINE_WEEKS + 1))
            // BASELINE_WEEKS,
            rewards=given.get(d, (0, 0))[0],
            cost_rial=given.get(d, (0, 0))[1],
        )
        for d in shown
    ]


async def _sales_by_day(
    session: AsyncSession, shops: Sequence[str], ranges: Sequence[tuple[dt.date, dt.date]]
) -> dict[dt.date, int]:
    """The shops' sales per day over the (disjoint) ranges of days, both ends included."""
    if not shops:
        return {}
    day = ShopSalesDay.day
    rows = await session.execute(
        select(day, func.sum(ShopSalesDay.sales_rial))
        .where(
            ShopSalesDay.shop.in_(list(shops)),
            or_(*(and_(day >= start, day <= end) for start, end in ranges)),
        )
        .group_by(day)
    )
    return {as_date(d): int(total or 0) for d, total in rows.all()}


async def _rewards_by_day(
    session: AsyncSession, campaign_id: str, first: dt.date, last: dt.date
) -> dict[dt.date, tuple[int, int]]:
    """Rewards given and their cost per Tehran day of the purchase that earned them."""
    dialect = (await session.connection()).dialect.name
    at = func.coalesce(ValueLot.created_at, CampaignReward.created_at)
    day = tehran_day_of(dialect, at).label("day")
    rows = await session.execute(
        select(day, func.count(CampaignReward.id), func.sum(CampaignReward.cost_rial))
        .select_from(CampaignReward)
        .outerjoin(ValueLot, ValueLot.id == CampaignReward.lot_id)
        .where(
            CampaignReward.campaign_id == campaign_id,
            at >= start_of_tehran_day(first),
            at < start_of_tehran_day(last + dt.timedelta(days=1)),
        )
        .group_by(day)
    )
    return {as_date(d): (int(n or 0), int(cost or 0)) for d, n, cost in rows.all()}
