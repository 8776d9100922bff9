"""The console's campaign and lottery tables a page at a time, and a drawn lottery re-run
on the hub from what it published (issue 17), on SQLite and on PostgreSQL: each scoped to
mall marketing, a bad page a typed problem."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.api.schema import schema
from hub.db.models import Lottery
from hub.services import campaigns, lotteries, registry
from mallnet.auth import Principal
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.scopes import Scope

from .test_hub_problems import _Request
from .test_lottery_paging import ENTRANTS
from .test_lottery_paging import _drawn_lottery as frozen_lottery
from .test_mall_console_api import _execute, sessions

__all__ = ["sessions"]  # the fixture, shared

BOOKS = "ketab-sara"
MARKETING = Principal("mall:3", "console", frozenset({Scope.MALL_CAMPAIGNS}))
NODE = Principal(f"node:{BOOKS}", f"node-{BOOKS}", frozenset({Scope.NODE_FEDERATE}), BOOKS)

CAMPAIGNS = """query($first: Int!, $offset: Int!) { campaignPage(first: $first, offset: $offset) {
  __typename ... on CampaignPage { total items { nameFa budgetRial shops { shop status } } }
  ... on HubProblem { code field } } }"""
LOTTERIES = """query($first: Int!, $offset: Int!) { lotteryPage(first: $first, offset: $offset) {
  __typename ... on LotteryPage { total items { id status commitment } }
  ... on HubProblem { code field } } }"""
VERIFY = """query($id: String!) { verifyLottery(lotteryId: $id) { __typename
  ... on LotteryVerification { lotteryId entrants matches differences }
  ... on HubProblem { code field } } }"""


async def _ok(
    sessions: async_sessionmaker[AsyncSession], user: Principal, document: str, **variables: Any
) -> Any:
    result = await _execute(sessions, user, document, **variables)
    assert result.errors is None, result.errors
    return next(iter(result.data.values()))


async def _campaigns(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        await registry.register_shop(
            session, registry.ShopInput(BOOKS, "کتاب‌سرا", "Ketab Sara", "books")
        )
        for n in range(count):
            data = campaigns.CampaignInput(
                name_fa=f"کمپین {n}",
                name_en=f"campaign {n}",
                starts_at=now + dt.timedelta(days=1),
                ends_at=now + dt.timedelta(days=8),
                shops=[BOOKS],
                reward={"pooled_multiplier_bp": 20_000},
                budget_rial=10_000_000 * (n + 1),
                cost_rule="equal",
            )
            await campaigns.create(session, data, "mall:3")


async def test_campaigns_page_newest_first_with_the_total(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given three campaigns,
    await _campaigns(sessions, 3)
    # when mall marketing reads them two at a time,
    first = await _ok(sessions, MARKETING, CAMPAIGNS, first=2, offset=0)
    rest = await _ok(sessions, MARKETING, CAMPAIGNS, first=2, offset=2)
    # then the pages hold every campaign once, newest first, each with its invitations,
    assert first["total"] == rest["total"] == 3
    names = [c["nameFa"] for c in first["items"] + rest["items"]]
    assert sorted(names) == ["کمپین 0", "کمپین 1", "کمپین 2"]
    assert len(first["items"]) == 2
    assert len(rest["items"]) == 1
    assert first["items"][0]["shops"] == [{"shop": BOOKS, "status": "invited"}]
    # one campaign reads by its id (an unknown one is null),
    one = """query($id: String!) { campaign(campaignId: $id) { id nameFa } }"""
    campaign_id = (await _ok(sessions, MARKETING, "{ campaigns { id nameFa } }"))[0]["id"]
    assert (await _ok(sessions, MARKETING, one, id=campaign_id))["id"] == campaign_id
    assert await _ok(sessions, MARKETING, one, id="C-none") is None
    # a page too large is a typed problem,
    refused = await _ok(sessions, MARKETING, CAMPAIGNS, first=101, offset=0)
    assert refused == {"__typename": "InvalidInput", "code": "INVALID_INPUT", "field": "first"}
    negative = await _ok(sessions, MARKETING, LOTTERIES, first=5, offset=-1)
    assert negative["field"] == "offset"
    # and a shop's node may not read the mall's tables.
    for document in (CAMPAIGNS, LOTTERIES):
        result = await _execute(sessions, NODE, document, first=5, offset=0)
        assert result.data is None
        assert result.errors


async def _drawn_lottery(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The large lottery of the paging test, frozen and then drawn by the hub's service."""
    engine = sessions.kw["bind"]
    await frozen_lottery(engine.url.render_as_string(hide_password=False))
    async with sessions() as session, session.begin():
        await lotteries.finish_draw(session, "L-BIG", utcnow())
    return "L-BIG"


async def test_a_drawn_lottery_verifies_on_the_hub_and_a_changed_record_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given a drawn lottery,
    lottery_id = await _drawn_lottery(sessions)
    listed = await _ok(sessions, MARKETING, LOTTERIES, first=10, offset=0)
    assert listed["total"] == 1
    assert listed["items"][0]["status"] == "drawn"
    # when mall marketing asks the hub to re-run it, it matches,
    verified = await _ok(sessions, MARKETING, VERIFY, id=lottery_id)
    assert verified == {
        "__typename": "LotteryVerification",
        "lotteryId": lottery_id,
        "entrants": ENTRANTS,
        "matches": True,
        "differences": [],
    }
    # but a record whose winner was changed after the draw does not;
    async with sessions() as session, session.begin():
        row = await session.get(Lottery, lottery_id)
        assert row is not None
        assert row.record is not None
        winners = [{**w, "position": w["position"] + 1} for w in row.record["winners"]]
        row.record = {**row.record, "winners": winners}
    changed = await _ok(sessions, MARKETING, VERIFY, id=lottery_id)
    assert changed["matches"] is False
    assert changed["differences"][0].startswith("winner 1: published")
    # an unknown lottery is a typed problem, and the check is for mall marketing only.
    missing = await _ok(sessions, MARKETING, VERIFY, id="L-none")
    assert missing["code"] == "NOT_FOUND"
    refused = await _execute(sessions, NODE, VERIFY, id=lottery_id)
    assert refused.data is None
    assert refused.errors


async def test_an_open_lottery_cannot_be_verified_yet(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lottery_id = await _drawn_lottery(sessions)
    async with sessions() as session, session.begin():
        row = await session.get(Lottery, lottery_id)
        assert row is not None
        row.record = None
    answer = await _ok(sessions, MARKETING, VERIFY, id=lottery_id)
    assert answer == {"__typename": "NotDrawn", "code": "NOT_DRAWN", "field": "lotteryId"}


DRAW = """mutation($id: String!) { drawLottery(lotteryId: $id) { __typename
  ... on LotteryView { status stage } ... on HubProblem { code } } }"""


async def test_a_draw_stopped_before_the_winners_were_told_is_asked_for_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given a lottery drawn but whose winners were not told (its worker stopped there),
    lottery_id = await _drawn_lottery(sessions)
    queued: list[tuple[str, ...]] = []

    async def enqueue(name: str, *args: str) -> None:
        queued.append((name, *args))

    state = SimpleNamespace(sessions=sessions, settings=Settings(), enqueue=enqueue)
    context = {"request": _Request(MARKETING), "state": state}
    # when mall marketing asks for the draw again, the worker is sent to finish it,
    again = await schema.execute(DRAW, variable_values={"id": lottery_id}, context_value=context)
    assert again.data == {
        "drawLottery": {"__typename": "LotteryView", "status": "drawn", "stage": "drawn"}
    }
    assert queued == [("hub.draw_lottery", lottery_id)]
    # but once it is done, asking again sends nothing.
    async with sessions() as session, session.begin():
        row = await session.get(Lottery, lottery_id)
        assert row is not None
        row.stage, row.progress_pct = "done", 100  # as notify_winners leaves it
    done = await schema.execute(DRAW, variable_values={"id": lottery_id}, context_value=context)
    assert done.data == {
        "drawLottery": {"__typename": "LotteryView", "status": "drawn", "stage": "done"}
    }
    assert queued == [("hub.draw_lottery", lottery_id)]
