"""A joint campaign's sponsors, on SQLite and on PostgreSQL: shops (invited or not) that pay
its cost by its rule instead of the shops that accepted it — named over GraphQL and shown
back (a sponsoring shop's node sees the campaign), bad sponsors a typed problem that writes
nothing, and the cost split among the sponsors at the close (by their own sales for
"sales_share"). And migration hub_0026 down and up again with campaigns in place."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Campaign, CampaignShop, CampaignVisit
from hub.services import campaigns, lotteries, sales, settlement
from mallnet.auth import Principal
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import alembic_config, upgrade
from mallnet.scopes import Scope

from ..conftest import HubDatabases
from .test_lotteries import hub, window
from .test_mall_console_api import _execute
from .test_network_value import Hub, new_pseudonym, prepare_hub
from .test_settlement import close_now, spend

__all__ = ["hub"]  # the fixture, shared

BOOKS, SHOES, CAFE, NOU = "ketab-sara", "kafsh-arya", "kafe-gol", "ketab-nou"
MARKETING = Principal("mall:3", "console", frozenset({Scope.MALL_CAMPAIGNS}))
CAFE_NODE = Principal(f"node:{CAFE}", f"node-{CAFE}", frozenset({Scope.NODE_FEDERATE}), CAFE)

CREATE = """mutation($input: CampaignInput!) { createCampaign(input: $input) { __typename
  ... on CampaignView { id costRule sponsors shops { shop } }
  ... on HubProblem { code field message } } }"""
ONE = """query($id: String!) { campaign(campaignId: $id) { sponsors } }"""


def _input(**changes: Any) -> dict[str, Any]:
    return {
        "nameFa": "جشنواره پاییز",
        "starts": "1405/09/20 10:00",
        "ends": "1405/09/27 22:00",
        "shops": [BOOKS, SHOES],
        "reward": {"pooledMultiplierBp": 20_000},
        "budgetRial": "50000000",
        "costRule": "sales_share",
        **changes,
    }


async def _written(hub: Hub) -> tuple[int, int]:
    async def count(session: AsyncSession) -> tuple[int, int]:
        made = await session.scalar(select(func.count()).select_from(Campaign))
        invited = await session.scalar(select(func.count()).select_from(CampaignShop))
        return int(made or 0), int(invited or 0)

    return await hub.run(count)


async def test_sponsors_are_named_at_creation_and_shown_back(hub: Hub) -> None:
    # Given mall marketing names the café, not invited, and the shoe shop as sponsors,
    answer = await _execute(hub.sessions, MARKETING, CREATE, input=_input(sponsors=[CAFE, SHOES]))
    assert answer.errors is None, answer.errors
    made = answer.data["createCampaign"]
    # then the campaign keeps them (in slug order) beside the shops it invited,
    assert made["__typename"] == "CampaignView"
    assert made["sponsors"] == [CAFE, SHOES]
    assert sorted(s["shop"] for s in made["shops"]) == [SHOES, BOOKS]
    again = await _execute(hub.sessions, MARKETING, ONE, id=made["id"])
    assert again.data == {"campaign": {"sponsors": [CAFE, SHOES]}}
    # and the café's node, which pays for it, sees it among its campaigns.
    seen = await _execute(hub.sessions, CAFE_NODE, "{ campaigns { id sponsors } }")
    assert seen.errors is None, seen.errors
    assert seen.data == {"campaigns": [{"id": made["id"], "sponsors": [CAFE, SHOES]}]}
    # A campaign without sponsors has none.
    plain = await _execute(hub.sessions, MARKETING, CREATE, input=_input())
    assert plain.data["createCampaign"]["sponsors"] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sponsors": [CAFE, "no-such-shop"]}, "unknown: ['no-such-shop']"),
        ({"sponsors": [CAFE, SHOES, CAFE]}, "a sponsor is named twice"),
        ({"sponsors": [CAFE], "costRule": "mall"}, "the mall pays this campaign"),
    ],
)
async def test_bad_sponsors_are_a_typed_problem_and_write_nothing(
    hub: Hub, changes: dict[str, Any], message: str
) -> None:
    answer = await _execute(hub.sessions, MARKETING, CREATE, input=_input(**changes))
    assert answer.errors is None, answer.errors
    problem = answer.data["createCampaign"]
    assert (problem["__typename"], problem["code"], problem["field"]) == (
        "InvalidInput",
        "INVALID_INPUT",
        "sponsors",
    )
    assert message in problem["message"]
    assert await _written(hub) == (0, 0)


async def _campaign(hub: Hub, rule: str, sponsors: list[str]) -> str:
    starts, ends = window()
    data = campaigns.CampaignInput(
        name_fa="یلدا",
        name_en="Yalda",
        starts_at=starts,
        ends_at=ends,
        shops=[BOOKS, SHOES],
        reward={"pooled_multiplier_bp": 20_000},
        budget_rial=10**9,
        cost_rule=rule,
        sponsors=sponsors,
    )
    row = await hub.run(lambda s: campaigns.create(s, data, "test:marketing"))

    async def accept(session: AsyncSession) -> None:
        for shop in (BOOKS, SHOES):
            await lotteries.respond(session, row.id, shop, True)

    await hub.run(accept)
    return row.id


@pytest.mark.parametrize(
    ("rule", "shares"),
    [
        # The sponsors' own sales in the period, 300,000 to 100,000: 3 to 1. The shops
        # that accepted sold far more and pay nothing.
        ("sales_share", {CAFE: 30_000, NOU: 10_000}),
        ("equal", {CAFE: 20_000, NOU: 20_000}),
    ],
)
async def test_the_sponsors_pay_the_campaigns_cost_at_the_close(
    hub: Hub, rule: str, shares: dict[str, int]
) -> None:
    # Given a campaign the book and shoe shops accepted, sponsored by the café (not
    # invited) and the other bookshop,
    campaign = await _campaign(hub, rule, [NOU, CAFE])

    async def sell(session: AsyncSession) -> None:
        await sales.record(session, CAFE, utcnow(), 300_000, 1)
        await sales.record(session, NOU, utcnow(), 100_000, 1)
        await sales.record(session, BOOKS, utcnow(), 5_000_000, 3)

    await hub.run(sell)
    # when 40,000 Rial of its value is spent at the shoe shop and the period closes,
    await spend(hub, f"campaign:{campaign}", SHOES, 40_000)
    period = await close_now(hub)
    # then the sponsors pay it by the rule, the shoe shop is paid, the participants owe
    # nothing for it,
    assert period.result is not None
    assert period.result["campaign_shares"] == {f"campaign:{campaign}": shares}
    assert period.result["positions"] == {
        SHOES: 40_000,
        "fund": 0,
        **{shop: -share for shop, share in shares.items()},
    }
    assert period.result["campaign_rules"] == [
        {"issuer": f"campaign:{campaign}", "rule": rule, "shops": [CAFE, NOU]}
    ]
    # and the audit re-derives the same close from what it stored.
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []


def _downgrade(connection: Connection, target: str) -> None:
    config = alembic_config("hub")
    config.attributes["connection"] = connection
    command.downgrade(config, target)


def _shape(connection: Connection) -> tuple[bool, set[str]]:
    schema = inspect(connection)
    columns = {c["name"] for c in schema.get_columns("campaigns")}
    indexes = {
        i["name"] or ""
        for table in ("shoppers", "memberships", "referrals")
        for i in schema.get_indexes(table)
    }
    return "sponsors" in columns, indexes


async def test_migration_0026_goes_down_and_up_with_campaigns_in_place(
    hub_databases: HubDatabases,
) -> None:
    # Given a hub with a sponsored campaign, a shopper's visit pointing at it,
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        campaign = await _campaign(service, "equal", [CAFE])

        async def visit(session: AsyncSession) -> None:
            session.add(CampaignVisit(campaign_id=campaign, pseudonym=new_pseudonym(), shop=BOOKS))

        await service.run(visit)
        new = {"ix_shoppers_created_at", "ix_memberships_joined_at", "ix_referrals_created_at"}
        # when the migration is undone, the column and the three indexes go, rows stay;
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, "hub_0025_local_balance_tiers")
        async with engine.connect() as conn:
            has_sponsors, indexes = await conn.run_sync(_shape)
            assert not has_sponsors
            assert not indexes & new
            kept = await conn.scalar(select(func.count()).select_from(CampaignVisit.__table__))
            assert kept == 1
    # and done again, they are back and the campaign has no sponsors.
    assert await upgrade("hub", url, "hub_0026_campaign_sponsors") == "hub_0026_campaign_sponsors"
    async with engine_scope(url) as engine, engine.connect() as conn:
        has_sponsors, indexes = await conn.run_sync(_shape)
        assert has_sponsors
        assert indexes >= new
        sponsors = await conn.scalar(select(Campaign.sponsors).where(Campaign.id == campaign))
        assert sponsors == []
