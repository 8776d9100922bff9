"""A joint campaign's report per Tehran day, on SQLite and on PostgreSQL: for a fixed clock
and purchases at known moments, each day so far has the sales of the shops that accepted,
its weekday's baseline over the four weeks before (averaged, cut down), and the rewards
given for that day's purchases with their cost — a purchase at half past midnight Tehran
time on its Tehran day, not its UTC one. The series stops at today, is empty before the
campaign starts, keeps the latest 92 days of a longer one, and reads the same over
GraphQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CampaignReward, CampaignShop
from hub.domain.value_rules import POOLED
from hub.services import campaign_report, campaigns, sales
from mallnet.auth import Principal
from mallnet.db import utcnow
from mallnet.jalali import TEHRAN, tehran_date
from mallnet.scopes import Scope

from .test_lotteries import hub
from .test_mall_console_api import _execute
from .test_network_value import Hub

__all__ = ["hub"]  # the fixture, shared

BOOKS, SHOES, CAFE = "ketab-sara", "kafsh-arya", "kafe-gol"
REPORTS = Principal("mall:4", "console", frozenset({Scope.MALL_REPORTS}))
# Day 0 of the campaign: a Tehran day six weeks ago (the hub's own clock is not frozen,
# so the campaign lies in the past and every reward's value is still valid).
DAY0 = tehran_date(utcnow()) - dt.timedelta(weeks=6)
ALI, REZA = "a" * 64, "b" * 64


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """``hour:minute`` Tehran time on the campaign's day ``day`` (negative: before it)."""
    moment = dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(hour, minute), TEHRAN)
    return moment.astimezone(dt.UTC)


async def new_campaign(hub: Hub, starts: dt.datetime, ends: dt.datetime) -> str:
    data = campaigns.CampaignInput(
        name_fa="ده روز",
        name_en="Ten days",
        starts_at=starts,
        ends_at=ends,
        shops=[BOOKS, SHOES, CAFE],
        reward={"pooled_multiplier_bp": 20_000, "visit_bonus_shops": 2, "visit_bonus_points": 3},
        budget_rial=10**9,
        cost_rule="equal",
    )
    row = await hub.run(lambda s: campaigns.create(s, data, "test:marketing"))

    async def answer(session: AsyncSession) -> None:
        # As the shops answered before it began (the hub refuses answers after it ends).
        for shop, status in ((BOOKS, "accepted"), (SHOES, "accepted"), (CAFE, "declined")):
            await session.execute(
                update(CampaignShop)
                .where(CampaignShop.event_id == row.id, CampaignShop.shop == shop)
                .values(status=status, responded_at=starts - dt.timedelta(days=1))
            )

    await hub.run(answer)
    return row.id


async def buy(hub: Hub, shop: str, who: str, points: int, when: dt.datetime) -> list[Any]:
    """A purchase of 1,000,000 Rial at ``when`` whose shop issued ``points`` pooled points
    (1,000 Rial each): the campaign doubles them."""
    lot = await hub.issue(who, POOLED, points, issuer=shop, rate=1_000, now=when)
    event = f"E-{shop}-{when.timestamp():.0f}"
    bought = campaigns.Purchase(shop, event, event, who, 1_000_000, when, [lot])
    given: list[CampaignReward] = await hub.run(lambda s: campaigns.apply_purchase(s, bought))
    return [(g.kind, g.cost_rial) for g in given]


async def sell(hub: Hub, *sold: tuple[str, dt.datetime, int]) -> None:
    async def work(session: AsyncSession) -> None:
        for shop, when, rial in sold:
            await sales.record(session, shop, when, rial, 1)

    await hub.run(work)


async def ten_days(hub: Hub) -> str:
    """Days 0 to 10 (09:00 on day 0 to 09:00 on day 10): 11 Tehran days, so its baseline
    weeks lie 2, 4, 6 and 8 weeks back. Sales and purchases on days 0-2 and on day 4."""
    campaign = await new_campaign(hub, at(0, 9), at(10, 9))
    await sell(
        hub,
        (BOOKS, at(0, 12), 400_000),
        (SHOES, at(1, 0, 30), 250_000),  # 21:00 UTC the day before: still Tehran day 1
        (CAFE, at(1, 12), 900_000),  # it declined: not counted
        (BOOKS, at(2, 18), 100_000),
        (BOOKS, at(4, 11), 70_000),  # after "today" in the series below
        # Baselines: day 0 is compared with days -14, -28, -42 and -56.
        (BOOKS, at(-14, 10), 80_000),
        (SHOES, at(-28, 10), 40_000),
        (BOOKS, at(-56, 10), 3),
        (BOOKS, at(-13, 10), 20_000),  # day 1's
        (CAFE, at(-12, 10), 500_000),  # day 2's, but the café declined
        (BOOKS, at(-6, 10), 60_000),  # day 8's: in the total, not in the series so far
        (BOOKS, at(-1, 10), 777),  # the day before it began: nobody's baseline
    )
    assert await buy(hub, BOOKS, ALI, 10, at(0, 12)) == [("multiplier", 10_000)]
    assert await buy(hub, SHOES, ALI, 5, at(1, 0, 30)) == [
        ("multiplier", 5_000),
        ("visit_bonus", 3_000),
    ]
    assert await buy(hub, BOOKS, REZA, 7, at(2, 23)) == [("multiplier", 7_000)]
    assert await buy(hub, BOOKS, REZA, 2, at(4, 11)) == [("multiplier", 2_000)]
    return campaign


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


async def test_each_day_so_far_has_its_sales_baseline_rewards_and_cost(hub: Hub) -> None:
    # Given the ten-day campaign, read at 20:00 on its day 2,
    campaign = await ten_days(hub)
    report = await hub.run(lambda s: campaign_report.report(s, campaign, at(2, 20)))
    # then its days so far are days 0-2, each with exact figures;
    assert [
        (d.day, d.sales_rial, d.baseline_rial, d.rewards, d.cost_rial) for d in report.days
    ] == [
        (day(0), 400_000, (80_000 + 40_000 + 3) // 4, 1, 10_000),
        (day(1), 250_000, 20_000 // 4, 2, 8_000),
        (day(2), 100_000, 0, 1, 7_000),
    ]
    # and the totals still cover all its days (day 4's sale and reward included).
    assert (report.sales_rial, report.baseline_rial) == (820_000, 200_003 // 4)
    assert (report.participants, report.rewards, report.cost_rial) == (2, 5, 27_000)
    # Before it starts there is no day yet; after it ends, every day of it.
    before = await hub.run(lambda s: campaign_report.report(s, campaign, at(0, 8)))
    assert list(before.days) == []
    after = await hub.run(lambda s: campaign_report.report(s, campaign, at(30, 0)))
    assert [d.day for d in after.days] == [day(n) for n in range(11)]
    assert sum(d.sales_rial for d in after.days) == 820_000
    assert sum(d.cost_rial for d in after.days) == 27_000
    assert [d.rewards for d in after.days if d.rewards] == [1, 2, 1, 1]


async def test_a_long_campaign_shows_its_latest_92_days(hub: Hub) -> None:
    campaign = await new_campaign(hub, at(-200, 9), at(10, 9))
    report = await hub.run(lambda s: campaign_report.report(s, campaign, at(0, 20)))
    assert len(report.days) == campaign_report.MAX_SERIES_DAYS == 92
    assert (report.days[0].day, report.days[-1].day) == (day(-91), day(0))


REPORT = """query($id: String!) { campaignReport(campaignId: $id) { salesRial costRial
  days { day salesRial baselineRial rewards costRial } } }"""


async def test_the_days_read_the_same_over_graphql(hub: Hub) -> None:
    campaign = await ten_days(hub)
    answer = await _execute(hub.sessions, REPORTS, REPORT, id=campaign)
    assert answer.errors is None, answer.errors
    found = answer.data["campaignReport"]
    assert (found["salesRial"], found["costRial"]) == (820_000, 27_000)
    assert len(found["days"]) == 11  # it ended weeks ago
    assert found["days"][1] == {
        "day": day(1).isoformat(),
        "salesRial": 250_000,
        "baselineRial": 5_000,
        "rewards": 2,
        "costRial": 8_000,
    }
