"""Lotteries and joint campaigns at the hub against a real database: tickets once per
purchase, refunds before the draw, the commit-reveal draw re-run from what was published,
the campaign budget never exceeded (also under concurrent purchases on PostgreSQL), and
campaign costs billed to the participating shops at settlement."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CampaignReward, InboxCommand, Lottery, LotteryEntrant, LotteryEntry
from hub.domain import draw
from hub.domain.value_rules import POOLED
from hub.services import campaign_report, campaigns, lotteries, sales, settlement, value
from mallnet.db import create_engine, engine_scope, session_factory, utcnow
from mallnet.messaging import FileSender

from ..conftest import HubDatabases
from .test_network_value import Hub, new_pseudonym, prepare_hub

BOOKS, SHOES, CAFE = "ketab-sara", "kafsh-arya", "kafe-gol"


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    """A hub with the test shops, on SQLite and on PostgreSQL."""
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


def window(hours: int = 2) -> tuple[dt.datetime, dt.datetime]:
    now = utcnow()
    return now - dt.timedelta(hours=1), now + dt.timedelta(hours=hours)


async def new_lottery(hub: Hub, **rules: Any) -> Lottery:
    starts, ends = window()
    data = lotteries.LotteryInput(
        name_fa="قرعه‌کشی یلدا",
        name_en="Yalda draw",
        starts_at=starts,
        ends_at=ends,
        draw_at=ends,
        shops=[BOOKS, SHOES, CAFE],
        rules={"rial_per_ticket": 100_000, **rules},
        prizes=[
            {"count": 1, "description_fa": "دوچرخه", "sponsor": SHOES},
            {"count": 2, "description_fa": "کارت هدیه"},
        ],
    )
    row = await hub.run(lambda s: lotteries.create(s, data, "test:marketing"))
    for shop, accept in ((BOOKS, True), (SHOES, True), (CAFE, False)):
        await hub.run(lambda s, sh=shop, a=accept: lotteries.respond(s, row.id, sh, a))
    return row


async def entrant_ids(hub: Hub, lottery_id: str) -> dict[str, str]:
    """Each shopper's entrant id in the lottery, as only the hub knows it."""

    async def read(session: AsyncSession) -> dict[str, str]:
        rows = await session.execute(
            select(LotteryEntrant.pseudonym, LotteryEntrant.entrant_id).where(
                LotteryEntrant.lottery_id == lottery_id
            )
        )
        return {str(who): str(entrant) for who, entrant in rows.all()}

    return await hub.run(read)


async def buy(hub: Hub, shop: str, who: str, rial: int, event: str, receipt: str = "") -> int:
    return await hub.run(
        lambda s: lotteries.enter_purchase(s, shop, event, receipt or event, who, rial, utcnow())
    )


async def test_tickets_come_once_per_purchase_at_participants_and_refunds_take_them_back(
    hub: Hub,
) -> None:
    lottery = await new_lottery(hub, bonus_per_shop=1, max_per_shopper=9)
    ali, reza = sorted([new_pseudonym(), new_pseudonym()])
    assert await buy(hub, BOOKS, ali, 350_000, "E1") == 1
    assert await buy(hub, BOOKS, ali, 350_000, "E1") == 1  # the same event again
    assert await buy(hub, SHOES, ali, 120_000, "E2") == 1
    assert await buy(hub, CAFE, ali, 900_000, "E3") == 0  # the café declined
    assert await buy(hub, BOOKS, reza, 2_000_000, "E4") == 1

    async def entries(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(LotteryEntry)) or 0)

    assert await hub.run(entries) == 3
    # One entrant id each, made at her first purchase: random, not her pseudonym.
    ids = await entrant_ids(hub, lottery.id)
    assert set(ids) == {ali, reza}
    assert len(set(ids.values())) == 2
    assert not set(ids.values()) & {ali, reza}
    row = await hub.run(lambda s: lotteries.get(s, lottery.id))
    # Ali: 470,000 Rial -> 4 tickets, +1 per shop (2) = 6. Reza: 20 + 1 = 21, capped at 9.
    assert await hub.run(lambda s: lotteries.standings(s, row)) == sorted([(ali, 6), (reza, 9)])
    # A refund at the shoe shop before the draw: the 120,000 and that shop's bonus go.
    await hub.run(lambda s: lotteries.refund_purchase(s, SHOES, "E2", 120_000))
    assert dict(await hub.run(lambda s: lotteries.standings(s, row)))[ali] == 4


async def test_the_draw_is_committed_frozen_published_and_reproducible(
    hub: Hub, tmp_path: Path
) -> None:
    lottery = await new_lottery(hub)
    shoppers = sorted(new_pseudonym() for _ in range(12))
    for i, who in enumerate(shoppers):
        await buy(hub, BOOKS if i % 2 else SHOES, who, 100_000 * (i + 1), f"E{i}")
    with pytest.raises(lotteries.LotteryError) as early:
        await hub.run(lambda s: lotteries.begin_draw(s, lottery.id, lottery.draw_at))
    assert early.value.code == "NO_PUBLIC_VALUE"
    await hub.run(lambda s: lotteries.set_public_value(s, lottery.id, "TSE index 2,345,678"))
    with pytest.raises(lotteries.LotteryError) as too_early:
        await hub.run(lambda s: lotteries.begin_draw(s, lottery.id, utcnow()))
    assert too_early.value.code == "TOO_EARLY"

    # The draw time has come (moved here rather than waiting for it).
    async def due(session: AsyncSession) -> None:
        row = await lotteries.get(session, lottery.id)
        row.ends_at = row.draw_at = utcnow() - dt.timedelta(seconds=1)

    await hub.run(due)
    outbox = tmp_path / "sms.jsonl"
    drawn = await lotteries.run_draw(hub.sessions, lottery.id, FileSender(outbox))
    assert (drawn.status, drawn.stage, drawn.progress_pct) == ("drawn", "done", 100)
    assert drawn.record is not None
    assert drawn.record["commitment"] == lottery.commitment  # published at creation
    assert len(drawn.record["winners"]) == 3  # places 1 to 3, in drawn order
    assert len({w["entrant_id"] for w in drawn.record["winners"]}) == 3
    # Anyone re-runs it from what was published: the record and the frozen list.
    tickets = await hub.run(lambda s: lotteries.ticket_page(s, lottery.id, 0, 1000))
    published = {**drawn.record, "tickets": [(p, t) for _i, p, t in tickets]}
    assert draw.verify(published) == []
    # The list names each shopper by her entrant id, in canonical (id) order, with her
    # tickets; no pseudonym is published, in the list or in the record.
    ids = await entrant_ids(hub, lottery.id)
    now_standing = await hub.run(lambda s: lotteries.standings(s, drawn))
    assert published["tickets"] == sorted((ids[p], t) for p, t in now_standing)
    assert [p for p, _t in now_standing] == shoppers
    assert not any(p in json.dumps(published) for p in shoppers)
    forged = {**published, "public_value": "another value"}
    assert draw.verify(forged) != []
    # A second run of the task changes nothing and sends nothing again.
    again = await lotteries.run_draw(hub.sessions, lottery.id, FileSender(outbox))
    assert again.record == drawn.record
    # No winner signed in to the app here, so the hub sends no SMS itself: the shop where
    # each bought (it has the phone) is asked to, through its inbox — once.
    assert not outbox.exists()

    async def notices(session: AsyncSession) -> list[tuple[str, str]]:
        rows = await session.execute(select(InboxCommand.node, InboxCommand.type))
        return sorted((node, kind) for node, kind in rows.all())

    shopper_of = {entrant: who for who, entrant in ids.items()}
    winners = {shopper_of[w["entrant_id"]]: i for i, w in enumerate(drawn.record["winners"])}
    expected = sorted(
        (BOOKS if shoppers.index(p) % 2 else SHOES, "command.notify_member") for p in winners
    )
    assert await hub.run(notices) == expected
    # The shoe shop sponsors the first prize and hands it over; nobody else may.
    with pytest.raises(
        lotteries.LotteryError, match="another shop hands this prize over"
    ) as not_theirs:
        await hub.run(lambda s: lotteries.claim_prize(s, lottery.id, 1, BOOKS, "staff"))
    assert not_theirs.value.code == "FORBIDDEN"
    claim = await hub.run(lambda s: lotteries.claim_prize(s, lottery.id, 1, SHOES, "staff"))
    assert (claim.place, claim.shop) == (1, SHOES)
    mine = await hub.run(lambda s: lotteries.tickets_of(s, shoppers[0]))
    assert [(e.lottery.id, e.tickets, e.entrant_id) for e in mine] == [
        (lottery.id, 1, ids[shoppers[0]])
    ]


async def new_campaign(hub: Hub, budget: int, **reward: Any) -> str:
    starts, ends = window()
    data = campaigns.CampaignInput(
        name_fa="جشنواره پاییز",
        name_en="Autumn festival",
        starts_at=starts,
        ends_at=ends,
        shops=[BOOKS, SHOES],
        reward={"pooled_multiplier_bp": 20_000, **reward},
        budget_rial=budget,
        cost_rule="equal",
    )
    row = await hub.run(lambda s: campaigns.create(s, data, "test:marketing"))
    for shop in (BOOKS, SHOES):
        await hub.run(lambda s, sh=shop: lotteries.respond(s, row.id, sh, True))
    return row.id


async def purchase(hub: Hub, shop: str, who: str, points: int, event: str) -> list[CampaignReward]:
    """A purchase whose shop policy issued ``points`` pooled points (1,000 Rial each)."""
    lot = await hub.issue(who, POOLED, points, issuer=shop, rate=1_000)
    bought = campaigns.Purchase(shop, event, event, who, 1_000_000, utcnow(), [lot])
    return await hub.run(lambda s: campaigns.apply_purchase(s, bought))


async def test_a_campaign_multiplies_pooled_points_until_its_budget_is_spent(hub: Hub) -> None:
    campaign = await new_campaign(hub, budget=25_000, visit_bonus_shops=2, visit_bonus_points=3)
    ali = new_pseudonym()
    given = await purchase(hub, BOOKS, ali, 10, "E1")
    assert [(g.kind, g.cost_rial) for g in given] == [("multiplier", 10_000)]
    given = await purchase(hub, SHOES, ali, 10, "E2")  # a second shop: the visits bonus too
    assert [(g.kind, g.cost_rial) for g in given] == [
        ("multiplier", 10_000),
        ("visit_bonus", 3_000),
    ]
    # 23,000 spent of 25,000: the next multiplier (10,000) gets what is left (2 points)
    # and the campaign stops there.
    given = await purchase(hub, BOOKS, ali, 10, "E3")
    assert [(g.kind, g.cost_rial) for g in given] == [("multiplier", 2_000)]
    row = await hub.run(lambda s: campaigns.get(s, campaign))
    assert (row.spent_rial, row.status) == (25_000, "stopped")
    assert await purchase(hub, SHOES, ali, 10, "E4") == []
    lots = await hub.lots(ali)
    assert {lot.issuer_shop for lot in lots} >= {f"campaign:{campaign}"}

    async def sell(session: AsyncSession) -> None:
        await sales.record(session, BOOKS, utcnow(), 500_000, 1)
        await sales.record(session, CAFE, utcnow(), 900_000, 1)  # not a participant
        await sales.record(session, SHOES, utcnow() - dt.timedelta(weeks=1), 200_000, 1)

    await hub.run(sell)
    report = await hub.run(lambda s: campaign_report.report(s, campaign))
    assert (report.participants, report.rewards, report.cost_rial) == (1, 4, 25_000)
    # 500,000 during it; the same weekdays of the 4 weeks before averaged 200,000 / 4.
    assert (report.sales_rial, report.baseline_rial, report.incremental_rial) == (
        500_000,
        50_000,
        450_000,
    )
    assert str(report.cost_per_incremental_rial) == "0.0556"

    # Spent at the café (with the shops' own 40 points), the campaign's value is billed to
    # its shops equally at the close.
    held = await hub.hold(CAFE, ali, 65_000)
    await hub.purchase(CAFE, held.hold.id)

    async def close(session: AsyncSession) -> Any:
        period = await settlement.cut(session, "test")
        return (await settlement.close(session, period.id, "test")).period

    period = await hub.run(close)
    shares = period.result["campaign_shares"][f"campaign:{campaign}"]
    assert shares == {BOOKS: 12_500, SHOES: 12_500}
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []


@pytest.mark.postgres
async def test_concurrent_purchases_never_exceed_a_campaigns_budget(
    pg_hub_databases: HubDatabases,
) -> None:
    engine = create_engine((await pg_hub_databases.new(prepare_hub)).url)
    try:
        hub = Hub(session_factory(engine))
        campaign = await new_campaign(hub, budget=50_000)
        shoppers = [new_pseudonym() for _ in range(20)]
        lots = [await hub.issue(who, POOLED, 10, issuer=BOOKS, rate=1_000) for who in shoppers]

        async def one(i: int) -> list[CampaignReward]:
            bought = campaigns.Purchase(
                BOOKS, f"E{i}", f"R{i}", shoppers[i], 10**6, utcnow(), [lots[i]]
            )
            return await hub.run(lambda s: campaigns.apply_purchase(s, bought))

        results = await asyncio.gather(*(one(i) for i in range(20)))
        given = [r for batch in results for r in batch]
        assert len(given) == 5  # 10,000 each: exactly five fit in 50,000
        row = await hub.run(lambda s: campaigns.get(s, campaign))
        assert row.spent_rial == 50_000
        assert row.status == "stopped"
    finally:
        await engine.dispose()


def test_the_published_record_is_json(tmp_path: Path) -> None:
    tickets = draw.TicketList.from_pairs([("ab" * 32, 3), ("cd" * 32, 1)])
    result = draw.draw(b"s" * 32, "public", tickets, 1)
    assert json.loads(json.dumps(draw.published_record(result)))["winners"]


async def test_a_refund_takes_the_campaigns_reward_back_with_the_shops_own(hub: Hub) -> None:
    from federation.envelope import PurchaseRefunded

    await new_campaign(hub, budget=10**9)
    ali = new_pseudonym()
    lot = await hub.issue(ali, POOLED, 10, issuer=BOOKS, rate=1_000, origin="receipt:ketab-sara:R9")
    bought = campaigns.Purchase(BOOKS, "E9", "R9", ali, 1_000_000, utcnow(), [lot])
    [reward] = await hub.run(lambda s: campaigns.apply_purchase(s, bought))
    refund = PurchaseRefunded(
        receipt_id="R9",
        refund_id="RF9",
        pseudonym=ali,
        amount_rial=1_000_000,
        purchase_total_rial=1_000_000,
    )
    await hub.run(lambda s: value.clawback_for_refund(s, BOOKS, refund, utcnow()))
    lots = {x.id: x for x in await hub.lots(ali)}
    assert lots[reward.lot_id].remaining == 0  # the campaign's 10 extra points went back
    assert lots[lot.id].remaining == 0


async def test_the_draw_refuses_a_seed_other_than_the_one_committed_to(hub: Hub) -> None:
    lottery = await new_lottery(hub)
    await buy(hub, BOOKS, new_pseudonym(), 500_000, "E1")
    await hub.run(lambda s: lotteries.set_public_value(s, lottery.id, "index 1,234"))
    with pytest.raises(lotteries.LotteryError) as twice:
        await hub.run(lambda s: lotteries.set_public_value(s, lottery.id, "a better one"))
    assert twice.value.code == "ALREADY_SET"
    with pytest.raises(lotteries.LotteryError) as early:
        await hub.run(lambda s: lotteries.progress(s, lottery.id, "queued", 5))
    assert early.value.code == "TOO_EARLY"
    # A shop that accepted cannot leave once the lottery has begun.
    with pytest.raises(lotteries.LotteryError) as final:
        await hub.run(lambda s: lotteries.respond(s, lottery.id, BOOKS, False))
    assert final.value.code == "ANSWER_FINAL"

    async def due_and_tampered(session: AsyncSession) -> None:
        row = await lotteries.get(session, lottery.id)
        row.ends_at = row.draw_at = utcnow() - dt.timedelta(seconds=1)
        row.seed_hex = draw.new_seed().hex()  # someone swaps the secret seed

    await hub.run(due_and_tampered)
    with pytest.raises(lotteries.LotteryError) as tampered:
        await lotteries.run_draw(hub.sessions, lottery.id, FileSender(Path("/dev/null")))
    assert tampered.value.code == "TAMPERED"
    row = await hub.run(lambda s: lotteries.get(s, lottery.id))
    assert row.record is None


async def test_a_long_campaign_is_compared_with_weeks_before_it_not_with_itself(hub: Hub) -> None:
    data = campaigns.CampaignInput(
        name_fa="دو هفته",
        name_en="Two weeks",
        starts_at=utcnow() - dt.timedelta(days=13),
        ends_at=utcnow() + dt.timedelta(hours=1),
        shops=[BOOKS],
        reward={},
        budget_rial=1,
        cost_rule="mall",
    )
    row = await hub.run(lambda s: campaigns.create(s, data, "test"))
    await hub.run(lambda s: lotteries.respond(s, row.id, BOOKS, True))

    async def flat(session: AsyncSession) -> None:
        for day in range(-130, 2):  # the same sales every day, before and during
            await sales.record(session, BOOKS, utcnow() + dt.timedelta(days=day), 100_000, 1)

    await hub.run(flat)
    report = await hub.run(lambda s: campaign_report.report(s, row.id))
    assert report.incremental_rial == 0
    assert report.sales_rial == report.baseline_rial > 0
